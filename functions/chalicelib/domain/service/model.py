"""A ticket's value types: its kinds, statuses, priorities and channels, its append-only
event log (`TicketEvent`: `kind`, `at`, `by`, `data`) and the state the log reduces to
(`reduce`). The log is the truth: the SLA engine (domain/service/sla.py) reads it too.

Event kinds and their `data`:
- `created`: `subject`, `kind`, `priority`, `channel`, `customer_id`, `order_id`,
  `line_ids`, `tags`, `assignee`, `body` (the customer's first message, may be empty)
- `status_changed`: `from`, `to`; `priority_changed`: `from`, `to`; `kind_changed`: `from`, `to`
- `assigned`: `from`, `to` (None when unassigned); `tagged`: `added`, `removed`
- `public_reply`: `body`, `delivery` (`queued`); `internal_note`: `body`
- `sla_alert`: `target` (first_reply, next_reply, resolution), `level` (near, breach),
  `policy_id`, `due_at` (the scheduled check's, domain/service/sla_check.py)
- `reply_delivery`: `reply_seq` (the reply's event number), `delivery` (`sent`, `suppressed`,
  `failed`), `reason`, `channel` (`email`, `sms`), `provider_id`: what became of a public reply
- `csat_sent`: `resolution`, `channel`, `delivery` (the messaging decision), `expires_at`;
  `csat_withdrawn`, `csat_expired`: `resolution`; `csat_answered`: `resolution`, `score`
  (1-5), `comment`, `reason` (domain/service/csat.py)
- `opportunity_linked`: `opportunity_id` (domain/sales: an opportunity opened from it)
- `return_status`: `from` (None when the return is new), `to`, `return_id`
  (domain/service/returns.py)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import Conflict


class TicketKind(StrEnum):
    PRE_SALE = "pre_sale"
    ORDER_ISSUE = "order_issue"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    RETURN_REQUEST = "return_request"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer (the SLA clock pauses)
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"  # final: nothing more happens to a closed ticket


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    API = "api"
    CLI = "cli"
    WEB_FORM = "web_form"
    EMAIL = "email"
    SMS = "sms"


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    ASSIGNED = "assigned"
    TAGGED = "tagged"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    KIND_CHANGED = "kind_changed"
    SLA_ALERT = "sla_alert"
    REPLY_DELIVERY = "reply_delivery"
    CSAT_SENT = "csat_sent"
    CSAT_WITHDRAWN = "csat_withdrawn"
    CSAT_ANSWERED = "csat_answered"
    CSAT_EXPIRED = "csat_expired"
    RETURN_STATUS = "return_status"  # a return's status moved: `from`, `to`, `return_id`
    OPPORTUNITY_LINKED = "opportunity_linked"  # a sales opportunity opened from it (docs/sales.md)


# The satisfaction survey's events: recorded on a closed ticket too (domain/service/csat.py)
CSAT_KINDS = frozenset(
    {EventKind.CSAT_SENT, EventKind.CSAT_WITHDRAWN, EventKind.CSAT_ANSWERED, EventKind.CSAT_EXPIRED}
)


@dataclass(frozen=True)
class TicketEvent:
    """One change to a ticket: what (`kind`), when (`at`, timezone-aware UTC), who (`by`:
    `key:<hash prefix>`, `cli`, `customer`), and its `data` (module docstring)."""

    kind: EventKind
    at: datetime
    by: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("a ticket event's time is timezone-aware")


@dataclass(frozen=True)
class Ticket:
    """A ticket's current state: what its events reduce to."""

    workspace_id: str
    id: str
    customer_id: str
    subject: str
    kind: TicketKind
    status: TicketStatus
    priority: Priority
    channel: Channel
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    order_id: str | None = None
    line_ids: tuple[str, ...] = ()
    seq: int = 0  # the number of events reduced
    csat_score: int | None = None
    csat_answered_at: datetime | None = None


class TicketRefused(Conflict):
    """A business rule refuses the change (409 with its `reason`)."""

    code = "conflict"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


