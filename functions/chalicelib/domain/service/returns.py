"""Returns and exchanges on the service desk (docs/service.md#returns-and-exchanges).

A storefront return (Shopify `returns/*` webhooks) is kept by its key, linked to its order,
the order's customer and its lines, with a ticket of kind `return_request` created with it.
Its status is the join of every status delivered (return_model.py), so late and
out-of-order deliveries converge; each move is a `return_status` event on the ticket, written
in the same transaction as the return. Then, keyed so that any replay does nothing twice:

- points: an approved return (open, closed) reverses the points of its lines' share of the
  order through the ledger, under the return's own key, counted with the order's refunds so
  the refund that follows reverses nothing more; a return cancelled or declined after its
  approval gives them back (domain/loyalty/ledger.py `on_return`);
- the customer's transactional message on approval, decline and close (`txn_return_*`).

A return with no storefront behind it (WooCommerce has no returns API, or a ticket made
through Patron) is moved by an agent (`by_hand`), along the same lifecycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.identity import identity_keys
from chalicelib.domain.models import Delivery, ReturnUpdate
from chalicelib.domain.money import round_money
from chalicelib.domain.order_snapshot import OrderDetail, OrderLine, public_order_id
from chalicelib.domain.ports import OrderReader, ProfileReader, WorkspaceReader
from chalicelib.domain.service.model import (
    Channel,
    EventKind,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketRefused,
    TicketStatus,
    apply,
    reduce,
)
from chalicelib.domain.service.ports import TicketStore
from chalicelib.domain.service.return_model import (
    BY_HAND,
    COVERED,
    NOTICES,
    PATRON,
    ReturnLine,
    ReturnStatus,
    StoredReturn,
    join,
    status_of,
)
from chalicelib.domain.service.return_ports import ReturnNotices, ReturnOutbox, ReturnPoints, ReturnStore
from chalicelib.domain.service.tickets import ticket_id_at

ATTEMPTS = 5  # a concurrent delivery of the same return, or an agent's change to its ticket
FRESH = timedelta(hours=48)  # a status older than this sends no message (as order notifications)
STOREFRONT = "storefront"  # `by` of a storefront's events
MOVED, SAME, LOST = "moved", "same", "lost"  # a move's outcomes


def returned_amount(
    total: Decimal, currency: str | None, order_lines: tuple[OrderLine, ...], lines: tuple[ReturnLine, ...]
) -> Decimal:
    """The returned lines' share of the order's total paid: the total times their value
    (unit price x units, at most the units ordered) over the value of all the order's lines,
    rounded to the currency's minor units. A line the order does not hold counts nothing."""
    everything = sum((li.price * li.quantity for li in order_lines), Decimal(0))
    if everything <= 0:
        return Decimal(0)
    value = Decimal(0)
    for line in lines:
        found = _line(order_lines, line.line_id)
        if found is not None:
            value += found.price * min(line.quantity, found.quantity)
    return round_money(total * min(value, everything) / everything, currency)


def _line(order_lines: tuple[OrderLine, ...], ref: str) -> OrderLine | None:
    for li in order_lines:
        if ref in (li.line_id, li.product_id, li.sku):
            return li
    return None


def _token(key: str) -> Callable[[], str]:
    """A return's ticket id suffix from its key: the same delivery makes the same id."""
    return lambda: hashlib.sha256(key.encode()).hexdigest()[:6]


