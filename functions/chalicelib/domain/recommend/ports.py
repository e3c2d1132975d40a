"""The recommender's ports (docs/data-model.md, "Recommendations")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.recommend.model import Popular, ProductSignals, RecommenderModel


class RecommenderModels(Protocol):
    """A workspace's trained model, stored as one item per product and one popular list,
    read in slices: a request reads only the signals of the products it starts from."""

    def save(self, workspace_id: str, model: RecommenderModel) -> int:
        """Store the model: each product whose signals changed, the popular list and the
        model's summary; products no longer in the model are removed. Returns the number of
        items written or deleted."""
        ...

    def signals(self, workspace_id: str, product_ids: Sequence[str]) -> dict[str, ProductSignals]:
        """The stored signals of these products (at most 100: one batch read); an unknown
        product is absent."""
        ...

    def popular(self, workspace_id: str) -> tuple[Popular, ...]:
        """The stored popular list, best first (empty before the first training)."""
        ...
