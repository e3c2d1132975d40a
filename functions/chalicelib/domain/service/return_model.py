"""A return's value types: the Shopify Return lifecycle's statuses, the order in which they
converge, and the stored return (docs/service.md#returns-and-exchanges).

Shopify delivers a return's webhooks late and out of order, so a return's status is the
join of every status seen: statuses are totally ordered (`RANK`) and the stored status only
ever moves up. `requested` < `open` (approved) < `closed` < `declined` < `cancelled`: the
real moves (requested -> open -> closed, requested -> declined, requested or open ->
cancelled) all go up, so any order of deliveries of the same moves ends in the same status.
The statuses whose lines count for the points (`COVERED`: open, closed) are all below those
that do not count after them (declined, cancelled): once a return stops counting it never
counts again, so its points are given back at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    OPEN = "open"  # approved, in progress
    DECLINED = "declined"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # done: refunded and restocked, or marked returned


RANK = {
    ReturnStatus.REQUESTED: 0,
    ReturnStatus.OPEN: 1,
    ReturnStatus.CLOSED: 2,
    ReturnStatus.DECLINED: 3,
    ReturnStatus.CANCELLED: 4,
}
# the statuses whose lines count as returned for the points (approved, then done)
COVERED = frozenset({ReturnStatus.OPEN, ReturnStatus.CLOSED})
# the customer's transactional message on reaching a status (docs/service.md#notifications)
NOTICES = {
    ReturnStatus.OPEN: "return_approved",
    ReturnStatus.DECLINED: "return_declined",
    ReturnStatus.CLOSED: "return_closed",
}
# an agent's moves of a return that has no storefront behind it (WooCommerce, Patron)
BY_HAND = {
    ReturnStatus.REQUESTED: frozenset({ReturnStatus.OPEN, ReturnStatus.DECLINED, ReturnStatus.CANCELLED}),
    ReturnStatus.OPEN: frozenset({ReturnStatus.CLOSED, ReturnStatus.CANCELLED}),
    ReturnStatus.DECLINED: frozenset(),
    ReturnStatus.CANCELLED: frozenset(),
    ReturnStatus.CLOSED: frozenset(),
}
PATRON = "patron"  # the source part of a return's key made through Patron (`patron.<ticket id>`)


def status_of(value: str) -> ReturnStatus:
    """A status as Shopify spells it (`OPEN`, `canceled`) or as Patron does."""
    text = value.strip().lower()
    return ReturnStatus.CANCELLED if text == "canceled" else ReturnStatus(text)


def join(a: ReturnStatus, b: ReturnStatus) -> ReturnStatus:
    """The later of two statuses in the lifecycle's order: commutative, associative, idempotent."""
    return a if RANK[a] >= RANK[b] else b


@dataclass(frozen=True)
class ReturnLine:
    line_id: str  # the order's line: the platform's line item id, or a product id / SKU
    quantity: int


@dataclass(frozen=True)
class StoredReturn:
    """A return: its key (`<source>.<return id>`), the order (public id), the customer, its
    ticket, its status, its lines and `amount`, the lines' share of the order's total paid
    (order currency, rounded to its minor units): what its approval reverses points for."""

    workspace_id: str
    key: str
    order_id: str
    customer_id: str
    ticket_id: str
    status: ReturnStatus
    updated_at: datetime
    lines: tuple[ReturnLine, ...] = ()
    amount: Decimal = Decimal(0)
    currency: str | None = None
    name: str | None = None