class ReturnService:
    def __init__(
        self,
        store: ReturnStore,
        tickets: TicketStore,
        orders: OrderReader,
        profiles: ProfileReader,
        workspaces: WorkspaceReader,
        points: ReturnPoints | None = None,
        outbox: ReturnOutbox | None = None,
        notify: ReturnNotices | None = None,
    ) -> None:
        self.store = store
        self.tickets = tickets
        self.orders = orders
        self.profiles = profiles
        self.workspaces = workspaces
        self.points = points
        self.outbox = outbox  # the messages due, sent by the minute job (`send_due`)
        self.notify = notify

    def receive(self, delivery: Delivery, update: ReturnUpdate) -> Literal["stored", "duplicate"]:
        """A storefront's return webhook: `stored` (created or moved) or `duplicate`."""
        ws, status = delivery.workspace_id, status_of(update.status)
        at = delivery.triggered_at or delivery.received_at
        key = public_order_id(delivery.source_id, update.return_id)
        for _ in range(ATTEMPTS):
            stored = self.store.get(ws, key)
            if stored is None:
                made = self._new(delivery, update, key, status, at)
                if made is None:
                    continue  # another delivery created it meanwhile: move it instead
                self._effects(made, delivery.received_at, at)
                return "stored"
            if not stored.lines and update.lines:  # a short payload (close, cancel) came first
                filled = self._fill(stored, update)
                if filled is None:
                    continue
                stored = filled
            outcome, now = self._move(stored, status, at, STOREFRONT)
            if outcome == LOST:
                continue
            self._effects(now, delivery.received_at, at)  # keyed: a replay settles what a crash left
            return "stored" if outcome == MOVED else "duplicate"
        raise Conflict("the return kept changing; the storefront will deliver it again")

    def by_hand(self, workspace_id: str, ticket_id: str, to: str, by: str, at: datetime) -> StoredReturn:
        """An agent moves the return of a `return_request` ticket with no storefront return
        behind it, along the lifecycle (409 `invalid_transition`, `no_change`)."""
        try:
            target = status_of(to)
        except ValueError:
            raise TicketRefused(
                f"`to` is one of {', '.join(s.value for s in ReturnStatus)}", "invalid"
            ) from None
        found = self.tickets.load(workspace_id, ticket_id)
        if found is None:
            raise NotFound("no such ticket")
        ticket, events = found
        if ticket.kind != TicketKind.RETURN_REQUEST:
            raise TicketRefused("the ticket is not a return request", "not_a_return")
        if events and events[0].by == STOREFRONT:
            raise TicketRefused("the storefront moves this return", "storefront_return")
        key = f"{PATRON}.{ticket.id}"
        for _ in range(ATTEMPTS):
            stored = self.store.get(workspace_id, key) or self._of_ticket(ticket, key, at)
            if stored is None:
                continue
            if target == stored.status:
                raise TicketRefused(f"the return is {target} already", "no_change")
            if target not in BY_HAND[stored.status]:
                raise TicketRefused(f"a {stored.status} return cannot become {target}", "invalid_transition")
            outcome, moved = self._move(stored, target, at, by)
            if outcome == MOVED:
                self._effects(moved, at, at)
                return moved
        raise Conflict("the return changed meanwhile; try again")

    def _of_ticket(self, ticket: Ticket, key: str, at: datetime) -> StoredReturn | None:
        """A Patron return, made on the ticket's first move: each named line (product id or
        SKU) with all its units."""
        if not ticket.order_id:
            raise TicketRefused("a return needs the ticket's order", "needs_order")
        detail = self._order(ticket.workspace_id, ticket.order_id)
        lines = tuple(
            ReturnLine(ref, found.quantity)
            for ref in ticket.line_ids
            if (found := _line(detail.lines, ref)) is not None
        )
        made = self._stored(
            ticket.workspace_id, key, ticket.order_id, ticket.customer_id, ticket.id, detail, lines, at
        )
        made = replace(made, status=ReturnStatus.REQUESTED)
        return made if self.store.create(made, None, []) else None

    def _order(self, workspace_id: str, order_id: str) -> OrderDetail:
        found = self.orders.order_details(workspace_id, [order_id])
        if not found:  # the order's webhook has not been stored yet: the storefront retries
            raise NotFound("the return's order is not known yet")
        return found[0]

    def _stored(
        self,
        workspace_id: str,
        key: str,
        order_id: str,
        customer_id: str,
        ticket_id: str,
        detail: OrderDetail,
        lines: tuple[ReturnLine, ...],
        at: datetime,
        status: ReturnStatus = ReturnStatus.REQUESTED,
        name: str | None = None,
    ) -> StoredReturn:
        snap = detail.snapshot
        return StoredReturn(
            workspace_id=workspace_id,
            key=key,
            order_id=order_id,
            customer_id=customer_id,
            ticket_id=ticket_id,
            status=status,
            updated_at=at,
            lines=lines,
            amount=returned_amount(snap.total, snap.currency, detail.lines, lines),
            currency=snap.currency,
            name=name,
        )

    def _new(
        self, delivery: Delivery, update: ReturnUpdate, key: str, status: ReturnStatus, at: datetime
    ) -> StoredReturn | None:
        """The return and its ticket (`created`, then `return_status` from none), in one write."""
        ws = delivery.workspace_id
        if not update.order_id:  # a topic without its order, ahead of the request: retried
            raise NotFound("the return's order is not known yet")
        order_id = public_order_id(delivery.source_id, update.order_id)
        detail = self._order(ws, order_id)
        profile = self._customer(ws, detail)
        lines = tuple(ReturnLine(li.line_item_id, li.quantity) for li in update.lines)
        ticket_id = ticket_id_at(at, _token(key))
        ret = self._stored(
            ws, key, order_id, profile.customer_id, ticket_id, detail, lines, at, status, update.name
        )
        refs = [
            ref
            for li in lines
            if (f := _line(detail.lines, li.line_id))
            for ref in [f.product_id or f.sku]
            if ref
        ]
        created = TicketEvent(
            EventKind.CREATED,
            at,
            STOREFRONT,
            {
                "subject": f"Return {update.name or update.return_id}",
                "kind": TicketKind.RETURN_REQUEST.value,
                "priority": "normal",
                "channel": Channel.API.value,
                "customer_id": profile.customer_id,
                "order_id": order_id,
                "line_ids": list(dict.fromkeys(refs)),
                "tags": ["return"],
                "assignee": None,
                "body": "",
            },
        )
        moved = TicketEvent(
            EventKind.RETURN_STATUS, at, STOREFRONT, {"from": None, "to": status.value, "return_id": key}
        )
        ticket = reduce(ws, ticket_id, [created, moved])
        return ret if self.store.create(ret, ticket, [created, moved]) else None

    def _fill(self, stored: StoredReturn, update: ReturnUpdate) -> StoredReturn | None:
        """The lines (and their amount, the name) a later delivery brings to a return first
        known from a short payload; None when a concurrent write came first."""
        detail = self._order(stored.workspace_id, stored.order_id)
        lines = tuple(ReturnLine(li.line_item_id, li.quantity) for li in update.lines)
        snap = detail.snapshot
        after = replace(
            stored,
            lines=lines,
            amount=returned_amount(snap.total, snap.currency, detail.lines, lines),
            name=stored.name or update.name,
        )
        return after if self.store.move(stored, after, None, None, None) else None

    def _customer(self, workspace_id: str, detail: OrderDetail) -> CustomerProfile:
        """The order's customer as the profiles resolved it (merges followed)."""
        person = detail.snapshot.person
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise NotFound("workspace not found")
        keys = identity_keys(person.email, person.phone, person.ext)
        found = self.profiles.find_profiles(workspace_id, settings.id_salt, keys) if keys else []
        if not found:
            raise NotFound("the return's customer is not known yet")
        for k in keys:
            for profile in found:
                if k in profile.identity_keys():
                    return self.profiles.load(workspace_id, profile.customer_id) or profile
        return found[0]

    def _move(
        self, stored: StoredReturn, status: ReturnStatus, at: datetime, by: str
    ) -> tuple[str, StoredReturn]:
        """The return at the join of its status and `status`, with its ticket's event, in one
        write: (MOVED, the return after), (SAME, as stored) when nothing moves, or (LOST, as
        stored) when a concurrent write came first (read again)."""
        to = join(stored.status, status)
        if to == stored.status:
            return SAME, stored
        after = replace(stored, status=to, updated_at=max(at, stored.updated_at))
        found = self.tickets.load(stored.workspace_id, stored.ticket_id)
        ticket = found[0] if found else None
        if ticket is None or ticket.status == TicketStatus.CLOSED:  # a closed ticket takes no event
            written = self.store.move(stored, after, None, None, None)
        else:
            data = {"from": stored.status.value, "to": to.value, "return_id": stored.key}
            event = TicketEvent(EventKind.RETURN_STATUS, max(at, ticket.updated_at), by, data)
            written = self.store.move(stored, after, ticket, event, apply(ticket, event))
        return (MOVED, after) if written else (LOST, stored)

    def _effects(self, ret: StoredReturn, now: datetime, at: datetime) -> None:
        """The points and the message the return's status calls for, each keyed (once)."""
        if self.points is not None and ret.amount > 0 and ret.status != ReturnStatus.REQUESTED:
            approved = ret.status in COVERED  # declined or cancelled: given back if it was approved
            self.points.on_return(ret.workspace_id, ret.order_id, ret.key, ret.amount, approved, at)
        kind = NOTICES.get(ret.status)
        if kind is None or self.outbox is None or now - at > FRESH:
            return
        self.outbox.put(ret.workspace_id, ret.key, kind, at)

    def send_due(self, now: datetime, limit: int = 100) -> dict[str, Any]:
        """The minute job's (`flow_tick`): each waiting message sent through the messaging
        service (keyed: a message sent before is a duplicate), or dropped when its status is
        older than FRESH or its return gone; then removed. A failure stays for the next run."""
        result: dict[str, Any] = {"sent": 0, "dropped": 0, "errors": []}
        if self.outbox is None or self.notify is None:
            return result
        for ws, key, kind, at in self.outbox.due(limit):
            ret = self.store.get(ws, key)
            try:
                if ret is None or now - at > FRESH:
                    result["dropped"] += 1
                else:
                    self.notify.send(ret, kind, now)
                    result["sent"] += 1
            except Exception as exc:  # noqa: BLE001  # the next run retries it; the others go on
                result["errors"].append({"return": key, "kind": kind, "error": type(exc).__name__})
                continue
            self.outbox.done(ws, key, kind)
        return result