def _created(workspace_id: str, ticket_id: str, event: TicketEvent) -> Ticket:
    d = event.data
    return Ticket(
        workspace_id=workspace_id,
        id=ticket_id,
        customer_id=str(d["customer_id"]),
        subject=str(d.get("subject") or ""),
        kind=TicketKind(d["kind"]),
        status=TicketStatus.OPEN,
        priority=Priority(d.get("priority") or Priority.NORMAL),
        channel=Channel(d.get("channel") or Channel.API),
        created_at=event.at,
        updated_at=event.at,
        assignee=d.get("assignee") or None,
        tags=tuple(sorted(set(d.get("tags") or ()))),
        order_id=d.get("order_id") or None,
        line_ids=tuple(d.get("line_ids") or ()),
        seq=1,
    )


def apply(ticket: Ticket, event: TicketEvent) -> Ticket:
    """The ticket after one more event (no rule checked here: `check` does that first)."""
    d, moved = event.data, replace(ticket, updated_at=max(ticket.updated_at, event.at), seq=ticket.seq + 1)
    if event.kind == EventKind.STATUS_CHANGED:
        return replace(moved, status=TicketStatus(d["to"]))
    if event.kind == EventKind.PRIORITY_CHANGED:
        return replace(moved, priority=Priority(d["to"]))
    if event.kind == EventKind.KIND_CHANGED:
        return replace(moved, kind=TicketKind(d["to"]))
    if event.kind == EventKind.ASSIGNED:
        return replace(moved, assignee=d.get("to") or None)
    if event.kind == EventKind.TAGGED:
        tags = (set(ticket.tags) | set(d.get("added") or ())) - set(d.get("removed") or ())
        return replace(moved, tags=tuple(sorted(tags)))
    if event.kind == EventKind.CSAT_ANSWERED:  # the latest answer is the ticket's CSAT
        return replace(moved, csat_score=int(d["score"]), csat_answered_at=event.at)
    return moved  # replies, notes and SLA alerts change no state but the time and the count


def reduce(workspace_id: str, ticket_id: str, events: Iterable[TicketEvent]) -> Ticket:
    """The ticket its log describes; the first event is `created`."""
    ticket: Ticket | None = None
    for event in events:
        if ticket is None:
            if event.kind != EventKind.CREATED:
                raise ValueError("a ticket's log begins with `created`")
            ticket = _created(workspace_id, ticket_id, event)
        else:
            ticket = apply(ticket, event)
    if ticket is None:
        raise ValueError("a ticket has at least its `created` event")
    return ticket


# Where a status may go; closed goes nowhere, solved may reopen.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.PENDING, TicketStatus.ON_HOLD, TicketStatus.SOLVED}),
    TicketStatus.PENDING: frozenset({TicketStatus.OPEN, TicketStatus.ON_HOLD, TicketStatus.SOLVED}),
    TicketStatus.ON_HOLD: frozenset({TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED}),
    TicketStatus.SOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}


def check(ticket: Ticket, event: TicketEvent) -> None:
    """Refuse an event the ticket's state does not allow (TicketRefused, its reason)."""
    if event.kind == EventKind.REPLY_DELIVERY:
        return  # what became of a reply already made: recorded whatever the status now
    if ticket.status == TicketStatus.CLOSED and event.kind not in CSAT_KINDS:
        raise TicketRefused("the ticket is closed", "ticket_closed")
    d = event.data
    if event.kind == EventKind.CREATED:
        raise TicketRefused("the ticket exists already", "already_created")
    if event.kind == EventKind.STATUS_CHANGED:
        to = TicketStatus(d["to"])
        if to == ticket.status:
            raise TicketRefused(f"the ticket is {to} already", "no_change")
        if to not in TRANSITIONS[ticket.status]:
            raise TicketRefused(f"a {ticket.status} ticket cannot become {to}", "invalid_transition")
    elif event.kind == EventKind.PRIORITY_CHANGED and Priority(d["to"]) == ticket.priority:
        raise TicketRefused(f"the priority is {ticket.priority} already", "no_change")
    elif event.kind == EventKind.KIND_CHANGED and TicketKind(d["to"]) == ticket.kind:
        raise TicketRefused(f"the kind is {ticket.kind} already", "no_change")
    elif event.kind == EventKind.ASSIGNED and (d.get("to") or None) == ticket.assignee:
        raise TicketRefused("the ticket has that assignee already", "no_change")
