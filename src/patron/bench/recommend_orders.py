"""Orders for the recommender's benchmark: a generic JSON-lines export (docs/import.md,
`generic-jsonl`) or the simulated store, as `Basket`s and product categories.

A file's lines are read by the import's own reader (`parsers/history.generic_jsonl`: the
generic webhook's parsers), so the format is the import's. A cancelled order is no basket;
nor is a wholly refunded one (status `refunded`, or refunds adding up to the total). The
refunds carry amounts only: of a partly refunded order, the line whose total (price times
quantity) equals a refund's amount is left out; an amount matching no line leaves the
basket whole. `refund` lines count against their order wherever it is in the file. A
customer is their `customer.id`, else their email. Bad lines are counted, not fatal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.models import Delivery, Order, OrderStatus, Refund, RefundEvent
from chalicelib.domain.recommend.model import Basket
from chalicelib.parsers.history import generic_jsonl
from patron.synthetic.baskets import SimStore


@dataclass
class Loaded:
    baskets: list[Basket] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)
    orders: int = 0  # order lines read
    rejected: int = 0  # lines the import's reader refused
    cancelled: int = 0
    refunded: int = 0  # wholly refunded orders
    no_products: int = 0  # orders without a product id, or whose every product was refunded
    anonymous: int = 0  # orders without a customer id or email
    unmatched_refunds: int = 0  # refund lines of an order not in the file

    def summary(self) -> dict[str, int]:
        return {
            "orders_read": self.orders,
            "baskets": len(self.baskets),
            "rejected_lines": self.rejected,
            "cancelled": self.cancelled,
            "wholly_refunded": self.refunded,
            "without_products": self.no_products,
            "without_customer": self.anonymous,
            "unmatched_refunds": self.unmatched_refunds,
        }


def _kept_products(order: Order, refunds: Iterable[Refund]) -> list[str]:
    lines = [li for li in order.line_items if li.product_id]
    for r in refunds:
        for i, li in enumerate(lines):
            if li.price * li.quantity == r.amount:
                del lines[i]
                break
    return list(dict.fromkeys(li.product_id for li in lines if li.product_id))


def load_generic_jsonl(data: bytes, received_at: datetime, source_id: str = "bench") -> Loaded:
    """The file's orders as baskets (oldest first); `received_at` bounds its dates as the
    import's would (up to two days after it)."""
    delivery = Delivery(
        workspace_id="bench", source_id=source_id, platform="generic", topic="order", received_at=received_at
    )
    out = Loaded()
    orders: dict[str, Order] = {}
    extra: dict[str, dict[str, Refund]] = defaultdict(dict)
    for record in generic_jsonl(data.splitlines())(delivery):
        payload = record.payload
        if isinstance(payload, Order):
            out.orders += 1
            orders[payload.order_id] = payload
        elif isinstance(payload, RefundEvent):
            extra[payload.order_id][payload.refund.refund_id] = payload.refund
        elif payload is None:
            out.rejected += 1
    out.unmatched_refunds = sum(len(rs) for oid, rs in extra.items() if oid not in orders)
    for oid, order in orders.items():
        refunds = {r.refund_id: r for r in order.refunds} | extra.get(oid, {})
        refunded = sum((r.amount for r in refunds.values()), Decimal(0))
        who = order.person.ext or order.person.email
        for li in order.line_items:
            if li.product_id and li.category:
                out.categories[li.product_id] = li.category
        if order.status is OrderStatus.CANCELLED:
            out.cancelled += 1
        elif order.status is OrderStatus.REFUNDED or (order.total > 0 and refunded >= order.total):
            out.refunded += 1
        elif not who:
            out.anonymous += 1
        elif not (products := _kept_products(order, refunds.values())):
            out.no_products += 1
        else:
            out.baskets.append(Basket(who, int(order.created_at.timestamp()), tuple(products)))
    out.baskets.sort(key=lambda b: (b.at, b.customer_id))
    return out


def from_simulation(store: SimStore) -> Loaded:
    """The simulated store's orders as baskets, refunded products left out."""
    out = Loaded(categories=dict(store.categories))
    for o in store.orders:
        out.orders += 1
        kept = tuple(p for p in o.products if p not in o.refunded)
        if not kept:
            out.refunded += 1
            continue
        out.baskets.append(Basket(o.customer_id, o.at, kept))
    return out
