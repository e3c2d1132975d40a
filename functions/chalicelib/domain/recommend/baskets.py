"""A customer's order entries as the recommender's baskets."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.customer_profile import OrderEntry
from chalicelib.domain.recommend.model import Basket


def skus_of(entries: Mapping[str, OrderEntry]) -> set[str]:
    """The SKUs the entries keep beside their lines' own ids (`products` after the first
    `item_count`): the names another order may give the same products."""
    return {
        p for e in entries.values() if e.item_count is not None for p in (e.products or ())[e.item_count :]
    }


def baskets_of(customer_id: str, entries: Mapping[str, OrderEntry]) -> list[Basket]:
    """The customer's counted, timed orders with products, oldest first. A cancelled order
    counts for nothing, and a refunded product is no sign of liking: a fully refunded order
    is left out, and a partially refunded one keeps only the products its refunds did not
    take back (`refunded_products`; a basket left empty is no basket). The products are the
    lines' own ids: the first `item_count` of `products` (the SKUs beside them follow); an
    entry written before that count was kept stands in with all of them."""
    out = []
    for entry in entries.values():
        if not entry.counted or entry.placed_at is None or not entry.products:
            continue
        if entry.amount is not None and entry.refunded is not None and entry.refunded >= entry.amount > 0:
            continue
        refunded = set(entry.refunded_products or ())
        bought = entry.products if entry.item_count is None else entry.products[: entry.item_count]
        kept = tuple(p for p in dict.fromkeys(bought) if p not in refunded)
        if kept:
            out.append(Basket(customer_id, int(entry.placed_at), kept))
    out.sort(key=lambda b: b.at)
    return out
