"""The local stack over HTTP, as a user runs it: `patron local`, the CLI, signed webhooks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patron.http import get, post
from patron.storefront import shopify_headers
from tests.conftest import event_bytes, load_event

pytestmark = pytest.mark.e2e
PATRON = str(Path(sys.executable).parent / "patron")
SHOP = "demo-store.myshopify.com"
SECRET = "shpss_e2e_secret_0123456789abcdef"
SENDER = "orders@e2e-brand.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("patron-home")
    env = {**os.environ, "PATRON_STATE_DIR": str(home)}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    port, aws_port = free_port(), free_port()
    process = subprocess.Popen(
        [PATRON, "local", "--port", str(port), "--aws-port", str(aws_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    ready = webhooks = ""
    for line in process.stdout:  # the stack says when it serves
        if line.startswith("webhooks "):
            webhooks = line.split()[1].split("/webhooks/")[0]
        if line.startswith("ready "):
            ready = line.split()[1]
            break
    assert ready == f"http://127.0.0.1:{port}", "the local stack did not become ready"

    def cli(*args: str) -> str:
        done = subprocess.run(
            [PATRON, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    created = json.loads(cli("workspace", "create", "E2E Brand", "--json"))
    cli(
        "source",
        "add",
        created["workspace_id"],
        "--platform",
        "shopify",
        "--shop-domain",
        SHOP,
        "--secret",
        SECRET,
    )
    # the shipped flows are on from the start, as a store would have them (a flow applied
    # later is seen by the stack's stream consumers within their 30 s definitions cache)
    flows_dir = Path(__file__).resolve().parents[2] / "flows"
    applied = json.loads(cli("flow", "apply", "--workspace", created["workspace_id"], str(flows_dir)))
    yield {
        "url": ready,
        "webhook_url": webhooks,
        "cli": cli,
        "process": process,
        "flows": applied,
        "home": home,
        **created,
    }
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "stopped" in output


def eventually(check: Any, attempts: int = 300) -> Any:
    """Poll until the stream poller has applied the change (a bound, not a timing assertion)."""
    for _ in range(attempts):
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def stored_once(first_door: str, second_door: str, body: bytes, delivery_id: str) -> None:
    """POST a signed orders/create to one door, then the same again to another (a retry):
    stored the first time, a duplicate the second."""
    headers = shopify_headers(SHOP, "orders/create", SECRET, body, delivery_id)
    first = post(f"{first_door}/webhooks/shopify", body, headers)
    again = post(f"{second_door}/webhooks/shopify", body, headers)
    assert first == (200, {"status": "stored", "topic": "orders/create", "webhook_id": delivery_id})
    assert again[1]["status"] == "duplicate"


def customers_with(local: dict[str, Any], email: str) -> list[dict[str, Any]]:
    """The profiles with that email, once the stream consumer has made one (or none)."""

    def found() -> Any:
        status, answer = get(f"{local['url']}/customers?email={email}", local["api_key"])
        return answer["customers"] if status == 200 and answer["customers"] else None

    return list(eventually(found) or [])


def test_a_signed_shopify_order_shows_up_with_the_right_totals(local):
    # Given a real Shopify orders/create body, signed with the shop's secret
    body = event_bytes("shopify/orders_create.json")
    # When it is posted to the local stack, twice (a Shopify retry): then it is stored once
    stored_once(local["url"], local["url"], body, "e2e-1")
    # Then the profile appears with the right totals
    (profile,) = customers_with(local, "jane.doe@example.com")
    assert (profile["orders_count"], profile["total_spent"], profile["currency"]) == (1, "122.00", "USD")
    status, detail = get(f"{local['url']}/customers/{profile['customer_id']}", local["api_key"])
    assert status == 200 and detail["timeline"][0]["type"] == "order_placed"


def test_the_function_url_front_door_serves_the_same_webhooks(local):
    # Given the stack's local Function URL (the default front door in a region) on its own port
    assert local["webhook_url"].startswith("http://127.0.0.1:") and local["webhook_url"] != local["url"]
    # When another shopper's order is posted to it, and then again through the API route
    order = load_event("shopify/orders_create.json")
    order.update(id=order["id"] + 1, name="#1002", order_number=1002, email="url.buyer@example.com")
    order.update(contact_email="url.buyer@example.com", phone=None)
    order["customer"] = dict(order["customer"], id=order["customer"]["id"] + 1, email="url.buyer@example.com")
    order["customer"]["phone"] = None
    for address in ("billing_address", "shipping_address"):
        order[address] = dict(order[address], phone=None)
    body = json.dumps(order).encode()
    # Then it is stored once, whichever door it came through
    stored_once(local["webhook_url"], local["url"], body, "e2e-url-1")
    # and it becomes her profile
    (profile,) = customers_with(local, "url.buyer@example.com")
    assert (profile["orders_count"], profile["total_spent"]) == (1, "122.00")
    # And a tampered body and a wrong path are refused there as on the API
    headers = shopify_headers(SHOP, "orders/create", SECRET, body, "e2e-url-2")
    status, answer = post(
        f"{local['webhook_url']}/webhooks/shopify", body.replace(b"#1002", b"#9999"), headers
    )
    assert status == 401 and answer["details"]["reason"] == "bad_signature"
    assert post(f"{local['webhook_url']}/elsewhere", body, headers)[0] == 404


def burst_order(n: int) -> bytes:
    """A distinct guest order (its own id, number and address) for the burst tests."""
    order = load_event("shopify/orders_create.json")
    email = f"burst.{n}@example.com"
    order.update(id=order["id"] + 10_000 + n, name=f"#B{n}", order_number=20_000 + n, email=email)
    order.update(contact_email=email, phone=None, customer=None)
    for address in ("billing_address", "shipping_address"):
        order[address] = dict(order[address], phone=None)
    return json.dumps(order).encode()


def burst(door: str, orders: list[int]) -> list[Any]:
    """POST the orders to one front door all at once (one thread each); a connection
    reset or refusal is kept as its exception's name instead of a status."""
    from multiprocessing.pool import ThreadPool

    def deliver(n: int) -> Any:
        body = burst_order(n)
        headers = shopify_headers(SHOP, "orders/create", SECRET, body, f"e2e-burst-{n}")
        try:
            status, answer = post(f"{door}/webhooks/shopify", body, headers)
        except OSError as exc:  # URLError, ConnectionResetError, RemoteDisconnected
            return type(getattr(exc, "reason", exc)).__name__
        return status, answer.get("status") if isinstance(answer, dict) and "status" in answer else str(
            answer
        )

    with ThreadPool(len(orders)) as pool:
        return pool.map(deliver, orders)


