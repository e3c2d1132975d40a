"""The recommender's stored model and daily training in the composition root
(docs/recommendations.md, docs/data-model.md#recommendations). `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.recommend_store import DynamoRecommenderModels
    from chalicelib.domain.recommend.training import RecommenderTraining


class RecommendTraining(Adapters):
    @cached_property
    def recommender_models(self) -> DynamoRecommenderModels:
        """The trained models, one item per product (domain/recommend/ports.RecommenderModels)."""
        from chalicelib.adapters.recommend_store import DynamoRecommenderModels

        return DynamoRecommenderModels(self.crm)

    @cached_property
    def recommend_training(self) -> RecommenderTraining:
        """The daily training of every workspace's model (the `recommend_train` job)."""
        from chalicelib.adapters.recommend_train_store import DynamoProductCategories, DynamoTrainingStore
        from chalicelib.domain.recommend.training import RecommenderTraining
        from chalicelib.domain.walk import CustomerWalk

        return RecommenderTraining(
            workspaces=self.workspaces,
            walk=CustomerWalk(members=self.membership_store, profiles=self.profile_store),
            entries=self.profile_store,
            store=DynamoTrainingStore(self.crm),
            models=self.recommender_models,
            categories=DynamoProductCategories(self.crm),
        )
