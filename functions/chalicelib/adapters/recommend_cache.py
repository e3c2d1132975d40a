"""What a warm Lambda may reuse between recommendation requests of one workspace: the
stored model's popular list and summary, and the workspace's source ids, for a minute
(a model is trained once a day; a campaign asks for each recipient). Product signals are
read each time (each customer's differ). Nothing is remembered before the first training,
so the first requests after it see the model at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from chalicelib.adapters.cache import TtlCache
from chalicelib.domain.recommend.model import ModelSummary, Popular, ProductSignals, RecommenderModel
from chalicelib.domain.recommend.ports import RecommenderModels
from chalicelib.domain.recommend.serve_ports import SourceIds

SECONDS = 60.0


class CachedRecommenderModels:
    """recommend.ports.RecommenderModels over another: `popular` and `summary` kept a minute
    per workspace once there is a model; a save through it forgets them."""

    def __init__(
        self, inner: RecommenderModels, seconds: float = SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self._popular: TtlCache[tuple[Popular, ...] | None] = TtlCache(seconds, clock)
        self._summary: TtlCache[ModelSummary | None] = TtlCache(seconds, clock)

    def save(self, workspace_id: str, model: RecommenderModel) -> int:
        written = self.inner.save(workspace_id, model)
        self._popular.invalidate(workspace_id)
        self._summary.invalidate(workspace_id)
        return written

    def signals(self, workspace_id: str, product_ids: Sequence[str]) -> dict[str, ProductSignals]:
        return self.inner.signals(workspace_id, product_ids)

    def popular(self, workspace_id: str) -> tuple[Popular, ...]:
        return self._popular.get(workspace_id, lambda: self.inner.popular(workspace_id) or None) or ()

    def summary(self, workspace_id: str) -> ModelSummary | None:
        return self._summary.get(workspace_id, lambda: self.inner.summary(workspace_id))


class CachedSourceIds:
    """recommend.serve_ports.SourceIds over another, kept a minute per workspace (a source
    added shows within a minute)."""

    def __init__(
        self, inner: SourceIds, seconds: float = SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self._ids: TtlCache[list[str] | None] = TtlCache(seconds, clock)

    def source_ids(self, workspace_id: str) -> list[str]:
        return list(self._ids.get(workspace_id, lambda: self.inner.source_ids(workspace_id) or None) or [])
