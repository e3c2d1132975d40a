"""Returns end to end on the stage (moto): Shopify's signed `returns/*` webhooks through the
webhook handler, the ticket and its timeline, the points ledger with the refund webhook that
follows, and the customer's emails through SES (docs/service.md#returns-and-exchanges).
Time is pinned (time_machine), never the wall clock."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from chalicelib.domain.workspace_settings import LoyaltyRules
from chalicelib.handlers import jobs
from patron.harness import Harness, Workspace
from patron.poller import LambdaContext
from tests.conftest import load_event
from tests.integration.test_notifications import sent_emails
from tests.integration.test_tickets_api import get, post

NOW = datetime(2026, 11, 26, 15, tzinfo=UTC)  # a day after the fixtures' refund, within the hour
SENDER = "orders@demo-brand.example"
KINDS = ["return_approved", "return_declined", "return_closed"]


@pytest.fixture
def stage(aws: None) -> Iterator[Harness]:
    with time_machine.travel(NOW, tick=False):
        harness = Harness(stage="test")
        yield harness
        harness.close()


@pytest.fixture
def store(stage: Harness, ws: Workspace) -> dict[str, Any]:
    """Jane's order of 122.00 USD paid (122 points at 1 per dollar), loyalty and the return
    messages on."""
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True, return_window_days=14))
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, KINDS, SENDER, None)
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return {"cid": found[0]["customer_id"], "source": ws.sources["shopify"]["source_id"]}


def deliver(stage: Harness, ws: Workspace, topic: str, fixture: str, delivery: str) -> dict[str, Any]:
    answer = stage.send(ws, "shopify", topic, load_event(f"shopify/{fixture}.json"), delivery_id=delivery)
    assert answer.status_code == 200, answer.body
    body: dict[str, Any] = json.loads(answer.body)
    return body


def tick() -> dict[str, Any]:
    """The minute job (`flow_tick`) on its scheduled event: it sends the returns' messages."""
    result: dict[str, Any] = jobs.flow_tick(
        load_event("eventbridge/scheduled_event.json"), LambdaContext("FlowTick")
    )
    return result


