"""The recommender's ports (docs/data-model.md, "Recommendations")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.recommend.model import (
    ModelSummary,
    Popular,
    ProductSignals,
    RecommendedProduct,
    RecommenderModel,
)


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

    def summary(self, workspace_id: str) -> ModelSummary | None:
        """When the stored model was trained and on what (None before the first training)."""
        ...


class Recommender(Protocol):
    """What messages and the API ask of the recommender (domain/recommend/service.py)."""

    def for_customer(
        self,
        workspace_id: str,
        customer_id: str,
        *,
        placement: str | None = None,
        limit: int = 10,
        exclude: Sequence[str] = (),
    ) -> list[RecommendedProduct]:
        """The customer's recommendations, best first, filtered for the placement (its
        category rules), never a product in `exclude` (the triggering event's), nor one the
        customer bought unless due again, nor a deleted, unpublished or out-of-stock one.
        Empty when the workspace has no trained model and nothing is popular."""
        ...
