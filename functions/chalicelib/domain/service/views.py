"""The tickets' request and answer models (the API's and the CLI's; docs/service.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.service.model import Channel, Priority, Ticket, TicketEvent, TicketKind, TicketStatus
from chalicelib.domain.service.sla_views import SlaView
from chalicelib.domain.timemath import iso

Tag = Field(min_length=1, max_length=40)


class TicketIn(BaseModel):
    """`POST /tickets`: a ticket for a customer (by id, or by email or phone through the
    identity rules: one no profile holds becomes a profile, named `name`), optionally about
    an order's lines."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, min_length=3, max_length=40)
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A guest's name, for the profile a new email or phone makes",
    )
    subject: str = Field(min_length=1, max_length=200)
    kind: TicketKind
    body: str = Field(default="", max_length=10_000)
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.API
    assignee: str | None = Field(default=None, min_length=1, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    order_id: str | None = Field(default=None, min_length=1, max_length=64)
    line_ids: list[str] = Field(default_factory=list, max_length=100)


class TicketEventIn(BaseModel):
    """`POST /tickets/{id}/events`: one change. `reply` and `note` take `body`; `status`,
    `priority`, `kind` and `assign` take `to` (`assign` with no `to` unassigns); `tag`
    takes `add` and `remove`; `return` takes `to` (a return request's return status, moved by
    hand when no storefront return is behind it: docs/service.md#returns-and-exchanges)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["reply", "note", "status", "priority", "kind", "assign", "tag", "return"]
    body: str | None = Field(default=None, min_length=1, max_length=10_000)
    to: str | None = Field(default=None, min_length=1, max_length=100)
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class TicketEventView(BaseModel):
    kind: str
    at: str
    by: str
    data: dict[str, Any]


class TicketView(BaseModel):
    id: str
    customer_id: str
    subject: str
    kind: TicketKind
    status: TicketStatus
    priority: Priority
    channel: Channel
    assignee: str | None
    tags: list[str]
    order_id: str | None
    line_ids: list[str]
    created_at: str
    updated_at: str


class TicketDetail(TicketView):
    events: list[TicketEventView]
    sla: SlaView | None = None  # GET /tickets/{id}: computed as of the request (docs/service.md)


class TicketPage(BaseModel):
    tickets: list[TicketView]
    next_cursor: str | None


def event_view(event: TicketEvent) -> TicketEventView:
    return TicketEventView(kind=event.kind.value, at=iso(event.at) or "", by=event.by, data=dict(event.data))


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(**_fields(ticket))


def ticket_detail(ticket: Ticket, events: list[TicketEvent]) -> TicketDetail:
    return TicketDetail(**_fields(ticket), events=[event_view(e) for e in events])


def _fields(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id,
        "customer_id": t.customer_id,
        "subject": t.subject,
        "kind": t.kind,
        "status": t.status,
        "priority": t.priority,
        "channel": t.channel,
        "assignee": t.assignee,
        "tags": list(t.tags),
        "order_id": t.order_id,
        "line_ids": list(t.line_ids),
        "created_at": iso(t.created_at) or "",
        "updated_at": iso(t.updated_at) or "",
    }


class TicketTimelineEntry(BaseModel):
    """One ticket event on the customer's timeline (`GET /customers/{id}`): `type` is
    `ticket_` and the event's kind (`ticket_created`, `ticket_public_reply`...)."""

    at: str
    type: str
    ticket_id: str


class TicketQuery(BaseModel):
    """`GET /tickets`: the queue of one status (`open` when not given)."""

    status: Literal["open", "pending", "on_hold", "solved", "closed"] | None = Field(
        None, description="The queue's status (default `open`)"
    )
    assignee: str | None = Field(None, max_length=100, description="Only this assignee's tickets")
    kind: Literal["pre_sale", "order_issue", "complaint", "suggestion", "return_request"] | None = Field(
        None, description="Only this kind of ticket"
    )
    limit: int | None = Field(None, ge=1, description="Items on a page (kept within 1 to 100)")
    cursor: str | None = Field(None, description="The `next_cursor` of the page before (URL-encoded)")
