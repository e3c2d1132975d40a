"""The recommender's evaluation: the hold-out protocol, the metrics at 10 and the ladder of
baselines (docs/recommendations.md, "Evaluation").

Protocol: the customers with at least two baskets each have their last basket held out;
training reads every other basket (the other customers' orders whatever their time). The
model and every baseline are built from the same training baskets as of the same `now`
(the latest training basket's time); a held-out customer is ranked as of one second before
their held-out order.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.recommend.model import DAY, Basket
from chalicelib.domain.recommend.train import by_customer

K = 10

# (customer's training baskets, oldest first; the instant of ranking) -> products, best first
Ranker = Callable[[Sequence[Basket], datetime], list[str]]


@dataclass(frozen=True)
class Split:
    train: list[Basket]
    held_out: dict[str, Basket]  # customer -> their last basket
    history: dict[str, list[Basket]]  # customer -> their training baskets, oldest first
    now: datetime  # the latest training basket's time


def split_last(baskets: Iterable[Basket]) -> Split:
    """Each customer with at least two baskets has their last one held out."""
    customers = by_customer(baskets)
    train: list[Basket] = []
    held: dict[str, Basket] = {}
    history: dict[str, list[Basket]] = {}
    for cid, bs in customers.items():
        if len(bs) >= 2:
            held[cid] = bs[-1]
            bs = bs[:-1]
        history[cid] = bs
        train.extend(bs)
    latest = max((b.at for b in train), default=0)
    return Split(train, held, history, datetime.fromtimestamp(latest, UTC))


def rank_now(held_out: Basket, lead_days: int = 0) -> datetime:
    """A held-out customer is ranked one second before their held-out order, or `lead_days`
    before it (a message sent that long before the customer orders)."""
    return datetime.fromtimestamp(held_out.at - 1 - lead_days * 86400, UTC)


def hits_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> list[str]:
    """The products of the top `k` that are relevant, in rank order."""
    rel = set(relevant)
    return [p for p in ranked[:k] if p in rel]


def recall_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    rel = set(relevant)
    return len(hits_at(ranked, rel, k)) / len(rel) if rel else 0.0


def ndcg_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Binary relevance; the ideal DCG puts min(k, |relevant|) relevant products first."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if p in rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return dcg / ideal


def evaluate(split: Split, ranker: Ranker, k: int = K, lead_days: int = 0) -> dict[str, Any]:
    """The metrics at `k` of one ranker over the held-out customers, each ranked `lead_days`
    before their held-out order (the history stays the baskets before that order)."""
    catalogue = {p for b in split.train for p in b.products}
    shown: set[str] = set()
    hit = recall = ndcg = 0.0
    repeat = new = 0
    for cid, held in split.held_out.items():
        history = split.history[cid]
        ranked = list(dict.fromkeys(ranker(history, rank_now(held, lead_days))))[:k]
        shown.update(ranked)
        relevant = set(held.products)
        found = hits_at(ranked, relevant, k)
        hit += 1.0 if found else 0.0
        recall += recall_at(ranked, relevant, k)
        ndcg += ndcg_at(ranked, relevant, k)
        before = {p for b in history for p in b.products}
        repeat += sum(1 for p in found if p in before)
        new += sum(1 for p in found if p not in before)
    n = len(split.held_out) or 1
    hits = repeat + new
    return {
        "hit_rate_at_10": round(hit / n, 4),
        "recall_at_10": round(recall / n, 4),
        "ndcg_at_10": round(ndcg / n, 4),
        "coverage": round(len(shown & catalogue) / len(catalogue), 4) if catalogue else 0.0,
        "hits": hits,
        "repeat_share": round(repeat / hits, 4) if hits else 0.0,
        "new_share": round(new / hits, 4) if hits else 0.0,
    }


def popular_list(baskets: Iterable[Basket], now: datetime, window_days: int | None) -> list[str]:
    """Products by distinct buyers (over the last `window_days` before `now`, or all time),
    most first; ties by product id."""
    start = now.timestamp() - window_days * DAY if window_days else -math.inf
    buyers: dict[str, set[str]] = defaultdict(set)
    for b in baskets:
        if start <= b.at <= now.timestamp():
            for p in b.products:
                buyers[p].add(b.customer_id)
    return sorted(buyers, key=lambda p: (-len(buyers[p]), p))


def popularity(top: list[str], k: int = K) -> Ranker:
    """The same top products for everyone."""
    return lambda history, now: top[:k]


def personal_top(k: int = K) -> Ranker:
    """The customer's own most bought products (orders holding them), the latest first among
    equals."""

    def rank(history: Sequence[Basket], now: datetime) -> list[str]:
        count: Counter[str] = Counter()
        last: dict[str, int] = {}
        for b in history:
            for p in b.products:
                count[p] += 1
                last[p] = b.at
        return sorted(count, key=lambda p: (-count[p], -last[p], p))[:k]

    return rank


def personal_then_popular(top: list[str], k: int = K) -> Ranker:
    """The customer's own top products, then the popular ones to fill."""
    mine = personal_top(k)

    def rank(history: Sequence[Basket], now: datetime) -> list[str]:
        return list(dict.fromkeys([*mine(history, now), *top]))[:k]

    return rank


