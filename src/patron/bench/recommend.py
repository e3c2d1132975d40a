"""`patron bench recommend`: the recommender against a ladder of baselines, on a simulated
store with planted patterns or on a store's own orders (docs/recommendations.md,
"Evaluation"; docs/benchmarks.md).

Compute: `train_seconds` is one training on the training baskets; `rank_seconds` all the
held-out customers' rankings; `peak_memory_mb` the process's peak resident set
(`resource.getrusage`, ru_maxrss), the orders it read included.
"""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.recommend.rank import anchors, rank
from chalicelib.domain.recommend.train import TrainParams, train
from patron.bench.recommend_eval import Ranker, Split, baselines, best, evaluate, split_last
from patron.bench.recommend_orders import Loaded, from_simulation, load_generic_jsonl
from patron.synthetic.baskets import simulate


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def recommender(split: Split, categories: dict[str, str]) -> tuple[Ranker, float]:
    """The recommender trained on the split's training baskets, and the training's seconds.
    Each ranking reads only the signals of the customer's anchors, as a request does."""
    t0 = time.perf_counter()
    model = train(split.train, split.now, categories)
    seconds = time.perf_counter() - t0

    def ranker(history: Any, now: datetime) -> list[str]:
        signals = {p: model.products[p] for p in anchors(history) if p in model.products}
        return [r.product_id for r in rank(history, signals, model.popular, now)]

    return ranker, seconds


def evaluate_all(loaded: Loaded, lead_days: int = 0) -> dict[str, Any]:
    split = split_last(loaded.baskets)
    ranker, train_seconds = recommender(split, loaded.categories)
    t0 = time.perf_counter()
    mine = evaluate(split, ranker, lead_days=lead_days)
    rank_seconds = time.perf_counter() - t0
    ladder, _ = baselines(split, TrainParams().window_days, lead_days)
    top = best(ladder)
    return {
        "recommender": mine,
        "baseline": top,
        "baselines": ladder,
        "ratios": {
            m: round(mine[m] / top[m], 3) if top[m] else None for m in ("hit_rate_at_10", "ndcg_at_10")
        }
        | {"ndcg_vs_popularity": _ratio(mine, ladder["popularity"], "ndcg_at_10")},
        "protocol": {
            "baskets": len(loaded.baskets),
            "customers": len(split.history),
            "held_out_customers": len(split.held_out),
            "training_baskets": len(split.train),
            "training_now": split.now.isoformat(),
            "held_out": "each customer's last basket (customers with at least two)",
            "ranked_at": "one second before the held-out order"
            + (f", less {lead_days} days" if lead_days else ""),
            "lead_days": lead_days,
            **loaded.summary(),
        },
        "compute": {
            "train_seconds": round(train_seconds, 3),
            "rank_seconds": round(rank_seconds, 3),
            "peak_memory_mb": peak_rss_mb(),
        },
    }


def _ratio(a: dict[str, Any], b: dict[str, Any], metric: str) -> float | None:
    return round(a[metric] / b[metric], 3) if b[metric] else None


def run(
    customers: int = 2000,
    seed: int = 7,
    orders_file: bytes | None = None,
    received_at: datetime | None = None,
    lead_days: int = 0,
) -> dict[str, Any]:
    """The benchmark on the simulated store (`customers`, `seed`), or on a generic JSON-lines
    export's orders (`orders_file`, dates bounded by `received_at`)."""
    if orders_file is not None:
        if received_at is None:
            raise ValueError("received_at bounds the file's dates")
        loaded = load_generic_jsonl(orders_file, received_at)
        data: dict[str, Any] = {"data": "generic-jsonl"}
    else:
        loaded = from_simulation(simulate(customers, seed))
        data = {"data": "simulated", "customers": customers, "seed": seed}
    return {"benchmark": "recommend", **data, **evaluate_all(loaded, lead_days)}


def run_scale(orders: int, seed: int = 7, long_tail: int = 1250) -> dict[str, Any]:
    """Training time and memory on `orders` simulated orders, of a catalogue with `long_tail`
    long-tail products per category (eight categories; about 10,000 products by default)."""
    t0 = time.perf_counter()
    sample = len(from_simulation(simulate(2000, seed, noise_per_category=long_tail)).baskets) / 2000
    loaded = from_simulation(simulate(int(orders / sample * 1.05) + 10, seed, noise_per_category=long_tail))
    baskets = loaded.baskets[:orders]
    generate_seconds = time.perf_counter() - t0
    rss_before = peak_rss_mb()
    now = datetime.fromtimestamp(max(b.at for b in baskets), tz=UTC)
    t0, cpu0 = time.perf_counter(), time.process_time()
    model = train(baskets, now, loaded.categories)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "benchmark": "recommend-scale",
        "orders": len(baskets),
        "customers": model.customers,
        "products": len(model.products),
        "generate_seconds": round(generate_seconds, 1),
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1),
        "peak_rss_before_train_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "memory": "resource.getrusage ru_maxrss: the process's peak, the generated orders included",
    }
