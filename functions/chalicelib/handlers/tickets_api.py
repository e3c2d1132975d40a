"""Admin API: the service desk's tickets (docs/service.md; docs/data-model.md, "Tickets")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.container import container
from chalicelib.handlers.admin import workspace_id
from chalicelib.handlers.http import (
    api,
    key_actor,
    logger,
    model_body,
    model_query,
    query_cursor,
    query_limit,
)
from chalicelib.handlers.openapi import operation

bp = Blueprint(__name__)
MAX_CURSOR = 120
VIEWS = "chalicelib.domain.service.views"


def _actor() -> str:
    return key_actor(bp.current_request.headers.get("authorization"))


@bp.route("/tickets", methods=["POST"])
@operation(
    "Open a ticket for a customer, optionally about an order's lines",
    "tickets",
    {201: f"{VIEWS}:TicketDetail"},
    body=f"{VIEWS}:TicketIn",
    errors=(400, 404, 409),
)
@api
def create_ticket() -> Any:
    """`{"customer_id" | "email" | "phone", "subject", "kind", "body", "priority", "channel",
    "assignee", "tags", "order_id", "line_ids"}`: an open ticket and its `created` event."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.views import TicketIn
    from chalicelib.handlers.http import json_response

    ws = workspace_id()
    body = model_body(TicketIn, bp.current_request.raw_body, "ticket")
    if body.customer_id:
        logger.append_keys(customer_id=body.customer_id)
    return json_response(container().desk.create(ws, body, _actor(), now_utc()), 201)


@bp.route("/tickets", methods=["GET"])
@operation(
    "The ticket queue: one status's tickets, oldest first, by assignee and kind",
    "tickets",
    {200: f"{VIEWS}:TicketPage"},
    query=f"{VIEWS}:TicketQuery",
    errors=(400,),
)
@api
def ticket_queue() -> Any:
    """`?status=open&assignee=&kind=&limit=50&cursor=`"""
    from chalicelib.domain.service.model import TicketKind, TicketStatus
    from chalicelib.domain.service.views import TicketQuery

    ws = workspace_id()
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50, 100), query_cursor(params, "", MAX_CURSOR)
    filters = {k: v for k, v in params.items() if k in ("status", "assignee", "kind")}
    query = model_query(TicketQuery, filters, "ticket query")
    status, kind = TicketStatus(query.status or "open"), query.kind and TicketKind(query.kind)
    return container().tickets.queue(ws, status, limit, cursor, query.assignee, kind)


@bp.route("/tickets/{ticket_id}", methods=["GET"])
@operation(
    "A ticket with its events, oldest first, and its SLA as of now",
    "tickets",
    {200: f"{VIEWS}:TicketDetail"},
    errors=(404,),
)
@api
def show_ticket(ticket_id: str) -> Any:
    """The ticket, its events and `sla` (each target's state, computed on this read)."""
    from chalicelib.domain.models import now_utc

    return container().sla.show(workspace_id(), ticket_id, now_utc())


@bp.route("/tickets/{ticket_id}/events", methods=["POST"])
@operation(
    "Change a ticket: reply, note, status, priority, kind, assign, tag or return (one event)",
    "tickets",
    {200: f"{VIEWS}:TicketDetail"},
    body=f"{VIEWS}:TicketEventIn",
    errors=(400, 404, 409),
)
@api
def ticket_event(ticket_id: str) -> Any:
    """`{"type": "reply"|"note", "body"}`, `{"type": "status"|"priority"|"kind"|"assign", "to"}`,
    `{"type": "tag", "add": [...], "remove": [...]}`, `{"type": "return", "to"}` (a return
    request's return status): 409 with a `reason` when the ticket's state refuses it
    (`ticket_closed`, `invalid_transition`, `no_change`, `storefront_return`)."""
    from chalicelib.domain.models import now_utc
    from chalicelib.domain.service.views import TicketEventIn

    ws = workspace_id()
    body = model_body(TicketEventIn, bp.current_request.raw_body, "ticket event")
    if body.type == "return":
        container().returns.by_hand(ws, ticket_id, body.to or "", _actor(), now_utc())
        return container().sla.show(ws, ticket_id, now_utc())
    return container().desk.record(ws, ticket_id, body, _actor(), now_utc())


@bp.route("/tickets/{ticket_id}/events/{seq}/deliver", methods=["POST"])
@operation(
    "Send a public reply again (a failed or queued delivery); never twice once sent",
    "tickets",
    {200: f"{VIEWS}:TicketDetail"},
    errors=(400, 404, 409),
)
@api
def deliver_reply(ticket_id: str, seq: str) -> Any:
    """The reply at event `seq` sent through the messaging guardrails (keyed by the ticket and
    `seq`: a reply sent already sends nothing) and its `reply_delivery` outcome appended."""
    from chalicelib.domain.errors import BadRequest
    from chalicelib.domain.models import now_utc

    ws = workspace_id()
    if not seq.isdigit() or not 0 < int(seq) < 1_000_000:
        raise BadRequest("`seq` is an event number", [{"field": "seq", "error": "invalid"}])
    return container().desk.deliver(ws, ticket_id, int(seq), now_utc())


@bp.route("/customers/{customer_id}/tickets", methods=["GET"])
@operation(
    "A page of the customer's tickets, newest first",
    "tickets",
    {200: f"{VIEWS}:TicketPage"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
)
@api
def customer_tickets(customer_id: str) -> Any:
    """`?limit=50&cursor=`"""
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50, 100), query_cursor(params, "", MAX_CURSOR)
    return container().tickets.of_customer(ws, customer_id, limit, cursor)
