"""The recommender's daily training (domain/recommend/training.py) with fakes: a workspace's
profiles walked into baskets, trained and saved once a day, resumed after a cut."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.failures import Skipped
from chalicelib.domain.order_summary import Summary
from chalicelib.domain.recommend.training import RESERVE_SECONDS, TRAIN_SECONDS, RecommenderTraining
from chalicelib.domain.walk import CustomerWalk
from tests.unit.fake_recommend import FakeRecommenderModels
from tests.unit.fake_recommend_train import FakeProductCategories, FakeTrainingStore
from tests.unit.fakes import FakeMembershipStore

WS = "ws_books"
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def entry(days_ago: float, *products: str, counted: bool = True, refunded: str | None = None) -> OrderEntry:
    return OrderEntry(
        version=1,
        placed_at=at(days_ago),
        counted=counted,
        amount=Decimal("20.00"),
        refunded=Decimal(refunded) if refunded else None,
        products=list(products),
    )


class Shop:
    """A workspace's customers as the walk and the moved entries see them."""

    def __init__(self) -> None:
        self.members = FakeMembershipStore()
        self.profiles: dict[str, CustomerProfile] = {}
        self.moved: dict[str, dict[str, OrderEntry]] = {}
        self.broken: set[str] = set()

    def add(self, customer_id: str, *orders: OrderEntry, moved: tuple[OrderEntry, ...] = ()) -> None:
        profile = CustomerProfile(WS, customer_id)
        profile.orders = {f"src_1.{customer_id}-{i}": e for i, e in enumerate(orders)}
        if moved:
            profile.moved = Summary()
            self.moved[customer_id] = {f"src_1.{customer_id}-m{i}": e for i, e in enumerate(moved)}
        self.profiles[customer_id] = profile
        self.members.index.setdefault((WS, "lifecycle:active"), set()).add(customer_id)

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        return {c: self.profiles[c] for c in customer_ids if c in self.profiles}

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        if set(customer_ids) & self.broken:
            raise ValueError("unreadable entry")
        return {k: e for c in customer_ids for k, e in self.moved.get(c, {}).items()}

    def workspace_ids(self) -> list[str]:
        return [WS]


def readers(shop: Shop, n: int = 20) -> None:
    """n readers bought vol-1, then vol-2 twenty days later."""
    for i in range(n):
        shop.add(f"c_r{i:03d}", entry(100 + i, "vol-1"), entry(80 + i, "vol-2"))


def service(shop: Shop, models: FakeRecommenderModels, store: FakeTrainingStore) -> RecommenderTraining:
    return RecommenderTraining(
        workspaces=shop,
        walk=CustomerWalk(members=shop.members, profiles=shop),
        entries=shop,
        store=store,
        models=models,
        categories=FakeProductCategories({WS: {"vol-1": "books", "vol-2": "books"}}),
    )


def test_a_workspaces_profiles_become_baskets_and_a_saved_model():
    # Given twenty readers who bought vol-1 then vol-2
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    # When the daily training runs
    result = service(shop, models, store).run(NOW)
    # Then the workspace's model is saved: vol-1 leads to vol-2, with its category
    assert result["workspaces_trained"] == 1 and result["workspaces_pending"] == 0
    assert result["profiles_read"] == 20 and result["baskets"] == 40
    vol1 = models.signals(WS, ["vol-1"])["vol-1"]
    assert [(link.product_id, link.gap_days) for link in vol1.next] == [("vol-2", 20)]
    assert vol1.category == "books"
    summary = models.summary(WS)
    assert summary is not None and (summary.orders, summary.customers, summary.products) == (40, 20, 2)
    # And the run is done with its figures
    cursor = store.cursors()[WS]
    assert cursor.phase == "done" and cursor.result == {
        "orders": 40,
        "customers": 20,
        "products": 2,
        "written": 4,
    }


