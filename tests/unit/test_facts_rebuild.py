"""Ticket facts rebuilt from the queues (domain/service/facts_rebuild.py): tickets written
before the facts existed get theirs, once; a fact the stream wrote from a newer head stays;
a cut-short walk resumes from its cursor (docs/service.md, "Ticket facts")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.service import facts_rebuild
from chalicelib.domain.service.facts import TicketFacts, fact_of
from chalicelib.domain.service.facts_rebuild import FactsRebuild
from chalicelib.domain.service.model import EventKind, TicketEvent, apply, reduce
from tests.fakes_tickets import FakeTicketFacts, FakeTicketStore

WS = "ws_a"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATUS_PATHS = {
    "open": [],
    "pending": ["pending"],
    "on_hold": ["on_hold"],
    "solved": ["solved"],
    "closed": ["solved", "closed"],
}


def ticket_in(
    store: FakeTicketStore, n: int, status: str, kind: str = "complaint", customer: str = "c_1"
) -> str:
    """A ticket as the desk writes it (head, log, queue entry), with no fact."""
    tid = f"tk_{n:04d}"
    at = T0 + timedelta(minutes=n)
    data = {"subject": "Late", "kind": kind, "customer_id": customer, "body": "Hi"}
    created = TicketEvent(EventKind.CREATED, at, "key:abc", data)
    ticket = reduce(WS, tid, [created])
    store.create(ticket, created)
    current = ticket.status.value
    for to in STATUS_PATHS[status]:
        event = TicketEvent(EventKind.STATUS_CHANGED, at, "key:abc", {"from": current, "to": to})
        after = apply(ticket, event)
        assert store.append(ticket, event, after)
        ticket, current = after, to
    return tid


class Reevaluations:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, workspace_id: str, customer_id: str, now: datetime) -> object:
        self.calls.append(customer_id)
        return object()


def test_tickets_without_facts_get_them_once_from_every_queue():
    # Given tickets in each status, two customers', written before the facts existed
    tickets, facts, again = FakeTicketStore(), FakeTicketFacts(), Reevaluations()
    for n, status in enumerate(STATUS_PATHS):
        ticket_in(tickets, n, status, customer="c_1" if n % 2 == 0 else "c_2")
    assert facts.of_customers(WS, ["c_1", "c_2"]) == []
    rebuild = FactsRebuild(tickets, facts, again)
    # When the walk runs, then again
    first = rebuild.run(WS, T0 + timedelta(hours=1))
    second = rebuild.run(WS, T0 + timedelta(hours=2))
    # Then every ticket has its fact, written once; the customers were evaluated again once
    assert (first.tickets_read, first.facts_written, first.next_cursor) == (5, 5, None)
    assert (second.tickets_read, second.facts_written) == (5, 0)
    assert sorted(again.calls) == ["c_1", "c_2"] and first.customers_reevaluated == 2
    # And the summary counts the open complaints (open, pending, on hold), as the stream would
    summary = TicketFacts(facts).summary(WS, "c_1", ["c_2"], T0 + timedelta(hours=1))
    assert (summary.open_tickets, summary.open_complaints) == (3, 3)
    assert first.as_dict()["customers_changed"] == 2


def test_a_fact_the_stream_wrote_from_a_newer_head_stays():
    # Given a ticket whose fact the stream wrote from a later head (solved) than the walk reads
    tickets, facts = FakeTicketStore(), FakeTicketFacts()
    tid = ticket_in(tickets, 1, "open")
    head = tickets.load(WS, tid)[0]
    newer = fact_of(head)
    newer = type(newer)(**{**newer.__dict__, "seq": head.seq + 1, "open": False})
    assert facts.put(newer)
    # When the walk runs
    result = FactsRebuild(tickets, facts).run(WS, T0)
    # Then the newer fact stays, nothing written
    assert result.facts_written == 0
    assert facts.of_customers(WS, ["c_1"]) == [newer]


def test_a_walk_cut_short_resumes_from_its_cursor(monkeypatch):
    # Given 7 tickets across statuses and pages of 2
    monkeypatch.setattr(facts_rebuild, "PAGE", 2)
    tickets, facts = FakeTicketStore(), FakeTicketFacts()
    ids = [ticket_in(tickets, n, status) for n, status in enumerate([*STATUS_PATHS, "open", "open"])]
    rebuild = FactsRebuild(tickets, facts)
    # When each run reads at most one page, resuming from the last cursor
    runs, cursor = [], None
    while True:
        run = rebuild.run(WS, T0, cursor, pages=1)
        runs.append(run)
        cursor = run.next_cursor
        if cursor is None:
            break
    # Then every ticket got its fact, each once, and each run read at most one page
    assert sum(r.facts_written for r in runs) == 7 and max(r.tickets_read for r in runs) <= 2
    assert sorted(f.ticket_id for f in facts.of_customers(WS, ["c_1"])) == sorted(ids)
    with pytest.raises(BadRequest):
        rebuild.run(WS, T0, "nowhere|x")


@settings(max_examples=40, deadline=None)
@given(
    statuses=st.lists(st.sampled_from(list(STATUS_PATHS)), min_size=0, max_size=12),
    kinds=st.lists(st.sampled_from(["complaint", "order_issue"]), min_size=12, max_size=12),
    page=st.integers(min_value=1, max_value=5),
    pages=st.integers(min_value=1, max_value=3),
    prefacts=st.sets(st.integers(min_value=0, max_value=11)),
)
def test_any_page_size_and_any_facts_already_there_end_with_every_heads_fact(
    statuses, kinds, page, pages, prefacts
):
    # Given tickets in any statuses, some of whose facts the stream wrote already
    facts_rebuild.PAGE = page
    try:
        tickets, facts = FakeTicketStore(), FakeTicketFacts()
        heads = {}
        for n, status in enumerate(statuses):
            tid = ticket_in(tickets, n, status, kinds[n])
            heads[tid] = tickets.load(WS, tid)[0]
            if n in prefacts:
                facts.put(fact_of(heads[tid]))
        # When the walk runs to its end in runs of a few pages
        cursor, rebuild, written = None, FactsRebuild(tickets, facts), 0
        while True:
            run = rebuild.run(WS, T0, cursor, pages)
            written += run.facts_written
            cursor = run.next_cursor
            if cursor is None:
                break
        # Then the facts are exactly the heads' facts, the ones already there not written again
        assert sorted(facts.of_customers(WS, ["c_1"]), key=lambda f: f.ticket_id) == [
            fact_of(heads[t]) for t in sorted(heads)
        ]
        assert written == len(heads) - len({n for n in prefacts if n < len(statuses)})
    finally:
        facts_rebuild.PAGE = 100