def test_both_front_doors_answer_a_burst_of_64_deliveries(local):
    doors = {"function_url": local["webhook_url"], "api": local["url"]}
    first, second = list(range(64)), list(range(64, 128))
    # Given 64 signed deliveries of distinct orders, fired at once at each front door
    answers = {"function_url": burst(doors["function_url"], first), "api": burst(doors["api"], second)}
    # Then every one was answered 200 and stored, none reset
    assert {door: Counter(answers[door]) for door in doors} == {door: {(200, "stored"): 64} for door in doors}
    # When the same 64 are fired again at once, each at the other door (a storefront retry)
    again = {"api": burst(doors["api"], first), "function_url": burst(doors["function_url"], second)}
    # Then each is a duplicate: every order was stored exactly once (one write each)
    assert {door: Counter(again[door]) for door in doors} == {
        door: {(200, "duplicate"): 64} for door in doors
    }
    ids = [str(json.loads(burst_order(n))["id"]) for n in first + second]
    writes = order_writes(local)
    assert {i: writes.get(i) for i in ids} == dict.fromkeys(ids, 1)


def order_writes(local: dict[str, Any]) -> dict[str, int]:
    """The write counter `v` of each order item in the embedded AWS's ingest table, by
    platform order id (a test-only scan of a small table)."""
    import boto3

    aws_url = json.loads((local["home"] / "local.json").read_text())["aws_url"]
    ddb = boto3.client("dynamodb", endpoint_url=aws_url, region_name="us-east-1")
    (table,) = [t for t in ddb.list_tables()["TableNames"] if t.endswith("-ingest")]
    writes: dict[str, int] = {}
    for page in ddb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(pk, :orders)",
        ExpressionAttributeValues={":orders": {"S": f"W#{local['workspace_id']}#O#"}},
    ):
        for item in page["Items"]:
            writes[item["pk"]["S"].rsplit("#", 1)[1]] = int(item["v"]["N"])
    return writes