def test_moved_entries_count_as_baskets():
    # Given readers whose vol-1 order has moved out of the profile
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    for i in range(5):
        shop.add(f"c_m{i}", entry(80, "vol-2"), moved=(entry(100, "vol-1"),))
    # When trained
    service(shop, models, store).run(NOW)
    # Then both orders of each reader were seen: vol-1 leads to vol-2
    summary = models.summary(WS)
    assert summary is not None and summary.orders == 10
    assert [link.product_id for link in models.signals(WS, ["vol-1"])["vol-1"].next] == ["vol-2"]


def test_cancelled_and_fully_refunded_orders_are_no_signal():
    # Given readers whose vol-2 order was cancelled, or refunded whole
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    for i in range(5):
        shop.add(f"c_x{i}", entry(100, "vol-1"), entry(80, "vol-2", counted=False))
        shop.add(f"c_y{i}", entry(100, "vol-1"), entry(80, "vol-2", refunded="20.00"))
    # When trained
    service(shop, models, store).run(NOW)
    # Then only the vol-1 orders count: no link to vol-2, vol-2 not modelled
    summary = models.summary(WS)
    assert summary is not None and summary.orders == 10
    assert models.signals(WS, ["vol-1", "vol-2"])["vol-1"].next == ()
    assert "vol-2" not in models.signals(WS, ["vol-2"])


def test_a_second_run_the_same_day_does_nothing():
    # Given a workspace trained today
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    training = service(shop, models, store)
    training.run(NOW)
    advances, saved = store.advances, dict(models.models)
    # When the hourly job runs again later that day
    again = training.run(NOW + timedelta(hours=5))
    # Then the workspace is skipped: no cursor move, no save
    assert again["workspaces_trained"] == 0 and again["workspaces_pending"] == 0
    assert again["profiles_read"] == 0
    assert store.advances == advances and models.models == saved


def test_the_next_day_trains_again_and_writes_only_what_moved():
    # Given a workspace trained yesterday
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    training = service(shop, models, store)
    training.run(NOW)
    # When the next day's run finds the same orders
    result = training.run(NOW + timedelta(days=1))
    # Then it trains again; only the list and the summary are written (no product moved)
    assert result["workspaces_trained"] == 1 and result["items_written"] == 2
    summary = models.summary(WS)
    assert summary is not None and summary.trained_at == NOW + timedelta(days=1)


def budget_of(pages: int) -> Callable[[], float]:
    """A time budget that lasts for `pages` checks, then runs out."""
    calls = {"n": 0}

    def left() -> float:
        calls["n"] += 1
        return 900.0 if calls["n"] <= pages else RESERVE_SECONDS - 1

    return left


def test_a_run_cut_short_resumes_where_it_stopped_and_trains_the_same_model():
    # Given 250 readers (three walk pages), and the same shop trained in one go
    shop = Shop()
    readers(shop, 250)
    whole = FakeRecommenderModels()
    service(shop, whole, FakeTrainingStore()).run(NOW)
    models, store = FakeRecommenderModels(), FakeTrainingStore()
    training = service(shop, models, store)
    # When the first invocation runs out of time after a page
    first = training.run(NOW, budget_of(4))  # the job, the empty prospect and new lists, a page
    # Then nothing is saved yet and the cursor stands after the first page
    assert first["workspaces_pending"] == 1 and first["workspaces_trained"] == 0
    assert models.summary(WS) is None
    assert store.cursors()[WS].phase == "gather" and store.cursors()[WS].profiles_read == 100
    # When the next hourly invocation runs
    second = training.run(NOW + timedelta(hours=1))
    # Then it reads only the rest and saves the model the uncut run saved
    assert second["profiles_read"] == 150 and second["workspaces_trained"] == 1
    assert models.products == whole.products and models.popular_lists == whole.popular_lists


def test_training_waits_for_an_invocation_with_time_for_it():
    # Given a walk finished with less than the training's reserve left
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    training = service(shop, models, store)
    first = training.run(NOW, lambda: TRAIN_SECONDS - 1)
    # Then the baskets are gathered but not trained
    assert first["workspaces_pending"] == 1 and store.cursors()[WS].phase == "train"
    assert models.summary(WS) is None
    # When the next invocation has the time
    second = training.run(NOW + timedelta(hours=1))
    # Then it trains from the stored rows without walking again
    assert second["workspaces_trained"] == 1 and second["profiles_read"] == 0
    summary = models.summary(WS)
    assert summary is not None and summary.orders == 40


