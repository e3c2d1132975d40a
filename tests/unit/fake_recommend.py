"""An in-memory RecommenderModels with the DynamoDB adapter's rules (a product's signals
are replaced whole; a product missing from a new model is removed; at most 100 products
per read). The contract test holds the fake and the adapter to the same scenarios."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.recommend.model import Popular, ProductSignals, RecommenderModel


class FakeRecommenderModels:
    def __init__(self) -> None:
        self.products: dict[str, dict[str, ProductSignals]] = {}
        self.popular_lists: dict[str, tuple[Popular, ...]] = {}
        self.models: dict[str, RecommenderModel] = {}

    def save(self, workspace_id: str, model: RecommenderModel) -> int:
        before = self.products.get(workspace_id, {})
        after = dict(model.products)
        changed = sum(1 for p, s in after.items() if before.get(p) != s)
        removed = sum(1 for p in before if p not in after)
        self.products[workspace_id] = after
        self.popular_lists[workspace_id] = model.popular
        self.models[workspace_id] = model
        return changed + removed + 1

    def signals(self, workspace_id: str, product_ids: Sequence[str]) -> dict[str, ProductSignals]:
        if len(product_ids) > 100:
            raise ValueError("at most 100 products per read")
        mine = self.products.get(workspace_id, {})
        return {p: mine[p] for p in product_ids if p in mine}

    def popular(self, workspace_id: str) -> tuple[Popular, ...]:
        return self.popular_lists.get(workspace_id, ())
