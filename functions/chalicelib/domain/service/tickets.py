"""The service desk's tickets: created for a known customer (optionally about an order's
lines), changed only by appending events the ticket's state allows (docs/service.md)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.identity import identity_keys, normalize_email, normalize_phone
from chalicelib.domain.models import ContactForm
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.order_snapshot import public_order_id
from chalicelib.domain.ports import OrderReader, ProfileReader, WorkspaceReader
from chalicelib.domain.service.intake import guest_person
from chalicelib.domain.service.model import (
    EventKind,
    Priority,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketRefused,
    TicketStatus,
    apply,
    check,
    reduce,
)
from chalicelib.domain.service.ports import GuestProfiles, ReplyDelivery, TicketHook, TicketStore
from chalicelib.domain.service.views import (
    TicketDetail,
    TicketEventIn,
    TicketIn,
    TicketPage,
    TicketTimelineEntry,
    ticket_detail,
    ticket_view,
)
from chalicelib.domain.timemath import iso

TIMELINE_TICKETS = 10  # a customer's latest tickets whose events the timeline shows
ATTEMPTS = 3  # appends retried from a fresh read when another append came first


def ticket_id_at(at: datetime, token: Callable[[], str] = lambda: secrets.token_hex(3)) -> str:
    """`tk_` + the creation time + 6 random hex digits: ids sort by creation time."""
    return "tk_" + at.strftime("%Y%m%d%H%M%S%f") + token()


def _tags(values: list[str]) -> list[str]:
    tags = sorted({" ".join(v.split()).lower() for v in values} - {""})
    if any(len(t) > 40 for t in tags):
        raise BadRequest("a tag is 1 to 40 characters", [{"field": "tags", "error": "too_long"}])
    return tags


class TicketService:
    def __init__(
        self,
        store: TicketStore,
        profiles: ProfileReader,
        orders: OrderReader | None = None,
        workspaces: WorkspaceReader | None = None,
        guests: GuestProfiles | None = None,
        replies: ReplyDelivery | None = None,
        hooks: Sequence[TicketHook] = (),
    ) -> None:
        self.store = store
        self.profiles = profiles
        self.orders = orders
        self.workspaces = workspaces
        self.guests = guests  # an unknown email or phone becomes a profile (else 404)
        self.replies = replies  # public replies sent to the customer (else left `queued`)
        self.hooks = hooks  # what follows a change (the CSAT survey: domain/service/csat_service.py)

    def create(
        self, workspace_id: str, body: TicketIn, by: str, at: datetime, ticket_id: str | None = None
    ) -> TicketDetail:
        """A new open ticket for the customer (its surviving id, merges followed); `ticket_id`:
        one the caller derived (a contact form's, from its id), else a new one."""
        profile = self._customer(workspace_id, body, at)
        if body.line_ids and not body.order_id:
            raise BadRequest("line_ids need an order_id", [{"field": "line_ids", "error": "needs_order_id"}])
        if body.order_id:
            self._check_order(workspace_id, profile, body.order_id, body.line_ids)
        data: dict[str, Any] = {
            "subject": body.subject,
            "kind": body.kind.value,
            "priority": body.priority.value,
            "channel": body.channel.value,
            "customer_id": profile.customer_id,
            "order_id": body.order_id,
            "line_ids": list(body.line_ids),
            "tags": _tags(body.tags),
            "assignee": body.assignee,
            "body": body.body,
        }
        event = TicketEvent(EventKind.CREATED, at, by, data)
        ticket = reduce(workspace_id, ticket_id or ticket_id_at(at), [event])
        self.store.create(ticket, event)
        return ticket_detail(ticket, [event])

    def contact_form(
        self, workspace_id: str, source_id: str, form: ContactForm
    ) -> Literal["stored", "duplicate"]:
        """A storefront contact form's ticket (channel `web_form`, `by` `customer`, at its
        submission), once per form: its id is derived from the source and the form's id, so a
        redelivery finds it (`duplicate`). The order is linked when it is one of the
        customer's; the message keeps the order id as the customer gave it either way."""
        digest = hashlib.sha256(f"{source_id}\n{form.form_id}".encode()).hexdigest()
        ticket_id = ticket_id_at(form.submitted_at, lambda: digest[:6])
        if self.store.load(workspace_id, ticket_id) is not None:
            return "duplicate"
        message = form.message + (f"\n\nOrder: {form.order_id}" if form.order_id else "")
        values: dict[str, Any] = {
            "email": form.person.email,
            "phone": form.person.phone,
            "name": " ".join(n for n in (form.person.first_name, form.person.last_name) if n) or None,
            "subject": form.subject,
            "kind": form.ticket_kind,
            "body": message,
            "channel": "web_form",
        }
        order = public_order_id(source_id, form.order_id) if form.order_id else None
        for linked in [order, None] if order else [None]:
            body = TicketIn.model_validate(values | {"order_id": linked})
            try:
                self.create(workspace_id, body, "customer", form.submitted_at, ticket_id)
                return "stored"
            except TicketRefused:
                continue  # not one of the customer's orders: the ticket without the link
            except RuntimeError:  # the id taken meanwhile: a redelivery at the same moment
                if self.store.load(workspace_id, ticket_id) is not None:
                    return "duplicate"
                raise
        raise Conflict("the contact form's ticket could not be opened")

    def record(
        self, workspace_id: str, ticket_id: str, body: TicketEventIn, by: str, at: datetime
    ) -> TicketDetail:
        """Append one change, checked against the ticket's state (409 with a reason)."""
        for _ in range(ATTEMPTS):
            ticket, events = self._load(workspace_id, ticket_id)
            kind, data = _event_of(ticket, body)
            event = TicketEvent(kind, max(at, ticket.updated_at), by, data)
            check(ticket, event)
            after = apply(ticket, event)
            for hook in self.hooks:
                hook.before_append(after, [*events, event])
            if self.store.append(ticket, event, after):
                for hook in self.hooks:
                    hook.after_append(after, [*events, event])
                if kind == EventKind.PUBLIC_REPLY and self.replies is not None:
                    return self.deliver(workspace_id, ticket_id, after.seq, at)
                return ticket_detail(after, [*events, event])
        raise Conflict("the ticket changed meanwhile; try again")

    def deliver(self, workspace_id: str, ticket_id: str, reply_seq: int, at: datetime) -> TicketDetail:
        """Send the public reply at event `reply_seq` (once: a retry finds it sent) and append
        its outcome (`reply_delivery`); the reply itself is in the log already, never lost."""
        ticket, events = self._load(workspace_id, ticket_id)
        if reply_seq > len(events) or events[reply_seq - 1].kind != EventKind.PUBLIC_REPLY:
            raise NotFound("no such reply on the ticket")
        if self.replies is None:
            return ticket_detail(ticket, events)
        body = str(events[reply_seq - 1].data.get("body") or "")
        outcome = self.replies.deliver(ticket, reply_seq, body, at)
        if outcome is None:  # another attempt is sending it
            return ticket_detail(ticket, events)
        data = {"reply_seq": reply_seq, **outcome}
        for _ in range(ATTEMPTS):
            event = TicketEvent(EventKind.REPLY_DELIVERY, max(at, ticket.updated_at), "patron", data)
            after = apply(ticket, event)
            if self.store.append(ticket, event, after):
                return ticket_detail(after, [*events, event])
            ticket, events = self._load(workspace_id, ticket_id)
        raise Conflict("the ticket changed meanwhile; try again")

    def show(self, workspace_id: str, ticket_id: str) -> TicketDetail:
        return ticket_detail(*self._load(workspace_id, ticket_id))

    def queue(
        self,
        workspace_id: str,
        status: TicketStatus,
        limit: int,
        cursor: str | None,
        assignee: str | None = None,
        kind: TicketKind | None = None,
    ) -> TicketPage:
        tickets, next_cursor = self.store.queue(workspace_id, status, limit, cursor, assignee, kind)
        return TicketPage(tickets=[ticket_view(t) for t in tickets], next_cursor=next_cursor)

    def of_customer(self, workspace_id: str, customer_id: str, limit: int, cursor: str | None) -> TicketPage:
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("no such customer")
        ids = [profile.customer_id, *(profile.merged_ids or ())]  # merged ids' tickets are theirs
        tickets, next_cursor = self.store.of_customers(workspace_id, ids, limit, cursor)
        return TicketPage(tickets=[ticket_view(t) for t in tickets], next_cursor=next_cursor)

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str]
    ) -> list[TicketTimelineEntry]:
        """The events of the customer's latest tickets (TIMELINE_TICKETS under each id)."""
        entries: list[TicketTimelineEntry] = []
        for cid in dict.fromkeys([customer_id, *merged_ids]):
            tickets, _ = self.store.of_customer(workspace_id, cid, TIMELINE_TICKETS, None)
            for ticket in tickets:
                found = self.store.load(workspace_id, ticket.id)
                for event in found[1] if found else ():
                    at = iso(event.at) or ""
                    entries.append(
                        TicketTimelineEntry(at=at, type=f"ticket_{event.kind}", ticket_id=ticket.id)
                    )
        return entries

    def resolve_customer(
        self, workspace_id: str, customer_id: str | None, email: str | None, phone: str | None, at: datetime
    ) -> str:
        """The surviving profile's id as a ticket resolves its customer (a guest becomes one):
        the sales pipeline's prospects (domain/sales) are resolved the same way."""
        asked = TicketIn(
            customer_id=customer_id, email=email, phone=phone, subject="-", kind=TicketKind.PRE_SALE
        )
        return self._customer(workspace_id, asked, at).customer_id

    def _customer(self, workspace_id: str, body: TicketIn, at: datetime) -> CustomerProfile:
        """The customer by id (merges followed), or by email then phone as orders resolve
        them (identity keys, the workspace's salt, the phone index); a guest no profile
        holds becomes one (`guests`)."""
        if body.customer_id:
            profile = self.profiles.load(workspace_id, body.customer_id)
            if profile is None:
                raise NotFound("no such customer")
            return profile
        email, phone = normalize_email(body.email), normalize_phone(body.phone)
        keys = identity_keys(email, phone, None)
        if not keys:
            problem = [{"field": "customer_id", "error": "give customer_id, email or phone"}]
            raise BadRequest("the ticket names no customer", problem)
        settings = self.workspaces.settings(workspace_id) if self.workspaces else None
        if settings is None:
            raise NotFound("workspace not found")
        found = {p.customer_id: p for p in self.profiles.find_profiles(workspace_id, settings.id_salt, keys)}
        for key in keys:  # email first, as orders resolve
            for profile in found.values():
                if key in profile.identity_keys():
                    return profile
        if found:
            return next(iter(found.values()))
        made = (
            self.guests.profile_for(workspace_id, guest_person(email, phone, body.name), at)
            if self.guests
            else None
        )
        profile = self.profiles.load(workspace_id, made) if made else None
        if profile is None:
            raise NotFound("no customer with that email or phone")
        return profile

    def _check_order(
        self, workspace_id: str, profile: CustomerProfile, order_id: str, lines: list[str]
    ) -> None:
        """The order is one of the customer's (merged ids' too), and each line names one of
        its lines by product id or SKU (Patron keeps no line ids of its own)."""
        if order_id not in all_entries(self.profiles, workspace_id, profile):
            raise TicketRefused("the order is not one of the customer's", "not_the_customers_order")
        if not lines or self.orders is None:
            return
        found = self.orders.order_details(workspace_id, [order_id])
        known = {ref for o in found for line in o.lines for ref in (line.product_id, line.sku) if ref}
        if set(lines) - known:
            raise TicketRefused("a line is not one of the order's", "unknown_line")

    def _load(self, workspace_id: str, ticket_id: str) -> tuple[Ticket, list[TicketEvent]]:
        found = self.store.load(workspace_id, ticket_id)
        if found is None:
            raise NotFound("no such ticket")
        return found