def test_a_customer_listed_twice_by_the_walk_counts_once():
    # Given a reader who moved stage during the walk: listed in two lifecycle lists
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop, 3)
    shop.members.index.setdefault((WS, "lifecycle:at_risk"), set()).add("c_r000")
    # When trained
    result = service(shop, models, store).run(NOW)
    # Then the reader's baskets were gathered twice and counted once
    assert result["baskets"] == 8
    summary = models.summary(WS)
    assert summary is not None and (summary.orders, summary.customers) == (6, 3)


def test_an_unreadable_profile_is_skipped_and_reported():
    # Given readers, one of whose moved entries cannot be read
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop, 4)
    shop.add("c_bad", entry(80, "vol-2"), moved=(entry(100, "vol-1"),))
    shop.broken.add("c_bad")
    # When trained
    result = service(shop, models, store).run(NOW)
    # Then the others are trained on and the bad one is reported, without personal data
    assert result["workspaces_trained"] == 1 and result["failed"] == 1
    assert result["failures"][0]["customer_id"] == "c_bad"
    summary = models.summary(WS)
    assert summary is not None and summary.customers == 4


def test_training_now_runs_whatever_the_days_cursor_says():
    # Given a workspace already trained today
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    training = service(shop, models, store)
    training.run(NOW)
    # When a run is asked for now (the CLI)
    later = NOW + timedelta(hours=2)
    result = training.train_now(WS, later)
    # Then it trains, and reports what it trained on and wrote
    assert result == {
        "workspace_id": WS,
        "done": True,
        "profiles_read": 20,
        "orders": 40,
        "customers": 20,
        "products": 2,
        "written": 2,
    }
    summary = models.summary(WS)
    assert summary is not None and summary.trained_at == later
    # And the daily run still runs that day (its cursor is labelled with the day)
    assert training.run(later)["workspaces_trained"] == 1


def test_an_invocation_that_lost_the_cursor_stops():
    # Given a run whose cursor another invocation moved meanwhile
    shop, models, store = Shop(), FakeRecommenderModels(), FakeTrainingStore()
    readers(shop)
    training = service(shop, models, store)
    started = store.start(WS, f"{NOW:%Y-%m-%d}")
    assert started is not None
    store.advance(started, profiles_read=0)  # the other invocation's commit
    # When this invocation runs with the stale cursor
    result = training._run(started, NOW, lambda: 900.0, Counter(), Skipped())
    # Then it stops without saving
    assert result is None and models.summary(WS) is None


@settings(max_examples=25, deadline=None)
@given(
    orders=st.lists(
        st.tuples(st.integers(0, 149), st.integers(1, 120), st.sets(st.sampled_from("abcdefgh"), min_size=1)),
        min_size=1,
        max_size=300,
    ),
    cuts=st.lists(st.integers(1, 8), max_size=4),
)
def test_where_the_invocations_are_cut_never_changes_the_model(orders, cuts):
    # Given a shop of up to 150 customers (two walk pages) with random orders
    shop = Shop()
    by_customer: dict[int, list[OrderEntry]] = {}
    for customer, days_ago, products in orders:
        by_customer.setdefault(customer, []).append(entry(days_ago, *sorted(products)))
    for customer, entries in by_customer.items():
        shop.add(f"c_{customer:03d}", *entries)
    whole = FakeRecommenderModels()
    service(shop, whole, FakeTrainingStore()).run(NOW)
    # When the day's training runs in invocations each cut after a few budget checks
    models, store = FakeRecommenderModels(), FakeTrainingStore()
    training = service(shop, models, store)
    for checks in cuts:  # (at one clock: a model trained later decays its popularity further)
        training.run(NOW, budget_of(checks))
    training.run(NOW)
    # Then the saved model is the one an uncut run saves
    assert store.cursors()[WS].phase == "done"
    assert models.products == whole.products and models.popular_lists == whole.popular_lists
    assert models.summary(WS) == whole.summary(WS)
