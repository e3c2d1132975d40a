"""An in-memory RecommenderModels with the DynamoDB adapter's rules (a product's signals
are replaced whole and written only when they changed; a product missing from a new model
is removed; scores kept to 6 decimals; at most 100 products per read; a save counts the
products written or deleted plus the popular list and the summary). The contract test
(tests/integration/test_contract_recommend_store.py) holds the fake and the adapter to
the same scenarios."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from chalicelib.domain.recommend.model import Link, ModelSummary, Popular, ProductSignals, RecommenderModel


def _links(links: tuple[Link, ...]) -> tuple[Link, ...]:
    return tuple(dataclasses.replace(link, score=round(link.score, 6)) for link in links)


def as_stored(signals: ProductSignals) -> ProductSignals:
    """The signals as a read gives them back: scores rounded to 6 decimals."""
    return dataclasses.replace(
        signals,
        together=_links(signals.together),
        next=_links(signals.next),
        similar=_links(signals.similar),
        repeat_share=round(signals.repeat_share, 6),
    )


class FakeRecommenderModels:
    def __init__(self) -> None:
        self.products: dict[str, dict[str, ProductSignals]] = {}
        self.popular_lists: dict[str, tuple[Popular, ...]] = {}
        self.models: dict[str, RecommenderModel] = {}
        self.summaries: dict[str, ModelSummary] = {}

    def save(self, workspace_id: str, model: RecommenderModel) -> int:
        before = self.products.get(workspace_id, {})
        after = {p: as_stored(s) for p, s in model.products.items()}
        changed = sum(1 for p, s in after.items() if before.get(p) != s)
        removed = sum(1 for p in before if p not in after)
        self.products[workspace_id] = after
        self.popular_lists[workspace_id] = tuple(
            dataclasses.replace(p, score=round(p.score, 6)) for p in model.popular
        )
        self.models[workspace_id] = model
        self.summaries[workspace_id] = ModelSummary.of(model)
        return changed + removed + 2  # and the popular list and the summary

    def signals(self, workspace_id: str, product_ids: Sequence[str]) -> dict[str, ProductSignals]:
        if len(set(product_ids)) > 100:
            raise ValueError("at most 100 products per read")
        mine = self.products.get(workspace_id, {})
        return {p: mine[p] for p in product_ids if p in mine}

    def popular(self, workspace_id: str) -> tuple[Popular, ...]:
        return self.popular_lists.get(workspace_id, ())

    def summary(self, workspace_id: str) -> ModelSummary | None:
        return self.summaries.get(workspace_id)
