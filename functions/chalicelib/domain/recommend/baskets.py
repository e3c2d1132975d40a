"""A customer's order entries as the recommender's baskets."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.customer_profile import OrderEntry
from chalicelib.domain.recommend.model import Basket


def baskets_of(customer_id: str, entries: Mapping[str, OrderEntry]) -> list[Basket]:
    """The customer's counted, timed orders with products, oldest first. A cancelled order
    counts for nothing, and a fully refunded one is no sign of liking: both are left out."""
    out = []
    for entry in entries.values():
        if not entry.counted or entry.placed_at is None or not entry.products:
            continue
        if entry.amount is not None and entry.refunded is not None and entry.refunded >= entry.amount > 0:
            continue
        out.append(Basket(customer_id, int(entry.placed_at), tuple(dict.fromkeys(entry.products))))
    out.sort(key=lambda b: b.at)
    return out
