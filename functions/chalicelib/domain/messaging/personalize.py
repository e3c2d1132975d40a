"""Template values every marketing message can take from the profile itself."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.catalogue import CatalogueEntry
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.order_snapshot import split_public_order_id


def profile_values(profile: CustomerProfile, store_name: str) -> dict[str, Any]:
    values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "store_name": store_name,
        "last_product": profile.last_product,
    }
    return {k: v for k, v in values.items() if v}


def latest_product(profile: CustomerProfile) -> tuple[str, str] | None:
    """(source id, product id) of the latest counted order's first product, if it has one."""
    dated = [(e.placed_at or 0, key, e) for key, e in profile.orders.items() if e.counted and e.products]
    if not dated:
        return None
    _, key, entry = max(dated, key=lambda d: (d[0], d[1]))
    ref = split_public_order_id(key)
    return (ref[0], str((entry.products or [""])[0])) if ref else None


def product_values(entry: CatalogueEntry | None) -> dict[str, Any]:
    """`product.title`, `product.url`, `product.image` of the catalogue's entry (a deleted
    product keeps its last known ones); nothing for a product the catalogue does not know."""
    if entry is None:
        return {}
    values = {"product.title": entry.title, "product.url": entry.url, "product.image": entry.image}
    return {k: v for k, v in values.items() if v}