def cooccurrence(train: Iterable[Basket], top: list[str], scope: str = "order", k: int = K) -> Ranker:
    """Item to item: products co-bought with the customer's products (in one order, or by one
    customer with `scope="customer"`), cosine-normalised and summed over the customer's
    products; the popular ones fill. The customer's own products are not left out."""
    groups: Iterable[Iterable[str]]
    if scope == "order":
        groups = [b.products for b in train]
    else:
        groups = [{p for b in bs for p in b.products} for bs in by_customer(train).values()]
    count: Counter[str] = Counter()
    pair: dict[str, Counter[str]] = defaultdict(Counter)
    for g in groups:
        items = list(dict.fromkeys(g))
        for p in items:
            count[p] += 1
            for q in items:
                if q != p:
                    pair[p][q] += 1

    def rank(history: Sequence[Basket], now: datetime) -> list[str]:
        score: dict[str, float] = defaultdict(float)
        for p in {p for b in history for p in b.products}:
            for q, c in pair.get(p, Counter()).items():
                score[q] += c / math.sqrt(count[p] * count[q])
        best = sorted(score, key=lambda q: (-score[q], q))[:k]
        return list(dict.fromkeys([*best, *top]))[:k]

    return rank


def baselines(
    split: Split, window_days: int, lead_days: int = 0
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each baseline's metrics, in its best simple version (the better popularity, recent or
    all time, by nDCG; the better co-purchase scope), and the popular list chosen."""
    recent = popular_list(split.train, split.now, window_days)
    ever = popular_list(split.train, split.now, None)
    pop: dict[str, tuple[dict[str, Any], list[str]]] = {
        f"recent_{window_days}_days": (evaluate(split, popularity(recent), lead_days=lead_days), recent),
        "all_time": (evaluate(split, popularity(ever), lead_days=lead_days), ever),
    }
    variant = max(pop, key=lambda v: (pop[v][0]["ndcg_at_10"], v == "all_time"))
    result, top = pop[variant]
    tried = {v: r["ndcg_at_10"] for v, (r, _) in pop.items()}
    out = {"popularity": {**result, "variant": variant, "variants_ndcg_at_10": tried}}
    out["personal_top"] = evaluate(split, personal_top(), lead_days=lead_days)
    out["personal_then_popular"] = {
        **evaluate(split, personal_then_popular(top), lead_days=lead_days),
        "variant": variant,
    }
    co = {
        s: evaluate(split, cooccurrence(split.train, top, s), lead_days=lead_days)
        for s in ("order", "customer")
    }
    scope = max(co, key=lambda s: co[s]["ndcg_at_10"])
    out["item_cooccurrence"] = {
        **co[scope],
        "variant": f"same_{scope}",
        "variants_ndcg_at_10": {f"same_{s}": r["ndcg_at_10"] for s, r in co.items()},
    }
    return out, top


def best(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The best baseline by nDCG at 10, with its name."""
    name = max(results, key=lambda n: (results[n]["ndcg_at_10"], n))
    return {"name": name, **results[name]}
