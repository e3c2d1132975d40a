"""RecommenderModels contract (domain/recommend/ports.py): DynamoRecommenderModels on moto and
the fake (tests/unit/fake_recommend.py) store, replace and read a model alike."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.recommend_store import DynamoRecommenderModels
from chalicelib.domain.recommend.model import Link, ModelSummary, Popular, ProductSignals, RecommenderModel
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_recommend import FakeRecommenderModels

__all__ = ["moto_stage"]
T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoRecommenderModels:
    return DynamoRecommenderModels(stage.crm)


store = port_fixture(FakeRecommenderModels, _dynamo)


def signals(product_id: str, buyers: int = 5, **changes: object) -> ProductSignals:
    base = ProductSignals(
        product_id=product_id,
        buyers=buyers,
        category="books",
        together=(Link("rod", 0.5, 3), Link("line", 0.25, 2)),
        next=(Link("vol-2", 1.0, 20, 20),),
        similar=(Link("vol-3", 0.707107, 4),),
        repeat_share=0.333333,
        repeat_gap_days=30,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def model(
    *products: ProductSignals, at: datetime = T0, popular: tuple[Popular, ...] = ()
) -> RecommenderModel:
    return RecommenderModel(
        trained_at=at,
        orders=40,
        customers=25,
        window_days=30,
        products={p.product_id: p for p in products},
        popular=popular,
    )


def test_a_saved_model_reads_back_product_by_product(store):
    # Given a model of three products, one with no links nor category
    bare = ProductSignals("gift-card", buyers=1)
    saved = model(signals("vol-1"), signals("hook", category=None), bare)
    # When it is saved and two products and an unknown one are read
    written = store.save("ws_a", saved)
    found = store.signals("ws_a", ["vol-1", "gift-card", "nope"])
    # Then the products read are the ones saved, the unknown one is absent
    assert found == {"vol-1": saved.products["vol-1"], "gift-card": bare}
    # And every product was written, with the popular list and the summary
    assert written == 3 + 2


def test_the_popular_list_and_summary_read_back_best_first(store):
    # Given a model with a popular list, one entry without a category
    popular = (Popular("vol-1", 3.5, "books"), Popular("hook", 1.25, None))
    store.save("ws_a", model(signals("vol-1"), signals("hook"), popular=popular))
    # When the list and the summary are read
    # Then they are what was saved
    assert store.popular("ws_a") == popular
    assert store.summary("ws_a") == ModelSummary(T0, 40, 25, 30, 2)


def test_nothing_is_read_before_the_first_training(store):
    assert store.popular("ws_new") == ()
    assert store.summary("ws_new") is None
    assert store.signals("ws_new", ["vol-1"]) == {}


def test_a_second_save_writes_only_what_changed_and_removes_what_left(store):
    # Given a stored model of three products
    store.save("ws_a", model(signals("vol-1"), signals("hook"), signals("rod")))
    # When the next day's model changes one product, keeps one and drops the third
    changed = signals("hook", buyers=9)
    written = store.save("ws_a", model(signals("vol-1"), changed, at=T0 + timedelta(days=1)))
    # Then one product is written, one removed, with the list and the summary
    assert written == 1 + 1 + 2
    assert store.signals("ws_a", ["vol-1", "hook", "rod"]) == {"vol-1": signals("vol-1"), "hook": changed}
    summary = store.summary("ws_a")
    assert summary is not None and summary.trained_at == T0 + timedelta(days=1) and summary.products == 2


def test_the_same_model_saved_again_writes_no_product(store):
    # Given a stored model
    saved = model(signals("vol-1"), signals("hook"))
    store.save("ws_a", saved)
    # When it is saved again (a save redone after a cut)
    # Then only the list and the summary are written
    assert store.save("ws_a", saved) == 2


def test_scores_are_kept_to_six_decimals(store):
    # Given a product whose scores have more digits than the store keeps
    raw = signals("vol-1", together=(Link("rod", 1 / 3, 3),), repeat_share=2 / 3)
    store.save("ws_a", model(raw, popular=(Popular("vol-1", 1 / 7),)))
    # When it is read
    (found,) = store.signals("ws_a", ["vol-1"]).values()
    # Then its scores are rounded to 6 decimals
    assert found.together == (Link("rod", 0.333333, 3),)
    assert found.repeat_share == 0.666667
    assert store.popular("ws_a") == (Popular("vol-1", 0.142857),)


def test_workspaces_do_not_see_each_others_models(store):
    store.save("ws_a", model(signals("vol-1"), popular=(Popular("vol-1", 1.0),)))
    assert store.signals("ws_b", ["vol-1"]) == {}
    assert store.popular("ws_b") == ()


def test_a_read_takes_at_most_a_hundred_products(store):
    # Given a stored model of 120 products
    many = [ProductSignals(f"p{i:03d}", buyers=i + 1) for i in range(120)]
    store.save("ws_a", model(*many))
    # When 100 are read, then 101
    found = store.signals("ws_a", [p.product_id for p in many[:100]])
    # Then the 100 come back, and 101 are refused
    assert len(found) == 100 and found["p099"] == many[99]
    with pytest.raises(ValueError):
        store.signals("ws_a", [p.product_id for p in many[:101]])
