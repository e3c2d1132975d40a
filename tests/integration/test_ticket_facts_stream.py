"""Ticket facts through the CRM stream, on moto: Jane's complaint, opened through the API,
puts her in `open_complaints > 0` once the stream's records are processed, and solving it
takes her out; the facts are written only when what they say moves (the write requests are
counted on the client: docs/data-model.md#ticket-facts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from chalicelib.domain import timemath
from chalicelib.domain.models import now_utc
from tests.integration.test_consent import jane
from tests.integration.test_membership import create_segment
from tests.integration.test_tickets_api import post

__all__ = ["jane"]


def count_fact_writes(stage: Any) -> list[str]:
    """The write calls on the facts items (their operation names), as the client makes them."""
    calls: list[str] = []

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        pk = (params.get("Key") or params.get("Item") or {}).get("pk", {}).get("S", "")
        if "#TF#" in pk:
            calls.append(model.name)

    stage.container.crm.client.meta.events.register("provide-client-params.dynamodb.*", seen)
    return calls


def segments_of(stage: Any, ws: Any, cid: str) -> set[str]:
    record = stage.container.membership.store.get_record(ws.workspace_id, cid)
    return set(record.segments) if record else set()


def test_an_open_complaint_moves_jane_in_and_out_of_a_segment_through_the_stream(stage, ws, jane):
    # Given a segment of customers with an open complaint, and the facts' writes counted
    upset = create_segment(stage, ws, "Open complaint", "open_complaints > 0")
    writes = count_fact_writes(stage)
    cid = jane["cid"]
    # When the desk opens a complaint for Jane and the CRM stream is processed
    status, made = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Broken", "kind": "complaint"})
    assert status == 201, made
    stage.drain()
    # Then she is in the segment; her first ticket's facts took an update refused (no item) and a put
    assert upset in segments_of(stage, ws, cid)
    assert writes == ["UpdateItem", "PutItem"]
    summary = stage.container.ticket_facts.summary(ws.workspace_id, cid, [], now_utc())
    assert (summary.open_tickets, summary.open_complaints) == (1, 1)
    # When an agent is assigned, replies and notes (no fact moves), and the stream is processed
    tid = made["id"]
    for change in (
        {"type": "assign", "to": "ana"},
        {"type": "reply", "body": "Sorry"},
        {"type": "note", "body": "x"},
    ):
        assert post(stage, ws, f"/tickets/{tid}/events", change)[0] == 200
    stage.drain()
    # Then no facts write was made for them
    assert writes == ["UpdateItem", "PutItem"]
    # When the complaint is solved
    assert post(stage, ws, f"/tickets/{tid}/events", {"type": "status", "to": "solved"})[0] == 200
    stage.drain()
    # Then one update, and she left the segment
    assert writes == ["UpdateItem", "PutItem", "UpdateItem"]
    assert upset not in segments_of(stage, ws, cid)


def test_complaints_in_the_last_day_flip_out_by_the_recheck_when_the_complaint_ages(stage, ws, jane):
    # Given a segment of customers with a complaint opened in the last day
    recent = create_segment(stage, ws, "Recent complaint", "complaints_in_last_days(1) >= 1")
    cid = jane["cid"]
    opened = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    # When a complaint is opened for Jane, solved at once, and the stream is processed
    with time_machine.travel(opened, tick=False):
        made = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Late", "kind": "complaint"})[1]
        post(stage, ws, f"/tickets/{made['id']}/events", {"type": "status", "to": "solved"})
        stage.drain()
    # Then she is in it, with a recheck due when the complaint is a day old
    record = stage.container.membership.store.get_record(ws.workspace_id, cid)
    assert recent in record.segments
    assert timemath.parse_iso(record.next_check) == opened + timedelta(days=1)
    # When the hourly recheck runs just before, then just after
    stage.container.membership.recheck(opened + timedelta(hours=23))
    before = segments_of(stage, ws, cid)
    stage.container.membership.recheck(opened + timedelta(days=1, minutes=5))
    # Then she leaves it only then
    assert recent in before and recent not in segments_of(stage, ws, cid)
