"""The ports the recommendation service reads through besides the model store
(domain/recommend/ports.py): the customer's orders, the catalogue,
and the workspace's sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.catalogue import StoredProduct
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry


class CustomerOrders(Protocol):
    """The profile (merges followed) and its moved order entries (domain/order_entries.py)."""

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None: ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]: ...


class CatalogueProducts(Protocol):
    def stored_products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[StoredProduct]:
        """The stored products of these (source id, product id) pairs, deleted ones too: one
        batch read of at most 100 keys, eventually consistent; an unknown pair is absent."""
        ...


class SourceIds(Protocol):
    def source_ids(self, workspace_id: str) -> list[str]:
        """The workspace's source ids (its sources' partition: one query)."""
        ...
