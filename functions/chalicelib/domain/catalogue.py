"""The store's catalogue: products as the storefront's webhooks describe them.

A product is kept per workspace, source and platform product id, and only ever over an
older version of itself (the webhook's `updated_at`); a deletion keeps the last known
title, URL and image, so a profile that bought it still shows its name. Products touch
no profile and start no flow (docs/data-model.md#the-catalogue).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


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