def _needs(value: str | None, field: str) -> str:
    if not value:
        raise BadRequest(f"`{field}` is required", [{"field": field, "error": "missing"}])
    return value


def _enum(cls: Any, value: str | None) -> Any:
    try:
        return cls(_needs(value, "to"))
    except ValueError:
        choices = ", ".join(m.value for m in cls)
        raise BadRequest(f"`to` is one of {choices}", [{"field": "to", "error": "invalid"}]) from None


def _event_of(ticket: Ticket, body: TicketEventIn) -> tuple[EventKind, dict[str, Any]]:
    """The event kind and data a request asks for."""
    if body.type == "reply":
        return EventKind.PUBLIC_REPLY, {"body": _needs(body.body, "body"), "delivery": "queued"}
    if body.type == "note":
        return EventKind.INTERNAL_NOTE, {"body": _needs(body.body, "body")}
    if body.type == "status":
        return EventKind.STATUS_CHANGED, {
            "from": ticket.status.value,
            "to": _enum(TicketStatus, body.to).value,
        }
    if body.type == "priority":
        return EventKind.PRIORITY_CHANGED, {
            "from": ticket.priority.value,
            "to": _enum(Priority, body.to).value,
        }
    if body.type == "kind":
        return EventKind.KIND_CHANGED, {"from": ticket.kind.value, "to": _enum(TicketKind, body.to).value}
    if body.type == "assign":
        return EventKind.ASSIGNED, {"from": ticket.assignee, "to": body.to}
    if body.type == "return":  # the returns service's (domain/service/returns.py `by_hand`)
        problem = [{"field": "type", "error": "invalid"}]
        raise BadRequest("a return moves through the returns service", problem)
    added, removed = _tags(body.add), _tags(body.remove)
    if not added and not removed:
        raise BadRequest("`add` or `remove` is required", [{"field": "add", "error": "missing"}])
    return EventKind.TAGGED, {"added": added, "removed": removed}
