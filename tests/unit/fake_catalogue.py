"""An in-memory CatalogueStore/CatalogueReader with the DynamoDB adapter's rules (a newer
version wins, the same body again is a duplicate, a deletion keeps the last name);
tests/integration/test_contract_catalogue.py holds the two to the same scenarios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.domain.catalogue import CatalogueEntry, StoredProduct
from chalicelib.domain.models import Delivery, Product, ProductDeletion, RecordVersion
from chalicelib.domain.ports import WriteOutcome
from chalicelib.domain.timemath import iso


class FakeCatalogue:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], dict[str, Any]] = {}

    def save(self, delivery: Delivery, product: Product) -> WriteOutcome:
        ver = RecordVersion(updated_at=product.updated_at, triggered_at=delivery.triggered_at).key()
        entry = {"title": product.title, "url": product.url, "image": product.image, "deleted": False}
        entry |= {"product": product, "deleted_at": None}
        return self._write(delivery, product.product_id, ver, entry)

    def delete(self, delivery: Delivery, deletion: ProductDeletion) -> WriteOutcome:
        ver = RecordVersion(updated_at=deletion.at).key()
        return self._write(
            delivery, deletion.product_id, ver, {"deleted": True, "deleted_at": iso(deletion.at)}
        )

    def product(self, workspace_id: str, source_id: str, product_id: str) -> StoredProduct | None:
        item = self.items.get((workspace_id, source_id, product_id))
        if item is None:
            return None
        return StoredProduct(
            source_id=source_id,
            product_id=product_id,
            product=item.get("product"),
            deleted_at=item.get("deleted_at"),
        )

    def stored_products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[StoredProduct]:
        if len(set(refs)) > 100:
            raise ValueError("at most 100 keys per BatchGetItem")
        found = (self.product(workspace_id, s, p) for s, p in dict.fromkeys(refs))
        return [f for f in found if f is not None]

    def products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[CatalogueEntry]:
        found = [(s, p, self.items.get((workspace_id, s, p))) for s, p in dict.fromkeys(refs)]
        return [
            CatalogueEntry(
                source_id=s,
                product_id=p,
                title=i.get("title"),
                url=i.get("url"),
                image=i.get("image"),
                deleted=i.get("deleted", False),
            )
            for s, p, i in found
            if i is not None
        ]

    def _write(self, delivery: Delivery, product_id: str, ver: str, values: dict[str, Any]) -> WriteOutcome:
        key = (delivery.workspace_id, delivery.source_id, product_id)
        stored = self.items.get(key)
        h = delivery.body_hash or ""
        if stored is not None and not (stored["ver"] <= ver and stored["h"] != h):
            return "stale" if stored["ver"] > ver else "duplicate"
        self.items[key] = (stored or {}) | values | {"ver": ver, "h": h}
        return "stored"