def test_tampered_and_malformed_deliveries_over_http(local):
    body = event_bytes("shopify/orders_create.json")
    headers = shopify_headers(SHOP, "orders/create", SECRET, body, "e2e-2")
    status, answer = post(f"{local['url']}/webhooks/shopify", body.replace(b"122.00", b"1.00"), headers)
    assert status == 401 and answer["details"]["reason"] == "bad_signature"
    broken = load_event("shopify/orders_create.json")
    broken["line_items"][0]["quantity"] = "many"
    raw = json.dumps(broken).encode()
    status, answer = post(
        f"{local['url']}/webhooks/shopify", raw, shopify_headers(SHOP, "orders/create", SECRET, raw, "e2e-3")
    )
    assert status == 400 and answer["details"][0]["field"] == "line_items.0.quantity"
    listed = json.loads(local["cli"]("quarantine", "list", "--workspace", local["workspace_id"]))
    assert [e["quarantine_id"] for e in listed["quarantine"]] == [answer["quarantine_id"]]
    assert (listed["total"], listed["next_cursor"]) == (1, None)
    # filtered by reason and source, and by a date range it is not in
    source = listed["quarantine"][0]["source_id"]
    found = local["cli"]("quarantine", "list", "--reason", "quantity", "--source", source)
    assert json.loads(found)["total"] == 1
    future = json.loads(local["cli"]("quarantine", "list", "--since", "2999-01-01", "--json"))
    assert (future["total"], future["quarantine"]) == (0, [])
    assert json.loads(local["cli"]("dlq", "list", "--limit", "10")) == {
        "stream_failures": {"total": 0, "batches": 0, "page": 1, "pages": 1, "limit": 10, "records": []},
        "campaign_batches_dead_lettered": 0,
    }


def test_an_unknown_workspace_is_one_line_from_the_real_command(local):
    env = {**os.environ, "PATRON_STATE_DIR": str(local["home"])}
    # When the operator sets a rate and creates a segment in a workspace that does not exist
    for args in (
        ["workspace", "set-rate", "-w", "ws_doesnotexist", "EUR", "1.08"],
        ["segment", "create", "-w", "ws_doesnotexist", "vips", "orders_count >= 3"],
    ):
        done = subprocess.run([PATRON, *args], env=env, capture_output=True, text=True, timeout=120)
        # Then each ends in one line naming it and how to list workspaces, exit 1
        assert done.returncode == 1
        assert done.stderr == "error: workspace ws_doesnotexist not found (patron workspace list)\n"


def test_segments_from_the_cli(local):
    created = json.loads(
        local["cli"](
            "segment",
            "create",
            "--workspace",
            local["workspace_id"],
            "Loyal",
            "orders_count >= 3 and last_order_days <= 90",
        )
    )
    assert created["definition"] == "orders_count >= 3 AND last_order_days <= 90"
    assert created["time_based"] is True
    shown = json.loads(
        local["cli"]("segment", "show", "--workspace", local["workspace_id"], created["segment_id"])
    )
    assert {k: shown[k] for k in created} == created
    assert shown["size"] == 0 and shown["backfill"]["state"] == "queued"  # the minute job fills it
    # the built-in lifecycle segments list the customers the earlier tests created
    members = json.loads(
        local["cli"](
            "segment", "members", "--workspace", local["workspace_id"], "lifecycle:new", "--limit", "5"
        )
    )
    assert members["customers"] and len(members["customers"]) <= 5
    exported = json.loads(
        local["cli"](
            "segment",
            "export",
            "--workspace",
            local["workspace_id"],
            created["segment_id"],
            "--format",
            "customer-match",
        )
    )
    assert exported["uri"].startswith("s3://patron-local-exports-")
    assert exported["profiles_scanned"] >= 1 and exported["rows"] == 0  # nobody has 3 orders


