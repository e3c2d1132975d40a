"""A customer's ticket facts, for segments, flows and the marketing guardrail
(docs/service.md#ticket-facts-in-segments-flows-and-campaigns).

The CRM stream's consumer hands each ticket head change to `TicketFacts.on_head_change`:
the head is projected onto a `TicketFact` (open or not, complaint or not, when created, its
CSAT answer), and the projection is written only when it differs between the old image and
the new one, conditioned on the head's `seq`, so a redelivered or late record never
undoes a newer one (order-independent, idempotent). The facts hold no text.

A customer's summary (`TicketSummary`) is computed on read from the facts under the
profile's id and each merged id: merged customers' facts follow the survivor without any
move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.domain.service.model import Ticket, TicketKind, TicketStatus

# `complaints_in_last_days(N)` takes N up to this; the summary keeps the creation times of
# the complaints of the last MAX_COMPLAINT_DAYS days, newest first, at most MAX_COMPLAINTS.
MAX_COMPLAINT_DAYS = 365
MAX_COMPLAINTS = 50
CLOSED = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


@dataclass(frozen=True)
class TicketFact:
    """One ticket as the facts see it (no text): the head's `seq` orders the writes."""

    workspace_id: str
    customer_id: str  # the ticket's customer (may since have been merged into another)
    ticket_id: str
    seq: int
    open: bool  # not solved nor closed
    complaint: bool  # its kind is `complaint` now
    created_at: datetime
    csat_score: int | None = None
    csat_answered_at: datetime | None = None


def fact_of(ticket: Ticket) -> TicketFact:
    return TicketFact(
        workspace_id=ticket.workspace_id,
        customer_id=ticket.customer_id,
        ticket_id=ticket.id,
        seq=ticket.seq,
        open=ticket.status not in CLOSED,
        complaint=ticket.kind == TicketKind.COMPLAINT,
        created_at=ticket.created_at,
        csat_score=ticket.csat_score,
        csat_answered_at=ticket.csat_answered_at,
    )


def _same(a: TicketFact | None, b: TicketFact | None) -> bool:
    """Whether two projections say the same (the `seq` aside)."""
    if a is None or b is None:
        return a is b
    return (a.open, a.complaint, a.created_at, a.csat_score, a.csat_answered_at, a.customer_id) == (
        b.open,
        b.complaint,
        b.created_at,
        b.csat_score,
        b.csat_answered_at,
        b.customer_id,
    )


@dataclass(frozen=True)
class TicketSummary:
    """What segments, flows and the guardrail read about a customer's tickets."""

    open_tickets: int = 0
    open_complaints: int = 0
    complaints: tuple[datetime, ...] = ()  # creation times, newest first (bounded above)
    last_csat: int | None = None  # the score of the latest CSAT answer
    last_ticket_at: datetime | None = None

    def complaints_since(self, since: datetime) -> int:
        return sum(1 for at in self.complaints if at > since)


def summarize(facts: Iterable[TicketFact], now: datetime) -> TicketSummary:
    """One customer's summary from their tickets' facts (merged ids' included), as of `now`."""
    facts = list({f.ticket_id: f for f in sorted(facts, key=lambda f: f.seq)}.values())
    if not facts:
        return TicketSummary()
    horizon = now - timedelta(days=MAX_COMPLAINT_DAYS)
    complaints = sorted((f.created_at for f in facts if f.complaint and f.created_at > horizon), reverse=True)
    answered = [f for f in facts if f.csat_score is not None and f.csat_answered_at is not None]
    last = max(answered, key=lambda f: (f.csat_answered_at, f.ticket_id)) if answered else None
    return TicketSummary(
        open_tickets=sum(f.open for f in facts),
        open_complaints=sum(f.open and f.complaint for f in facts),
        complaints=tuple(complaints[:MAX_COMPLAINTS]),
        last_csat=last.csat_score if last is not None else None,
        last_ticket_at=max(f.created_at for f in facts),
    )


class TicketFactStore(Protocol):
    """Per-ticket facts in one item per customer id (docs/data-model.md)."""

    def put(self, fact: TicketFact) -> bool:
        """Write the fact unless one of the same or a later `seq` is there: False then
        (nothing changed)."""
        ...

    def of_customers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[TicketFact]:
        """The facts of every ticket of these customer ids (one batched read)."""
        ...


class TicketSummaries(Protocol):
    """What segments read (SegmentService): `TicketFacts.summary`."""

    def summary(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str], now: datetime
    ) -> TicketSummary: ...


@dataclass(frozen=True)
class FactChange:
    changed: bool  # the projection differs between the old and the new head
    written: bool  # and this record's write went in (False: a newer one was there)
    workspace_id: str = ""
    customer_id: str = ""


class TicketFacts:
    def __init__(self, store: TicketFactStore) -> None:
        self.store = store

    def on_head_change(self, before: Ticket | None, after: Ticket | None) -> FactChange:
        """One ticket head's stream record: the fact written when its projection moved."""
        if after is None:
            return FactChange(False, False)  # heads are never deleted; nothing to follow
        new = fact_of(after)
        if _same(fact_of(before) if before is not None else None, new):
            return FactChange(False, False)
        return FactChange(True, self.store.put(new), new.workspace_id, new.customer_id)

    def summary(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str], now: datetime
    ) -> TicketSummary:
        """The customer's summary over their id and each id merged into it."""
        ids = list(dict.fromkeys([customer_id, *merged_ids]))
        return summarize(self.store.of_customers(workspace_id, ids), now)

    def with_open_complaints(
        self, workspace_id: str, customers: Sequence[tuple[str, Sequence[str]]]
    ) -> set[str]:
        """Of these (customer id, merged ids), the customer ids with an open complaint; one
        read for all of them."""
        owner = {mid: cid for cid, merged in customers for mid in (cid, *merged)}
        facts = self.store.of_customers(workspace_id, list(owner))
        latest = {f.ticket_id: f for f in sorted(facts, key=lambda f: f.seq)}
        return {owner[f.customer_id] for f in latest.values() if f.open and f.complaint}
