"""The store's catalogue: products as the storefront's webhooks describe them.

A product is kept per workspace, source and platform product id, and only ever over an
older version of itself (the webhook's `updated_at`); a deletion keeps the last known
title, URL and image, so a profile that bought it still shows its name. Products touch
no profile and start no flow (docs/data-model.md#the-catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.models import Product
from chalicelib.domain.timemath import iso


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CatalogueEntry(_Frozen):
    """What a reader needs of a stored product: its name, page and picture."""

    source_id: str
    product_id: str
    title: str | None = None
    url: str | None = None
    image: str | None = None
    deleted: bool = False


class StoredProduct(_Frozen):
    """One catalogue item: the product as last sent (None when only its deletion is known)."""

    source_id: str
    product_id: str
    product: Product | None = None
    deleted_at: str | None = None  # ISO UTC, once deleted


class ProductDetail(BaseModel):
    """`GET /products/{source.id}`: the stored product, money as text."""

    id: str
    source_id: str
    title: str | None = None
    handle: str | None = None
    url: str | None = None
    image: str | None = None
    price: str | None = None
    compare_at_price: str | None = None
    currency: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    categories: list[str] = []
    tags: list[str] = []
    status: str | None = None
    variants: list[dict[str, str | int | None]] = []
    updated_at: str | None = None
    deleted: bool = False
    deleted_at: str | None = None

    @classmethod
    def of(cls, stored: StoredProduct) -> ProductDetail:
        p = stored.product
        base = cls(
            id=f"{stored.source_id}.{stored.product_id}",
            source_id=stored.source_id,
            deleted=stored.deleted_at is not None,
            deleted_at=stored.deleted_at,
        )
        if p is None:
            return base
        return base.model_copy(
            update={
                "title": p.title,
                "handle": p.handle,
                "url": p.url,
                "image": p.image,
                "price": str(p.price) if p.price is not None else None,
                "compare_at_price": str(p.compare_at_price) if p.compare_at_price is not None else None,
                "currency": p.currency,
                "vendor": p.vendor,
                "product_type": p.product_type,
                "categories": list(p.categories),
                "tags": list(p.tags),
                "status": p.status,
                "variants": [
                    {
                        "id": v.variant_id,
                        "sku": v.sku,
                        "price": str(v.price) if v.price is not None else None,
                        "inventory": v.inventory,
                    }
                    for v in p.variants
                ],
                "updated_at": iso(p.updated_at),
            }
        )


class ProductView(BaseModel):
    """A product id a profile holds, with its name when the catalogue knows it."""

    id: str
    title: str | None = None
    url: str | None = None
    image: str | None = None
    deleted: bool = False


MAX_LOOKUPS = 100  # one BatchGetItem


def product_views(
    product_ids: Sequence[str], sources: Sequence[str], found: Sequence[CatalogueEntry]
) -> list[ProductView]:
    """Each id with the first source's entry that knows it; an unknown id stays an id."""
    by_ref = {(e.source_id, e.product_id): e for e in found}
    views = []
    for pid in product_ids:
        entry = next((by_ref[(s, pid)] for s in sources if (s, pid) in by_ref), None)
        if entry is None:
            views.append(ProductView(id=pid))
        else:
            views.append(
                ProductView(
                    id=pid, title=entry.title, url=entry.url, image=entry.image, deleted=entry.deleted
                )
            )
    return views


def lookups(product_ids: Sequence[str], sources: Sequence[str]) -> list[tuple[str, str]]:
    """The (source, product id) pairs to read for these ids, at most one batch of them."""
    return [(s, p) for p in product_ids for s in sources][:MAX_LOOKUPS]


def source_lookups(sources_of: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """The (source, product id) pairs to read for product ids with the sources they came
    from: one batch read for all of them (a report's rows, never one per row)."""
    return [(s, p) for p, sources in sources_of.items() for s in sorted(set(sources))][:MAX_LOOKUPS]


def named_products(
    sources_of: Mapping[str, Iterable[str]], found: Sequence[CatalogueEntry]
) -> dict[str, ProductView]:
    """Each product id as a view named by the first of its sources whose catalogue entry
    knows it (a deleted one keeps its last name); an unknown id stays an id (title None)."""
    by_ref = {(e.source_id, e.product_id): e for e in found}
    views = {}
    for pid, sources in sources_of.items():
        entry = next((by_ref[(s, pid)] for s in sorted(set(sources)) if (s, pid) in by_ref), None)
        views[pid] = (
            ProductView(id=pid)
            if entry is None
            else ProductView(
                id=pid, title=entry.title, url=entry.url, image=entry.image, deleted=entry.deleted
            )
        )
    return views


def line_products(
    source_id: str, lines: Sequence[tuple[str | None, str | None]], found: Sequence[CatalogueEntry]
) -> list[ProductView]:
    """An order's lines (product id, the order's own line title) named: the catalogue's title,
    page and picture when it knows the product, else the title the order carried."""
    by_ref = {(e.source_id, e.product_id): e for e in found}
    views = []
    for pid, line_title in lines:
        entry = by_ref.get((source_id, pid)) if pid else None
        if entry is None or entry.title is None:
            views.append(ProductView(id=pid or "", title=line_title))
        else:
            views.append(
                ProductView(
                    id=entry.product_id,
                    title=entry.title,
                    url=entry.url,
                    image=entry.image,
                    deleted=entry.deleted,
                )
            )
    return views