def test_transactional_notifications_are_switched_on_from_the_cli(local):
    shown = json.loads(
        local["cli"](
            "workspace",
            "messaging",
            local["workspace_id"],
            "--notify",
            "shipped,order_confirmation",
            "--sender",
            "orders@demo-brand.example",
        )
    )
    assert shown == {
        "notifications": ["order_confirmation", "shipped"],
        "sender_email": "orders@demo-brand.example",
        "sms_sender_id": "",
        "attribution_days": 5,
        "engagement": {"recent_days": 30, "high_opens": 2, "low_deliveries": 3, "low_quiet_days": 90},
    }


def test_flows_from_the_cli(local):
    flows_dir = Path(__file__).resolve().parents[2] / "flows"
    ws = local["workspace_id"]
    # Given the shipped flows, applied when the stack started; applying them again changes nothing
    first = local["flows"]
    again = json.loads(local["cli"]("flow", "apply", "--workspace", ws, str(flows_dir)))
    assert {a["flow_id"] for a in first["applied"]} >= {"welcome", "abandoned-checkout", "win-back"}
    assert all(a["changed"] for a in first["applied"]) and not any(a["changed"] for a in again["applied"])
    listed = json.loads(local["cli"]("flow", "list", "--workspace", ws))
    assert {f["flow_id"]: f["version"] for f in listed["flows"]}["birthday"] == 1
    # When a customer who has ordered sends a checkout that is older than her order
    body = event_bytes("shopify/checkouts_create.json")
    status, _ = post(
        f"{local['url']}/webhooks/shopify", body, shopify_headers(SHOP, "checkouts/create", SECRET, body)
    )
    assert status == 200
    _, found = get(f"{local['url']}/customers?email=jane.doe@example.com", local["api_key"])
    customer_id = found["customers"][0]["customer_id"]

    def recovery_run(status: str) -> Any:
        code, answer = get(f"{local['url']}/customers/{customer_id}/flows", local["api_key"])
        runs = (
            [r for r in answer.get("runs", []) if r["flow_id"] == "abandoned-checkout"] if code == 200 else []
        )
        return runs if runs and runs[0]["status"] == status else None

    # Then the minute tick ends her recovery run without sending: her order came after it
    (run,) = eventually(lambda: recovery_run("exited"), attempts=1200)
    assert run["reason"] == "ordered" and run["log"] == []
    shown = json.loads(local["cli"]("flow", "runs", "--workspace", ws, "--customer", customer_id))
    assert any(r["run_id"] == run["run_id"] and r["status"] == "exited" for r in shown["runs"])
    # And the dry-run shows when the reminder would go for a checkout at noon
    plan = json.loads(
        local["cli"](
            "flow",
            "dry-run",
            "--workspace",
            ws,
            "abandoned-checkout",
            "--customer",
            customer_id,
            "--at",
            "2026-11-23T12:00:00Z",
        )
    )
    assert plan["steps"][0]["wait_until"].startswith("2026-11-23T16:00:00")
    assert plan["steps"][1]["template"] == "flow_abandoned_checkout"


def test_attribution_window_and_engagement_thresholds_from_the_cli(local):
    ws = local["workspace_id"]
    # Given notifications switched on; when only the attribution window and a threshold change
    local["cli"]("workspace", "messaging", ws, "--notify", "order_confirmation", "--sender", SENDER)
    shown = json.loads(
        local["cli"](
            "workspace", "messaging", ws, "--attribution-days", "7", "--engagement", "recent_days=14"
        )
    )
    # Then they are stored, and the notifications are left as they were
    assert shown["attribution_days"] == 7 and shown["engagement"]["recent_days"] == 14
    assert shown["notifications"] == ["order_confirmation"] and shown["sender_email"] == SENDER
    # And the messaging report answers: no campaign has run on this stack yet (the shipped
    # flows may have counted what they decided for the customers of the earlier tests)
    report = json.loads(local["cli"]("messaging", "stats", "--workspace", ws, "--json"))
    assert report["currency"] == "USD"
    assert all(s["kind"] == "flow" for s in report["scopes"])


