"""The sales pipeline through the Admin API and the CLI, on the stage (moto): opportunities
opened by hand and from a pre-sale ticket, moved through stages, the forecast; and the rules
through their real triggers: an abandoned checkout webhook, a customer entering a segment,
and the order that a won opportunity links (docs/sales.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.sales_store import redact_opportunities
from chalicelib.domain.identity import customer_id_for
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes
from tests.integration.test_consent import jane, segment

__all__ = ["jane"]
CHECKOUT_AT = datetime(2026, 11, 20, 15, 8, 44, tzinfo=UTC)  # events/shopify/checkouts_create.json


def call(stage: Harness, ws: Workspace, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ws.api_key}"}
    send = getattr(stage.http.http, method)
    answer = (
        send(path, headers=headers, body=json.dumps(body))
        if body is not None
        else send(path, headers=headers)
    )
    return answer.status_code, json.loads(answer.body)


def test_an_opportunity_is_opened_moved_and_forecast_through_the_api(stage, ws, jane):
    cid = jane["cid"]
    # When the team sets 30 stale days and ana's target, and opens two opportunities for Jane
    stages = call(stage, ws, "get", "/pipeline/stages")[1]
    assert [s["name"] for s in stages["stages"]] == [
        "new",
        "qualified",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    assert call(stage, ws, "put", "/pipeline/stages", stages | {"stale_days": 30})[0] == 200
    status, big = call(
        stage,
        ws,
        "post",
        "/opportunities",
        {"customer_id": cid, "title": "Café chain", "value": "2000", "owner": "ana"},
    )
    assert status == 201, big
    small = call(
        stage,
        ws,
        "post",
        "/opportunities",
        {"email": "jane.doe@example.com", "title": "Gift boxes", "value": "99.99"},
    )[1]
    # Then they are new, Jane's (by id and by email), in the workspace currency
    assert (big["stage"], big["customer_id"], big["currency"], small["customer_id"]) == (
        "new",
        cid,
        "USD",
        cid,
    )
    # When the big one moves to proposal with a close date, and is then read
    status, moved = call(
        stage,
        ws,
        "patch",
        f"/opportunities/{big['id']}",
        {"stage": "proposal", "expected_close": "2027-01-31"},
    )
    assert status == 200, moved
    shown = call(stage, ws, "get", f"/opportunities/{big['id']}")[1]
    assert [e["kind"] for e in shown["events"]] == ["created", "close_date_changed", "stage_changed"]
    assert [e["by"][:4] for e in shown["events"]] == ["key:"] * 3
    # Then the list filters by stage and owner, none is stale yet
    assert [o["id"] for o in call(stage, ws, "get", "/opportunities?stage=proposal")[1]["opportunities"]] == [
        big["id"]
    ]
    assert [o["id"] for o in call(stage, ws, "get", "/opportunities?owner=ana")[1]["opportunities"]] == [
        big["id"]
    ]
    assert call(stage, ws, "get", "/opportunities?stale=true")[1]["opportunities"] == []
    # When ana wins it: her won value in its month is beside her target
    won = call(stage, ws, "patch", f"/opportunities/{big['id']}", {"stage": "won"})[1]
    period = won["closed_at"][:7]
    call(
        stage,
        ws,
        "put",
        "/pipeline/targets",
        {"targets": [{"owner": "ana", "period": period, "amount": "4000"}]},
    )
    status, view = call(stage, ws, "get", f"/pipeline?period={period}")
    assert status == 200, view
    rows = {r["stage"]: (r["count"], r["value"], r["weighted"]) for r in view["stages"]}
    assert rows["new"] == (1, "99.99", "10.00") and rows["won"] == (1, "2000.00", "2000.00")
    assert (view["forecast"], view["currency"]) == ("10.00", "USD")
    assert view["owners"] == [
        {"owner": "ana", "won": "2000.00", "won_count": 1, "target": "4000.00", "share": "0.5000"}
    ]


def test_refusals_come_in_the_one_error_shape(stage, ws, jane):
    opened = call(stage, ws, "post", "/opportunities", {"customer_id": jane["cid"], "title": "x"})[1]
    answers = [
        call(stage, ws, "get", "/opportunities/op_none"),
        call(stage, ws, "post", "/opportunities", {"customer_id": "c_none", "title": "x"}),
        call(
            stage,
            ws,
            "post",
            "/opportunities",
            {"customer_id": jane["cid"], "title": "x", "stage": "nowhere"},
        ),
        call(stage, ws, "patch", f"/opportunities/{opened['id']}", {"stage": "new"}),
        call(stage, ws, "put", "/pipeline/stages", {"stages": [{"name": "only", "probability": "2"}]}),
        call(stage, ws, "get", "/pipeline?period=2026-13"),
        call(stage, ws, "get", "/opportunities?stale=maybe"),
    ]
    assert [(s, b["error"]) for s, b in answers] == [
        (404, "not_found"), (404, "not_found"), (400, "bad_request"), (409, "conflict"),
        (400, "bad_request"), (400, "bad_request"), (400, "bad_request"),
    ]  # fmt: skip
    assert answers[3][1]["details"] == {"reason": "no_change"}


def test_a_pre_sale_ticket_opens_its_opportunity_once_and_the_timeline_shows_the_link(stage, ws, jane):
    cid = jane["cid"]
    ticket = call(
        stage,
        ws,
        "post",
        "/tickets",
        {"customer_id": cid, "subject": "Wholesale prices?", "kind": "pre_sale", "assignee": "bob"},
    )[1]
    # When the desk opens its opportunity twice (a retry)
    first = call(stage, ws, "post", f"/tickets/{ticket['id']}/opportunity", {"value": "5000"})
    again = call(stage, ws, "post", f"/tickets/{ticket['id']}/opportunity", {})
    # Then one opportunity, Jane's, bob's, titled by the subject; the ticket logs the link once
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert (first[1]["customer_id"], first[1]["owner"], first[1]["title"], first[1]["source"]) == (
        cid, "bob", "Wholesale prices?", "ticket",
    )  # fmt: skip
    events = call(stage, ws, "get", f"/tickets/{ticket['id']}")[1]["events"]
    assert [(e["kind"], e["data"].get("opportunity_id")) for e in events][1:] == [
        ("opportunity_linked", first[1]["id"])
    ]
    timeline = call(stage, ws, "get", f"/customers/{cid}")[1]["timeline"]
    assert "ticket_opportunity_linked" in [e["type"] for e in timeline]


def test_an_abandoned_checkout_above_the_value_opens_one_opportunity_which_won_links_her_order(stage, ws):
    # Given a rule: a checkout of 100 or more opens an opportunity for ana
    rules = {
        "rules": [{"id": "big-carts", "trigger": "checkout_abandoned", "min_value": "100", "owner": "ana"}]
    }
    assert call(stage, ws, "put", "/pipeline/rules", rules)[0] == 200
    # When Jane's 114 USD checkout arrives twice through the webhook and the stream
    body = event_bytes("shopify/checkouts_create.json")
    stage.send(ws, "shopify", "checkouts/create", body, delivery_id="k-1")
    stage.send(ws, "shopify", "checkouts/update", body, delivery_id="k-2")
    stage.drain()
    # Then one opportunity, for the profile Jane will have, opened when the checkout was
    (opp,) = call(stage, ws, "get", "/opportunities")[1]["opportunities"]
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    cid = customer_id_for(salt, "email:jane.doe@example.com")
    assert (opp["customer_id"], opp["source"], opp["owner"], opp["value"]) == (
        cid,
        "rule:big-carts",
        "ana",
        "114.00",
    )
    assert opp["created_at"].startswith("2026-11-20T15:08:44")
    # When ana wins it before any order: it waits; then Jane's order comes through the stream
    won = call(stage, ws, "patch", f"/opportunities/{opp['id']}", {"stage": "won"})[1]
    assert won["order_id"] is None
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then it links her order: 122.00 actual beside 114.00 forecast
    linked = call(stage, ws, "get", f"/opportunities/{opp['id']}")[1]
    assert (linked["actual_value"], linked["difference"]) == ("122.00", "8.00")
    assert linked["order_id"] and linked["events"][-1]["by"] == "patron"


def test_entering_a_segment_opens_one_opportunity_while_it_is_open(stage, ws):
    # Given a segment of buyers and a rule on entering it
    buyers = segment(stage, ws, "Buyers", "orders_count >= 1")
    rules = {
        "rules": [
            {"id": "vip", "trigger": "segment_entered", "segment": buyers, "owner": "bob", "value": "800"}
        ]
    }
    call(stage, ws, "put", "/pipeline/rules", rules)
    # When Jane's order puts her in the segment (delivered twice)
    order = event_bytes("shopify/orders_create.json")
    stage.send(ws, "shopify", "orders/create", order, delivery_id="o-1")
    stage.send(ws, "shopify", "orders/create", order, delivery_id="o-2")
    stage.drain()
    # Then one opportunity for her, from the rule, worth the rule's value
    (opp,) = call(stage, ws, "get", "/opportunities")[1]["opportunities"]
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    assert opp["customer_id"] == customer_id_for(salt, "email:jane.doe@example.com")
    assert (opp["source"], opp["owner"], opp["value"]) == ("rule:vip", "bob", "800.00")


def test_the_cli_twins_open_move_and_forecast(stage, ws, jane, cli_on, tmp_path):
    from tests.cli_runs import run

    cid, wsid = jane["cid"], ws.workspace_id
    made = run(
        "sales", "create", cid, "Hotel linen", "--value", "1500", "--owner", "ana", "--json", "-w", wsid
    )
    assert made.exit_code == 0, made.output
    oid = json.loads(made.output)["id"]
    moved = run("sales", "update", oid, "--to", "negotiation", "--note", "sent terms", "--json", "-w", wsid)
    assert moved.exit_code == 0, moved.output
    shown = json.loads(run("sales", "show", oid, "--json", "-w", wsid).output)
    assert [(e["kind"], e["by"]) for e in shown["events"]] == [
        ("created", "cli"),
        ("noted", "cli"),
        ("stage_changed", "cli"),
    ]
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"targets": [{"owner": "ana", "period": "2026-Q4", "amount": "9000"}]}))
    assert run("sales", "targets", "--file", str(targets), "-w", wsid).exit_code == 0
    view = json.loads(run("sales", "pipeline", "--period", "2026-Q4", "--json", "-w", wsid).output)
    rows = {r["stage"]: r["weighted"] for r in view["stages"]}
    assert rows["negotiation"] == "1125.00" and view["owners"][0]["target"] == "9000.00"
    listed = json.loads(run("sales", "list", "--owner", "ana", "--json", "-w", wsid).output)
    assert [o["id"] for o in listed["opportunities"]] == [oid]
    assert run("sales", "update", oid, "--to", "nowhere", "-w", wsid).exit_code != 0


def test_erasing_the_customer_erases_their_opportunities_free_text(stage, ws, jane):
    cid = jane["cid"]
    # Given an opportunity of Jane's with notes, and a note added later
    body = {"customer_id": cid, "title": "Jane's café", "value": "300", "notes": "Jane: 12 Elm St"}
    made = call(stage, ws, "post", "/opportunities", body)[1]
    call(stage, ws, "patch", f"/opportunities/{made['id']}", {"note": "Jane called", "stage": "qualified"})
    # When she is erased
    answer = stage.http.http.delete(f"/customers/{cid}", headers={"Authorization": f"Bearer {ws.api_key}"})
    assert answer.status_code == 202
    stage.drain()
    # And the redaction runs again (a retried stream record): it changes nothing more
    assert redact_opportunities(stage.container.crm, ws.workspace_id, cid) == 0
    # Then the opportunity keeps its events and figures without its title or any note
    status, shown = call(stage, ws, "get", f"/opportunities/{made['id']}")
    assert status == 200 and shown["title"] == "" and shown["value"] == "300.00"
    assert [e["kind"] for e in shown["events"]] == ["created", "noted", "stage_changed"]
    assert "Jane" not in json.dumps(shown) and "Elm" not in json.dumps(shown)
