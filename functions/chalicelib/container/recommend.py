"""The recommendations' services of the composition root (docs/recommendations.md): the
stored model, the placements and the service that serves them (the `Recommender` port
messages use, and the API's routes). `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.recommend_store import DynamoRecommenderModels
    from chalicelib.domain.recommend.placements import RecommendationSettings
    from chalicelib.domain.recommend.service import RecommendationService


class RecommendServices(Adapters):
    @cached_property
    def recommender_models(self) -> DynamoRecommenderModels:
        """The stored model (`W#<ws>#REC`), read in slices."""
        from chalicelib.adapters.recommend_store import DynamoRecommenderModels

        return DynamoRecommenderModels(self.crm)

    @cached_property
    def recommendation_settings(self) -> RecommendationSettings:
        """The workspace's placements (`/recommendations/settings`)."""
        from chalicelib.adapters.recommend_settings_store import DynamoPlacementStore
        from chalicelib.domain.recommend.placements import RecommendationSettings

        return RecommendationSettings(store=DynamoPlacementStore(self.crm))

    @cached_property
    def recommender(self) -> RecommendationService:
        """A customer's and a product's recommendations (domain.recommend.ports.Recommender)."""
        from chalicelib.adapters.recommend_cache import CachedRecommenderModels, CachedSourceIds
        from chalicelib.domain.recommend.service import RecommendationService
        from chalicelib.domain.timemath import now_utc

        return RecommendationService(
            models=CachedRecommenderModels(self.recommender_models),
            customers=self.profile_store,
            catalogue=self.catalogue,
            sources=CachedSourceIds(self.workspaces),
            workspaces=self.workspaces,
            settings=self.recommendation_settings,
            clock=now_utc,
        )
