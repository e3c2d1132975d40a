"""An order as the profiles see it, and the public id the admin API gives an order.

Domain values, apart from the item layout (records.py, which still maps stored order items
to snapshots, is to move to the adapters; adapters/order_items.py decodes the ingest stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.models import OrderStatus, Person


def public_order_id(source_id: str, order_id: str) -> str:
    """The id the admin API uses: source and platform id, so two shops never collide."""
    return f"{source_id}.{order_id}"


def split_public_order_id(value: str) -> tuple[str, str] | None:
    source_id, sep, order_id = value.partition(".")
    return (source_id, order_id) if sep and source_id and order_id else None


@dataclass(frozen=True)
class OrderSnapshot:
    """One stored version of an order item, as the profile processor needs it."""

    workspace_id: str
    source_id: str
    order_id: str
    version: int
    is_order: bool  # False while only a refund has arrived for it
    status: OrderStatus | None
    currency: str | None
    total: Decimal
    refunded: Decimal
    created_at: datetime | None
    channel: str | None
    person: Person
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = field(default=())
    titles: tuple[str, ...] = ()  # the line items' titles, for messages ("last product")
    deleted: bool = False  # more deletions than restorations seen (WooCommerce order.deleted)

    @property
    def counted(self) -> bool:
        """Cancelled, voided and deleted orders count for nothing, refunds included."""
        return self.is_order and self.status is not OrderStatus.CANCELLED and not self.deleted