def ledger(stage: Harness, ws: Workspace, cid: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(stage.get(ws, f"/customers/{cid}/points?limit=200").body)
    return body


def test_a_return_approved_refunded_and_closed_reverses_its_lines_points_once(stage, ws, store):
    cid, src = store["cid"], store["source"]
    # When Jane's return of the pour-over set (45.00 of the lines' 119.50) is requested,
    # approved (the webhook twice), refunded (42.93, the refunds/create webhook) and closed
    assert deliver(stage, ws, "returns/request", "returns_request", "r-1")["status"] == "stored"
    assert deliver(stage, ws, "returns/approve", "returns_approve", "r-2")["status"] == "stored"
    assert deliver(stage, ws, "returns/approve", "returns_approve", "r-3")["status"] == "duplicate"
    assert sent_emails(stage) == []  # the webhook sends nothing itself: the minute job does
    assert tick()["return_messages"]["sent"] == 1
    assert deliver(stage, ws, "refunds/create", "refunds_create", "f-1")["status"] == "stored"
    stage.drain()
    assert deliver(stage, ws, "returns/close", "returns_close", "r-4")["status"] == "stored"
    assert (tick()["return_messages"]["sent"], tick()["return_messages"]["sent"]) == (1, 0)
    # Then 46 points are reversed (122 x 45.94 / 122), by the return, and the refund adds none
    body = ledger(stage, ws, cid)
    entries = sorted((e["source"], e["kind"], e["points"]) for e in body["entries"])
    assert entries == [("order", "earn", 122), ("refund", "reverse", 0), ("return", "reverse", -46)]
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 76
    # and Jane's return_request ticket logs each move, shown on her timeline
    status, page = get(stage, ws, f"/customers/{cid}/tickets")
    assert status == 200
    (ticket,) = page["tickets"]
    assert (ticket["kind"], ticket["order_id"]) == ("return_request", f"{src}.5829104638011")
    shown = get(stage, ws, f"/tickets/{ticket['id']}")[1]
    moves = [(e["data"]["from"], e["data"]["to"]) for e in shown["events"] if e["kind"] == "return_status"]
    assert moves == [(None, "requested"), ("requested", "open"), ("open", "closed")]
    timeline = [e["type"] for e in get(stage, ws, f"/customers/{cid}")[1]["timeline"]]
    assert timeline.count("ticket_return_status") == 3
    # and she got the approval and the completion, once each
    emails = sent_emails(stage)
    assert [e["Subject"] for e in emails] == [
        "Your return #1001-R1 is approved",
        "Your return #1001-R1 is complete",
    ]
    assert all(e["To"] == "jane.doe@example.com" for e in emails)


def test_out_of_order_and_late_deliveries_converge(stage, ws, store):
    cid = store["cid"]
    # When the refund comes first, then the close, then the approval and the request a day late
    deliver(stage, ws, "refunds/create", "refunds_create", "f-1")
    stage.drain()
    close = copy.deepcopy(load_event("shopify/returns_close.json"))
    assert stage.send(ws, "shopify", "returns/close", close, delivery_id="r-4").status_code == 200
    for topic, fixture, n in (
        ("returns/approve", "returns_approve", 2),
        ("returns/request", "returns_request", 1),
    ):
        assert deliver(stage, ws, topic, fixture, f"r-{n}")["status"] == "duplicate"
    # Then the return is closed, its ticket logs one move, and 46 points are reversed in all:
    # 43 by the refund (42.93), 3 more by the return's lines (45.94)
    (ticket,) = get(stage, ws, f"/customers/{cid}/tickets")[1]["tickets"]
    shown = get(stage, ws, f"/tickets/{ticket['id']}")[1]
    assert [e["data"]["to"] for e in shown["events"] if e["kind"] == "return_status"] == ["closed"]
    entries = sorted((e["source"], e["points"]) for e in ledger(stage, ws, cid)["entries"])
    assert entries == [("order", 122), ("refund", -43), ("return", -3)]
    tick()
    # the minute job sends the close's message with the name a later delivery brought
    assert [e["Subject"] for e in sent_emails(stage)] == ["Your return #1001-R1 is complete"]


def test_a_declined_request_tells_the_customer_and_reverses_nothing(stage, ws, store):
    cid = store["cid"]
    # When the request is declined
    deliver(stage, ws, "returns/request", "returns_request", "r-1")
    deliver(stage, ws, "returns/decline", "returns_decline", "r-2")
    tick()
    # Then no point moves, and Jane is told once
    assert ledger(stage, ws, cid)["total"] == 122
    assert [e["Subject"] for e in sent_emails(stage)] == ["Your return request #1001-R1"]


def test_an_agent_moves_a_return_requested_through_patron(stage, ws, store):
    cid, src = store["cid"], store["source"]
    # Given a return_request ticket opened through the API for the pour-over set
    body = {"customer_id": cid, "subject": "Chipped", "kind": "return_request"}
    status, made = post(
        stage, ws, "/tickets", body | {"order_id": f"{src}.5829104638011", "line_ids": ["CPS-WHT-01"]}
    )
    assert status == 201, made
    # When an agent approves its return, then tries to decline it
    status, approved = post(stage, ws, f"/tickets/{made['id']}/events", {"type": "return", "to": "open"})
    status_2, refused = post(stage, ws, f"/tickets/{made['id']}/events", {"type": "return", "to": "declined"})
    # Then it is open (46 points reversed), and the decline is 409 invalid_transition
    assert status == 200, approved
    assert [e["data"]["to"] for e in approved["events"] if e["kind"] == "return_status"] == ["open"]
    assert ledger(stage, ws, cid)["total"] == 76
    assert (status_2, refused["details"]) == (409, {"reason": "invalid_transition"})


def test_the_cli_moves_a_woocommerce_style_return_by_hand(stage, ws, store, cli_on):
    from tests.cli_runs import run

    cid, src, w = store["cid"], store["source"], ws.workspace_id
    # Given a return_request ticket for the hangers, opened through the CLI
    order = f"{src}.5829104638011"
    made = run(
        "tickets",
        "create",
        cid,
        "Wrong size",
        "--kind",
        "return_request",
        "--order",
        order,
        "--json",
        "-w",
        w,
    )
    assert made.exit_code == 0, made.output
    tid = json.loads(made.output)["id"]
    # When the agent declines its return, then tries to approve it
    declined = run("tickets", "return", tid, "declined", "--json", "-w", w)
    again = run("tickets", "return", tid, "open", "-w", w)
    # Then it is declined by `cli` (its log shows the move), and the approval is refused
    assert declined.exit_code == 0, declined.output
    moves = [
        (e["by"], e["data"]["to"])
        for e in json.loads(declined.output)["events"]
        if e["kind"] == "return_status"
    ]
    assert moves == [("cli", "declined")]
    assert again.exit_code != 0
    assert ledger(stage, ws, cid)["total"] == 122
