"""TicketFactStore contract (domain/service/facts.py): DynamoTicketFacts on moto and the fake
(tests/fakes_tickets.py) keep a customer's ticket facts alike: a fact is set only over an
older `seq`, and a customer's and their merged ids' facts are read at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.adapters.ticket_facts import DynamoTicketFacts
from chalicelib.domain.service.facts import TicketFact
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_tickets import FakeTicketFacts

__all__ = ["moto_stage"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoTicketFacts:
    return DynamoTicketFacts(stage.crm)


store = port_fixture(FakeTicketFacts, _dynamo)


def fact(tid: str, seq: int, customer: str = "c_1", **kw: object) -> TicketFact:
    values: dict[str, object] = {"open": True, "complaint": False, "created_at": T0}
    return TicketFact("ws_a", customer, tid, seq, **(values | kw))  # type: ignore[arg-type]


def test_a_first_fact_is_written_and_read_back(store):
    # Given no facts for the customer
    # When a complaint's fact is put
    wrote = store.put(fact("tk_1", 1, complaint=True))
    # Then it is written and read back as put
    assert wrote is True
    assert store.of_customers("ws_a", ["c_1"]) == [fact("tk_1", 1, complaint=True)]


def test_a_later_seq_replaces_and_an_older_or_equal_one_is_refused(store):
    # Given a ticket's fact at seq 3 (answered with a CSAT of 2)
    answered = T0 + timedelta(days=2)
    assert store.put(fact("tk_1", 3, open=False, csat_score=2, csat_answered_at=answered))
    # When the seq 2 record arrives late, and the seq 3 one is redelivered
    late = store.put(fact("tk_1", 2, open=True))
    again = store.put(fact("tk_1", 3, open=True))
    # Then both are refused and the seq 3 fact stays
    assert (late, again) == (False, False)
    (held,) = store.of_customers("ws_a", ["c_1"])
    assert (held.seq, held.open, held.csat_score, held.csat_answered_at) == (3, False, 2, answered)
    # When seq 4 comes
    assert store.put(fact("tk_1", 4, open=True)) is True
    # Then it replaces it
    assert [f.seq for f in store.of_customers("ws_a", ["c_1"])] == [4]


def test_tickets_of_several_ids_are_read_together(store):
    # Given two tickets of the survivor and one of a merged-away id, and another customer's
    store.put(fact("tk_1", 1))
    store.put(fact("tk_2", 2, complaint=True))
    store.put(fact("tk_3", 1, customer="c_old"))
    store.put(fact("tk_4", 1, customer="c_other"))
    # When the survivor's and the merged id's facts are read
    found = store.of_customers("ws_a", ["c_1", "c_old"])
    # Then the three tickets come back, each with its customer id, and none of the other's
    assert sorted((f.ticket_id, f.customer_id) for f in found) == [
        ("tk_1", "c_1"),
        ("tk_2", "c_1"),
        ("tk_3", "c_old"),
    ]
    assert store.of_customers("ws_a", []) == []
