"""The recommender's benchmark: the metrics on hand-computed examples, the protocol, each
baseline on a tiny store, the JSON-lines loader, the simulated store, and the recommender
against every baseline on a small simulated store (figures, never times)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

import patron.cli
from chalicelib.domain.recommend.model import DAY, Basket
from patron.bench.recommend import evaluate_all
from patron.bench.recommend_eval import (
    Split,
    best,
    cooccurrence,
    evaluate,
    hits_at,
    ndcg_at,
    personal_then_popular,
    personal_top,
    popular_list,
    popularity,
    rank_now,
    recall_at,
    split_last,
)
from patron.bench.recommend_orders import from_simulation, load_generic_jsonl
from patron.synthetic.baskets import SERIES_GAP, simulate

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


# --- metrics, by hand ----------------------------------------------------------------


def test_ndcg_recall_and_hits_on_a_hand_computed_ranking():
    # Given a ranking with one of two relevant products, at rank 2
    ranked, relevant = ["a", "b", "c"], {"b", "d"}
    # When measured at 10
    # Then DCG = 1/log2(3), the ideal DCG = 1 + 1/log2(3), recall 1/2
    assert hits_at(ranked, relevant) == ["b"]
    assert recall_at(ranked, relevant) == 0.5
    assert ndcg_at(ranked, relevant) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at(["b", "d"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["x"], relevant) == 0.0


def test_the_ideal_dcg_stops_at_k():
    # Given twelve relevant products and a top 10 of ten of them
    relevant = {f"p{i}" for i in range(12)}
    # When measured at 10, Then the ranking is ideal: nDCG 1, recall 10/12
    assert ndcg_at(sorted(relevant)[:10], relevant) == pytest.approx(1.0)
    assert recall_at(sorted(relevant)[:10], relevant) == pytest.approx(10 / 12)
    # and a product past rank 10 counts for nothing
    assert hits_at([*(f"x{i}" for i in range(10)), "p0"], relevant) == []


def tiny_split() -> Split:
    """Two held-out customers: a bought before, then {a, b}; c bought x, then {y}."""
    baskets = [
        Basket("a", at(30), ("a",)),
        Basket("a", at(2), ("a", "b")),
        Basket("c", at(20), ("x",)),
        Basket("c", at(1), ("y",)),
        Basket("solo", at(10), ("x", "z")),
    ]
    return split_last(baskets)


def test_the_protocol_holds_out_each_customers_last_basket():
    # Given three customers, two with two baskets
    split = tiny_split()
    # Then the two have their last basket held out; the one-basket customer trains only
    assert {c: b.products for c, b in split.held_out.items()} == {"a": ("a", "b"), "c": ("y",)}
    assert sorted(b.products for b in split.train) == [("a",), ("x",), ("x", "z")]
    # and training's now is the latest training basket; a customer is ranked a second before
    assert split.now == datetime.fromtimestamp(at(10), UTC)
    assert rank_now(split.held_out["c"]).timestamp() == at(1) - 1


def test_evaluate_counts_hits_recall_ndcg_coverage_and_repeat_against_new():
    # Given a ranker offering a, then y, to everyone
    split = tiny_split()
    result = evaluate(split, lambda history, now: ["a", "y"])
    # Then customer a: a at rank 1 (a repeat), recall 1/2; customer c: y at rank 2 (new)
    assert result["hit_rate_at_10"] == 1.0
    assert result["recall_at_10"] == 0.75
    ideal_a = 1 + 1 / math.log2(3)
    expected = ((1 / ideal_a) + (1 / math.log2(3))) / 2
    assert result["ndcg_at_10"] == round(expected, 4)
    # the catalogue seen in training is a, x, z; y was never trained on
    assert result["coverage"] == round(1 / 3, 4)
    assert (result["hits"], result["repeat_share"], result["new_share"]) == (2, 0.5, 0.5)


# --- baselines on a tiny store ---------------------------------------------------------


def ladder_store() -> list[Basket]:
    return [
        Basket("u1", at(100), ("old",)),
        Basket("u2", at(100), ("old",)),
        Basket("u3", at(100), ("old",)),
        Basket("u1", at(5), ("new", "pair")),
        Basket("u2", at(4), ("new", "pair")),
        Basket("me", at(40), ("tea",)),
        Basket("me", at(20), ("tea", "new")),
        Basket("me", at(3), ("cup",)),
    ]


def test_popularity_counts_distinct_buyers_recent_or_all_time():
    baskets = ladder_store()
    assert popular_list(baskets, NOW, 30) == ["new", "pair", "cup", "tea"]  # tea 20 days ago
    assert popular_list(baskets, NOW, None)[:2] == ["new", "old"]
    assert popularity(["new", "old"])([], NOW) == ["new", "old"]


def test_personal_top_is_the_customers_most_bought_the_latest_first_among_equals():
    mine = [b for b in ladder_store() if b.customer_id == "me"]
    assert personal_top()(mine, NOW) == ["tea", "cup", "new"]


def test_personal_then_popular_fills_with_the_popular_without_duplicates():
    mine = [b for b in ladder_store() if b.customer_id == "me"]
    assert personal_then_popular(["new", "pair", "old"])(mine, NOW) == ["tea", "cup", "new", "pair", "old"]


def test_cooccurrence_offers_what_is_bought_with_the_customers_products():
    # Given new is always bought with pair
    baskets = ladder_store()
    rank = cooccurrence(baskets, ["old"], scope="order")
    # When a customer who bought new is ranked
    # Then pair comes first (cosine 1), then tea (with new once), then the popular fill
    assert rank([Basket("x", at(1), ("new",))], NOW) == ["pair", "tea", "old"]
    # and by customer, cup is linked to tea too (me bought both)
    assert "cup" in cooccurrence(baskets, [], scope="customer")([Basket("x", at(1), ("tea",))], NOW)


def test_the_best_baseline_is_chosen_by_ndcg_with_its_name():
    results = {
        "a": {"ndcg_at_10": 0.2, "hit_rate_at_10": 0.5},
        "b": {"ndcg_at_10": 0.3, "hit_rate_at_10": 0.4},
    }
    assert best(results) == {"name": "b", "ndcg_at_10": 0.3, "hit_rate_at_10": 0.4}


# --- the loader ------------------------------------------------------------------------


def test_the_loader_reads_the_imports_format_and_leaves_out_refunds_and_cancellations():
    # Given a generic JSON-lines file with a partial and whole refunds, a cancellation, a bad
    # line, an order without customer and a refund of an order not in the file
    data = (ROOT / "events/import/recommend_orders.jsonl").read_bytes()
    # When loaded
    loaded = load_generic_jsonl(data, received_at=datetime(2025, 6, 1, tzinfo=UTC))
    # Then each counted order is a basket of its kept products, by customer id or email
    by_customer = {}
    for b in loaded.baskets:
        by_customer.setdefault(b.customer_id.split(":")[-1], []).append(b.products)
    assert by_customer == {
        "c-1": [("p-hook", "p-rod"), ("p-line",)],  # the 3.00 refund is the bait's line
        "c-2": [("p-hook", "p-rod"), ("p-bait",)],  # o-5 wholly refunded by its refund line
        "guest.angler@example.com": [("p-rod",)],
    }
    assert [b.at for b in loaded.baskets] == sorted(b.at for b in loaded.baskets)
    assert loaded.categories["p-bait"] == "bait"
    assert loaded.summary() == {
        "orders_read": 9,
        "baskets": 5,
        "rejected_lines": 1,
        "cancelled": 1,
        "wholly_refunded": 2,
        "without_products": 0,
        "without_customer": 1,
        "unmatched_refunds": 1,
    }


def test_the_loader_on_the_imports_example_file_runs_the_whole_benchmark():
    # Given the import's own example (two rejected rows, a cancellation, a partial refund)
    data = (ROOT / "events/import/generic_orders.jsonl").read_bytes()
    loaded = load_generic_jsonl(data, received_at=datetime(2026, 1, 1, tzinfo=UTC))
    # When evaluated
    result = evaluate_all(loaded)
    # Then one customer is held out (Ada: tea, then the teapot with the cups refunded)
    assert result["protocol"]["held_out_customers"] == 1
    assert result["protocol"]["rejected_lines"] == 2 and result["protocol"]["cancelled"] == 1
    assert set(result["baselines"]) == {
        "popularity",
        "personal_top",
        "personal_then_popular",
        "item_cooccurrence",
    }
    assert result["baseline"]["name"] in result["baselines"]


# --- the simulated store ---------------------------------------------------------------


def test_the_simulated_store_is_deterministic_and_timed_before_now():
    # Given the same seed twice, and another seed
    one, two, other = (
        simulate(150, seed=3, now=NOW),
        simulate(150, seed=3, now=NOW),
        simulate(150, seed=4, now=NOW),
    )
    # Then the same seed gives the same store, another seed another one
    assert one == two
    assert one.orders != other.orders
    # and every order is before now, within the year
    assert all(at(366) <= o.at < NOW.timestamp() for o in one.orders)
    assert all(p in one.categories for o in one.orders for p in o.products)


def test_the_simulated_store_plants_series_consumables_and_refunds():
    store = simulate(600, seed=5, now=NOW)
    firsts: dict[tuple[str, str], int] = {}
    for o in sorted(store.orders, key=lambda o: o.at):
        for p in o.products:
            firsts.setdefault((o.customer_id, p), o.at)
    # volume 2 follows volume 1 after about SERIES_GAP days
    gaps = [
        (t2 - firsts[(c, p.replace("-v2", "-v1"))]) / DAY
        for (c, p), t2 in firsts.items()
        if p.endswith("-v2") and (c, p.replace("-v2", "-v1")) in firsts
    ]
    assert len(gaps) > 20 and SERIES_GAP - 5 < sorted(gaps)[len(gaps) // 2] < SERIES_GAP + 5
    # a consumable is bought again by the same customer
    coffee = [o.customer_id for o in store.orders if any(p.startswith("coffee-") for p in o.products)]
    assert len(coffee) > len(set(coffee)) * 2
    # some orders are refunded, wholly or in part; the baskets leave them out
    assert any(o.refunded == o.products for o in store.orders)
    assert any(o.refunded and o.refunded != o.products for o in store.orders)
    loaded = from_simulation(store)
    assert loaded.refunded == sum(1 for o in store.orders if o.refunded == o.products)


# --- the recommender against the ladder --------------------------------------------------


def test_the_recommender_beats_every_baseline_on_a_small_simulated_store():
    # Given a small simulated store
    result = evaluate_all(from_simulation(simulate(800, seed=13, now=NOW)))
    mine = result["recommender"]
    # Then it beats each baseline on hit rate and nDCG at 10
    for name, base in result["baselines"].items():
        assert mine["hit_rate_at_10"] > base["hit_rate_at_10"], name
        assert mine["ndcg_at_10"] > base["ndcg_at_10"], name
    # and popularity by a clear margin
    assert mine["ndcg_at_10"] > 1.5 * result["baselines"]["popularity"]["ndcg_at_10"]
    assert result["baseline"]["name"] in result["baselines"]


def test_the_cli_runs_the_benchmark_on_a_file_of_orders():
    # Given the loader's fixture, in a time its dates are inside the import's window
    path = str(ROOT / "events/import/recommend_orders.jsonl")
    with time_machine.travel(datetime(2025, 6, 1, tzinfo=UTC), tick=False):
        # When `patron bench recommend --orders FILE --json` runs
        done = CliRunner().invoke(patron.cli.cli, ["bench", "recommend", "--orders", path, "--json"])
    # Then it prints the recommender, the best baseline, each baseline, the protocol and compute
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    assert set(printed) >= {"recommender", "baseline", "baselines", "protocol", "compute"}
    assert printed["protocol"]["held_out_customers"] == 2
    assert printed["protocol"]["baskets"] == 5
    assert set(printed["compute"]) == {"train_seconds", "rank_seconds", "peak_memory_mb"}


def test_lead_days_ranks_each_held_out_customer_that_long_before_their_order():
    # Given a customer with two baskets (the second held out)
    t = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    split = split_last([Basket("a", t, ("x",)), Basket("a", t + 30 * DAY, ("y",))])
    seen: list[datetime] = []

    def ranker(history, now):
        seen.append(now)
        return ["y"]

    # When evaluated at once and 7 days early
    evaluate(split, ranker)
    evaluate(split, ranker, lead_days=7)
    # Then the ranking moments are one second, and 7 days and one second, before the order
    held = datetime.fromtimestamp(t + 30 * DAY, UTC)
    assert seen == [held - timedelta(seconds=1), held - timedelta(days=7, seconds=1)]