def test_the_outbox_lists_what_the_stack_sent_newest_first(local):
    import boto3

    from patron.outbox import summary

    ws, cli = local["workspace_id"], local["cli"]
    aws_url = json.loads((local["home"] / "local.json").read_text())["aws_url"]
    # Given Jane (the fixture order), a template, and a sender the embedded SES has verified
    body = event_bytes("shopify/orders_create.json")
    post(
        f"{local['url']}/webhooks/shopify",
        body,
        shopify_headers(SHOP, "orders/create", SECRET, body, "e2e-1"),
    )

    def jane() -> Any:
        status, answer = get(f"{local['url']}/customers?email=jane.doe@example.com", local["api_key"])
        return answer["customers"][0]["customer_id"] if status == 200 and answer["customers"] else None

    customer = eventually(jane)
    cli("workspace", "messaging", ws, "--notify", "order_confirmation", "--sender", SENDER)
    boto3.client("ses", endpoint_url=aws_url, region_name="us-east-1").verify_email_identity(
        EmailAddress=SENDER
    )
    cli(
        "template",
        "save",
        "--workspace",
        ws,
        "hello",
        "--name",
        "Hello",
        "--subject",
        "Hi {{ first_name }}",
        "--sms",
        "Hello {{ first_name }}\nbye",
    )
    # When the CLI test-sends it by email, then by SMS (through the stack's embedded SES and SNS)
    cli(
        "template",
        "test-send",
        "--workspace",
        ws,
        "hello",
        "--customer",
        customer,
        "--to",
        "me@brand.example",
    )
    cli("template", "test-send", "--workspace", ws, "hello", "--customer", customer, "--to", "+12125550147")
    # Then `patron outbox` lists the SMS, then the email, with the workspace the email was tagged with
    sms, mail = json.loads(cli("outbox", "--json", "--limit", "10"))
    assert (sms["channel"], sms["to"], sms["subject"]) == ("sms", "+12125550147", "Hello Jane")
    assert (mail["channel"], mail["to"], mail["subject"]) == ("email", "me@brand.example", "[test] Hi Jane")
    assert mail["workspace"] == ws and sms["seq"] > mail["seq"] and sms["at"] >= mail["at"]
    assert json.loads(cli("outbox", "--json", "--limit", "1")) == [sms]
    # And the demo's summary counts them; the table shows them
    assert summary(aws_url).startswith("Outbox: 1 email(s), 1 SMS sent")
    assert "[test] Hi Jane" in cli("outbox")


def test_a_campaign_is_driven_from_the_cli(local):
    cli, ws = local["cli"], local["workspace_id"]
    # Given a template
    cli(
        "template",
        "save",
        "--workspace",
        ws,
        "winter",
        "--name",
        "Winter",
        "--subject",
        "Hi {{ first_name }}",
        "--text",
        "Winter sale. {{ unsubscribe_url }}",
    )
    # When a campaign to a built-in segment is created, started, paused, resumed and cancelled
    created = json.loads(
        cli(
            "campaign",
            "create",
            "--workspace",
            ws,
            "--name",
            "Winter",
            "--segment",
            "lifecycle:new",
            "--variant",
            "a=winter",
        )
    )
    campaign_id = created["campaign_id"]
    states = [created["status"]]
    for action in ("start", "pause", "resume", "cancel"):
        states.append(json.loads(cli("campaign", action, "--workspace", ws, campaign_id))["status"])
    shown = json.loads(cli("campaign", "show", "--workspace", ws, campaign_id))
    # Then each step took, and the campaign shows its progress and variants
    assert states == ["draft", "sending", "paused", "sending", "cancelled"]
    assert shown["status"] == "cancelled" and shown["variants"] == [{"id": "a", "template_id": "winter"}]
    assert set(shown["stats"]) >= {"sent", "clicked", "revenue"}
