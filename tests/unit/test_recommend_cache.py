"""The recommendation reads a warm Lambda reuses for a minute: the popular list, the model's
summary and the source ids (adapters/recommend_cache.py), on fakes and a hand-moved clock."""

from __future__ import annotations

from chalicelib.adapters.recommend_cache import CachedRecommenderModels, CachedSourceIds
from tests.unit.fake_recommend import FakeRecommenderModels
from tests.unit.recommend_world import WS, FakeSources, planted_model


class Counting(FakeRecommenderModels):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def popular(self, workspace_id):
        self.reads += 1
        return super().popular(workspace_id)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_popular_list_is_read_once_a_minute_and_never_remembered_empty():
    # Given a store with no model yet behind the cache
    inner, clock = Counting(), Clock()
    cached = CachedRecommenderModels(inner, 60, clock)
    # When asked twice before any training
    assert cached.popular(WS) == () and cached.popular(WS) == ()
    # Then both read the store (an empty list is not kept)
    assert inner.reads == 2
    # When a model is saved elsewhere, then asked three times within the minute
    inner.save(WS, planted_model())
    first = cached.popular(WS)
    clock.t += 59
    assert cached.popular(WS) == first and cached.summary(WS) == cached.summary(WS)
    # Then one more read; after the minute, another
    assert (inner.reads, [p.product_id for p in first]) == (3, ["mug", "vol-2", "beans"])
    clock.t += 2
    cached.popular(WS)
    assert inner.reads == 4


def test_a_save_through_the_cache_forgets_what_it_kept():
    inner, clock = Counting(), Clock()
    cached = CachedRecommenderModels(inner, 60, clock)
    inner.save(WS, planted_model())
    cached.popular(WS)
    cached.save(WS, planted_model())
    cached.popular(WS)
    assert inner.reads == 2


def test_source_ids_are_kept_a_minute():
    sources, clock = FakeSources(["shop"]), Clock()
    cached = CachedSourceIds(sources, 60, clock)
    assert cached.source_ids(WS) == ["shop"]
    sources.ids.append("woo")
    assert cached.source_ids(WS) == ["shop"]
    clock.t += 61
    assert cached.source_ids(WS) == ["shop", "woo"]
