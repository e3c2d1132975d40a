"""TrainingStore contract (domain/recommend/training_ports.py): DynamoTrainingStore on moto and
the fake (tests/unit/fake_recommend_train.py) keep the training's cursor and rows alike."""

from __future__ import annotations

import random

from chalicelib.adapters.recommend_train_store import DynamoTrainingStore
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_recommend_train import FakeTrainingStore

__all__ = ["moto_stage"]
DAY = "2026-06-01"


def _dynamo(stage: MotoStage) -> DynamoTrainingStore:
    return DynamoTrainingStore(stage.crm)


store = port_fixture(FakeTrainingStore, _dynamo)


def test_a_run_starts_once_a_day(store):
    # Given a run started today
    started = store.start("ws_a", DAY)
    # When another invocation starts today's run, then tomorrow's
    again = store.start("ws_a", DAY)
    tomorrow = store.start("ws_a", "2026-06-02")
    # Then today's is refused, tomorrow's replaces it
    assert started is not None and started.phase == "gather" and started.version == 0
    assert again is None
    assert tomorrow is not None and store.cursors()["ws_a"] == tomorrow


def test_the_cursor_moves_only_from_the_version_read(store):
    # Given a started run
    started = store.start("ws_a", DAY)
    # When one invocation commits a page, and another still holding the start commits too
    moved = store.advance(
        started, position='{"stage": 2, "key": "c_9"}', items=1, profiles_read=100, baskets=240
    )
    lost = store.advance(started, profiles_read=5)
    # Then the first holds, the second is refused
    assert moved is not None and moved.version == 1 and lost is None
    assert store.cursors()["ws_a"] == moved


def test_a_done_run_keeps_its_figures(store):
    started = store.start("ws_a", DAY)
    training = store.advance(started, phase="train")
    done = store.advance(
        training, phase="done", result={"orders": 13, "customers": 7, "products": 2, "written": 4}
    )
    assert store.cursors()["ws_a"] == done
    assert done.result == {"orders": 13, "customers": 7, "products": 2, "written": 4}


def test_a_cursor_of_a_replaced_run_is_refused(store):
    # Given yesterday's cursor held by a slow invocation, and today's run started
    old = store.start("ws_a", "2026-05-31")
    store.start("ws_a", DAY)
    # When the slow invocation commits
    # Then it is refused (the versions of the two runs both start at 0)
    assert store.advance(old, profiles_read=1) is None


def test_rows_read_back_in_item_order_and_only_the_runs(store):
    # Given two pages of the day and one of another run
    first = [["c_1", [[1_700_000_000, ["hook"]], [1_700_800_000, ["rod", "line"]]]]]
    second = [["c_2", [[1_700_000_500, ["hook"]]]]]
    n = store.put_rows("ws_a", DAY, 0, first)
    store.put_rows("ws_a", DAY, n, second)
    store.put_rows("ws_a", "2026-05-31", 0, [["c_3", [[1, ["net"]]]]])
    store.put_rows("ws_b", DAY, 0, [["c_4", [[1, ["net"]]]]])
    # When the day's rows are read
    # Then they are the two pages, in order
    assert store.rows("ws_a", DAY) == first + second


def test_a_page_redone_rewrites_the_same_items(store):
    store.put_rows("ws_a", DAY, 0, [["c_1", [[1, ["hook"]]]]])
    store.put_rows("ws_a", DAY, 0, [["c_1", [[1, ["hook"]]], [2, ["rod"]]]])
    assert store.rows("ws_a", DAY) == [["c_1", [[1, ["hook"]]], [2, ["rod"]]]]


def test_a_heavy_page_reads_back_whole(store):
    # Given a page of 100 customers with 300 orders each, of random products (hard to compress)
    pick = random.Random(7)
    rows = [
        [f"c_{c}", [[1_700_000_000 + k, [f"p{pick.randrange(10**9)}" for _ in range(3)]] for k in range(300)]]
        for c in range(100)
    ]
    # When stored and read back
    written = store.put_rows("ws_a", DAY, 0, rows)
    # Then every row is there, in order, however many items it took
    assert written >= 1
    assert store.rows("ws_a", DAY) == rows
