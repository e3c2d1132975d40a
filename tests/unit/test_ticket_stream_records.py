"""The CRM stream's ticket head records through the profile consumer's Lambda handler
(handlers/streams.py): a complaint created, replied to and solved
(events/dynamodb/crm_stream_ticket_heads.json), delivered in any order and twice, leaves
the facts the latest head says; only the records whose facts moved re-evaluate the
customer's memberships."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.container import set_container
from chalicelib.domain.service.facts import TicketFacts
from chalicelib.handlers import streams
from tests.conftest import load_event
from tests.fakes_tickets import FakeTicketFacts

HEADS = "dynamodb/crm_stream_ticket_heads.json"
LATER = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class RecordingMembership:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def on_ticket_change(self, workspace_id: str, customer_id: str, now: Any = None) -> None:
        self.asked.append((workspace_id, customer_id))


class FakeContainer:
    def __init__(self) -> None:
        self.fact_store = FakeTicketFacts()
        self.ticket_facts = TicketFacts(self.fact_store)
        self.membership = RecordingMembership()


@pytest.fixture
def wiring() -> Iterator[FakeContainer]:
    fake = FakeContainer()
    set_container(fake)  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        set_container(None)


class Context:
    function_name = "profile_stream"
    aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:profile_stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def deliver(records: list[dict[str, Any]]) -> dict[str, Any]:
    return streams.profile_stream({"Records": copy.deepcopy(records)}, Context())


def test_the_fixture_is_the_crm_streams_shape_of_three_head_writes():
    # Given the stored batch, When its records are read
    records = load_event(HEADS)["Records"]
    # Then they are a ticket head's INSERT and two MODIFYs, with both images after the first
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY"]
    assert all(r["dynamodb"]["NewImage"]["t"] == {"S": "ticket"} for r in records)
    assert ["OldImage" in r["dynamodb"] for r in records] == [False, True, True]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_any_order_and_a_redelivery_end_with_the_solved_complaint(wiring, order):
    # Given the three records in this order, then all three again
    records = load_event(HEADS)["Records"]
    batch = [records[i] for i in order]
    # When the handler gets them, twice
    first, again = deliver(batch), deliver(batch)
    # Then no record failed, and the complaint is solved in the facts whatever the order
    assert first == {"batchItemFailures": []} and again == {"batchItemFailures": []}
    summary = wiring.ticket_facts.summary("ws_test", "c_0001", [], LATER)
    assert (summary.open_tickets, summary.open_complaints, len(summary.complaints)) == (0, 0, 1)
    # And the reply (no fact moved) asked for no membership evaluation: 2 records of 3, twice
    assert wiring.membership.asked == [("ws_test", "c_0001")] * 4
    # And at most two facts were written (the creation, the solving), fewer when the solving came first
    assert wiring.fact_store.writes == (1 if order.index(2) < order.index(0) else 2)
