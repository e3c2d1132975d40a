"""A customer's ticket facts (domain/service/facts.py) kept from the CRM stream's ticket
head records: written only when what they say moves, idempotent and order-independent
under redelivery, summarised over the customer's id and merged ids."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.ticket_store import head_item, ticket_of
from chalicelib.domain.service.facts import (
    MAX_COMPLAINTS,
    TicketFacts,
    fact_of,
    summarize,
)
from chalicelib.domain.service.model import EventKind, Ticket, TicketEvent, apply, reduce
from tests.fakes_tickets import FakeTicketFacts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def opened(tid: str, kind: str = "complaint", customer: str = "c_1", at: datetime = T0) -> Ticket:
    data = {"subject": "s", "kind": kind, "customer_id": customer}
    return reduce("ws_a", tid, [TicketEvent(EventKind.CREATED, at, "cli", data)])


def moved(ticket: Ticket, kind: EventKind, at: datetime, **data: object) -> Ticket:
    return apply(ticket, TicketEvent(kind, at, "cli", data))


def answered(ticket: Ticket, score: int, at: datetime) -> Ticket:
    # the CSAT part's reducer sets these on `csat_answered`; here the head is given as it
    return replace(ticket, csat_score=score, csat_answered_at=at, seq=ticket.seq + 1, updated_at=at)


def test_a_new_complaint_writes_its_fact_and_a_reply_writes_nothing():
    # Given the facts service on an empty store
    store = FakeTicketFacts()
    facts = TicketFacts(store)
    ticket = opened("tk_1")
    # When the head is created, then gets a public reply (no fact moves)
    first = facts.on_head_change(None, ticket)
    replied = moved(ticket, EventKind.PUBLIC_REPLY, T0 + timedelta(hours=1), body="hello")
    second = facts.on_head_change(ticket, replied)
    # Then one write, for the creation only
    assert (first.changed, first.written, second.changed, second.written) == (True, True, False, False)
    assert store.writes == 1
    summary = facts.summary("ws_a", "c_1", [], T0 + timedelta(days=1))
    assert (summary.open_tickets, summary.open_complaints, summary.last_ticket_at) == (1, 1, T0)


def test_solving_a_complaint_closes_it_and_its_csat_is_the_last_one():
    # Given a complaint solved and answered 2, and an open question answered 5 earlier
    facts = TicketFacts(FakeTicketFacts())
    complaint = opened("tk_1")
    question = opened("tk_2", "pre_sale", at=T0 - timedelta(days=3))
    solved = moved(complaint, EventKind.STATUS_CHANGED, T0 + timedelta(hours=2), to="solved")
    for before, after in [
        (None, complaint),
        (complaint, solved),
        (solved, answered(solved, 2, T0 + timedelta(days=1))),
        (None, question),
        (question, answered(question, 5, T0 - timedelta(days=2))),
    ]:
        facts.on_head_change(before, after)
    # When the customer's summary is read
    summary = facts.summary("ws_a", "c_1", [], T0 + timedelta(days=2))
    # Then only the question is open, the complaint counts in the last days, the latest answer is 2
    assert (summary.open_tickets, summary.open_complaints, summary.last_csat) == (1, 0, 2)
    assert summary.complaints == (T0,)
    assert summary.complaints_since(T0 - timedelta(days=1)) == 1
    assert summary.complaints_since(T0) == 0


def test_a_merged_away_ids_tickets_follow_the_survivor():
    # Given an open complaint under an id that was later merged into c_1
    facts = TicketFacts(FakeTicketFacts())
    facts.on_head_change(None, opened("tk_9", customer="c_old"))
    # When the survivor's summary is read with its merged ids, and the guardrail asks
    summary = facts.summary("ws_a", "c_1", ["c_old"], T0)
    held = facts.with_open_complaints("ws_a", [("c_1", ["c_old"]), ("c_2", [])])
    # Then the complaint is the survivor's
    assert summary.open_complaints == 1
    assert held == {"c_1"}


def test_complaints_are_kept_within_the_documented_bounds():
    # Given 60 complaints, one a day, the oldest 400 days ago
    now = T0
    heads = [opened(f"tk_{i:03d}", at=now - timedelta(days=400 - i)) for i in range(60)]
    heads += [opened(f"tk_n{i:02d}", at=now - timedelta(days=i + 1)) for i in range(60)]
    # When they are summarised
    summary = summarize([fact_of(h) for h in heads], now)
    # Then only the last 365 days' are kept, newest first, at most MAX_COMPLAINTS
    assert len(summary.complaints) == MAX_COMPLAINTS
    assert summary.complaints[0] == now - timedelta(days=1)
    assert list(summary.complaints) == sorted(summary.complaints, reverse=True)
    assert all(at > now - timedelta(days=365) for at in summary.complaints)


def test_the_head_item_keeps_the_csat_answer():
    # Given a head answered 4 (as the CSAT part's reducer leaves it)
    head = answered(opened("tk_1"), 4, T0 + timedelta(days=1))
    # When it is mapped to its item and back
    back = ticket_of(head_item(head))
    # Then the answer and its time come back, and the fact reads them
    assert back == head
    assert (fact_of(back).csat_score, fact_of(back).csat_answered_at) == (4, T0 + timedelta(days=1))


# -- order-independence under redelivery ------------------------------------------------------
STEPS = st.lists(
    st.tuples(
        st.integers(0, 2),  # which ticket
        st.sampled_from(["reply", "solve", "reopen", "kind", "csat"]),
        st.integers(1, 5),
    ),
    max_size=12,
)


def _history(steps: list[tuple[int, str, int]]) -> list[tuple[Ticket | None, Ticket]]:
    """The stream records (old image, new image) of three tickets' heads under these steps."""
    heads: dict[int, Ticket] = {}
    records: list[tuple[Ticket | None, Ticket]] = []
    at = T0
    for i in range(3):
        heads[i] = opened(f"tk_{i}", "complaint" if i != 1 else "order_issue", "c_1" if i else "c_old", at)
        records.append((None, heads[i]))
    for which, step, score in steps:
        at += timedelta(hours=1)
        t = heads[which]
        if step == "solve" and t.status.value != "solved":
            after = moved(t, EventKind.STATUS_CHANGED, at, to="solved")
        elif step == "reopen" and t.status.value == "solved":
            after = moved(t, EventKind.STATUS_CHANGED, at, to="open")
        elif step == "kind":
            after = moved(
                t, EventKind.KIND_CHANGED, at, to="suggestion" if t.kind == "complaint" else "complaint"
            )
        elif step == "csat":
            after = answered(t, score, at)
        else:
            after = moved(t, EventKind.PUBLIC_REPLY, at, body="x")
        records.append((t, after))
        heads[which] = after
    return records


@settings(max_examples=150, deadline=None)
@given(steps=STEPS, data=st.data())
def test_any_delivery_order_with_redeliveries_ends_as_the_latest_heads_say(steps, data):
    # Given three tickets' head records (one under a merged-away id)
    records = _history(steps)
    # When they are delivered in any order, some twice
    delivered = data.draw(
        st.permutations(records + data.draw(st.lists(st.sampled_from(records), max_size=6)))
    )
    store = FakeTicketFacts()
    facts = TicketFacts(store)
    for before, after in delivered:
        facts.on_head_change(before, after)
    # Then the summary is the one the latest heads give, whatever the order
    latest: dict[str, Ticket] = {}
    for _, after in records:
        latest[after.id] = after
    now = T0 + timedelta(days=2)
    expected = summarize([fact_of(t) for t in latest.values()], now)
    assert facts.summary("ws_a", "c_1", ["c_old"], now) == expected
    # and no more writes than records whose facts moved
    moving = sum(
        1
        for before, after in records
        if before is None or fact_of(before) != replace(fact_of(after), seq=before.seq)
    )
    assert store.writes <= moving
