"""An order as the profiles see it, and the public id the admin API gives an order.

Domain values, apart from the item layout (adapters/records.py maps stored order items to
snapshots; adapters/order_items.py decodes the ingest stream and the admin API's orders).
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
    # the parts of `total` as the storefront reported them (None: not reported): subtotal
    # after discounts, shipping, tax; the points' earning base reads them (`earn_on`)
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    # what its counted refunds took back: their product ids and those lines' SKUs (sorted)
    refunded_products: tuple[str, ...] = ()
    # how many of `products` come first as the lines' own ids (a line's product id, its SKU
    # when it has none); the SKUs beside the ids follow (the recommender's baskets skip them)
    item_count: int = 0

    @property
    def counted(self) -> bool:
        """Cancelled, voided and deleted orders count for nothing, refunds included."""
        return self.is_order and self.status is not OrderStatus.CANCELLED and not self.deleted


@dataclass(frozen=True)
class OrderLine:
    product_id: str | None
    sku: str | None
    title: str | None
    quantity: int
    price: Decimal
    category: str | None
    line_id: str | None = None  # the platform's line item id (a return names its lines by it)


@dataclass(frozen=True)
class OrderRefund:
    refund_id: str
    amount: Decimal
    created_at: str | None


@dataclass(frozen=True)
class OrderDetail:
    """A stored order as the admin API shows it: its snapshot and what only the API reads
    (adapters/order_items.py decodes the item)."""

    snapshot: OrderSnapshot
    number: str | None
    status: str | None
    financial_status: str | None
    fulfillment_status: str | None
    total: Decimal | None
    created_at: str | None
    updated_at: str | None
    cancelled_at: str | None
    lines: tuple[OrderLine, ...] = ()
    refunds: tuple[OrderRefund, ...] = ()  # by refund id
    tracking: tuple[str, ...] = ()
    discount_codes: tuple[tuple[str, Decimal | None], ...] = ()
    events: tuple[tuple[str, str, Decimal | None], ...] = ()  # status history: kind, at, refund amount
