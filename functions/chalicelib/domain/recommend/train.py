"""Training: a workspace's baskets into a `RecommenderModel` (docs/recommendations.md).

One pass over each customer's baskets in time order counts, per product:
- its buyers and the orders holding it;
- bought together: the other products of the same orders (share of its orders);
- bought next: products first bought in one of the customer's next `NEXT_ORDERS` orders
  (share of its buyers who ordered again), with the median gap in days;
- similar: products the same customers bought in any order (cosine of the buyer sets);
- repeat purchase: of its buyers with a later order, the share who bought it again, and the
  median days between two purchases of it.
Popularity counts the distinct buyers over the last `window_days`, each weighted down with
its age (half-life `half_life_days`); the store's all-time favourites fill the list after
them when the window holds fewer than `top_popular` products.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from chalicelib.domain.recommend.model import DAY, Basket, Link, Popular, ProductSignals, RecommenderModel


@dataclass(frozen=True)
class TrainParams:
    window_days: int = 30
    half_life_days: float = 14.0
    next_orders: int = 3  # the following orders a "bought next" link looks at
    top_links: int = 20  # links kept per product and kind
    top_popular: int = 200
    min_count: int = 2  # a link seen fewer times is noise


def _top(
    counts: Mapping[str, int], base: int, k: int, min_count: int, gaps: Mapping[str, list[int]] | None = None
) -> tuple[Link, ...]:
    if base <= 0:
        return ()
    kept = [(p, c) for p, c in counts.items() if c >= min_count]
    kept.sort(key=lambda pc: (-pc[1], pc[0]))
    return tuple(
        Link(p, round(c / base, 6), c, int(median(gaps[p])) if gaps and gaps.get(p) else None)
        for p, c in kept[:k]
    )


def by_customer(baskets: Iterable[Basket]) -> dict[str, list[Basket]]:
    """Each customer's baskets, oldest first."""
    out: dict[str, list[Basket]] = defaultdict(list)
    for b in baskets:
        out[b.customer_id].append(b)
    for bs in out.values():
        bs.sort(key=lambda b: b.at)
    return out


def train(
    baskets: Iterable[Basket],
    now: datetime,
    categories: Mapping[str, str] | None = None,
    params: TrainParams = TrainParams(),
) -> RecommenderModel:
    """The model of these baskets as of `now` (baskets after `now` are ignored)."""
    cut = int(now.timestamp())
    customers = by_customer(b for b in baskets if b.at <= cut)
    cats = categories or {}
    buyers: Counter[str] = Counter()
    orders_with: Counter[str] = Counter()
    with_later: Counter[str] = Counter()  # buyers with an order after their first purchase of it
    repeaters: Counter[str] = Counter()
    repeat_gaps: dict[str, list[int]] = defaultdict(list)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    nxt: dict[str, Counter[str]] = defaultdict(Counter)
    nxt_gaps: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    bought_by: dict[str, set[str]] = defaultdict(set)
    recent: dict[str, float] = defaultdict(float)
    window_start = cut - params.window_days * DAY
    orders = 0
    for cid, bs in customers.items():
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        recent_seen: dict[str, float] = {}
        for i, b in enumerate(bs):
            orders += 1
            for p in b.products:
                orders_with[p] += 1
                bought_by[p].add(cid)
                if p in last:
                    repeat_gaps[p].append(max(0, (b.at - last[p]) // DAY))
                last[p] = b.at
                first.setdefault(p, i)
                if b.at >= window_start:
                    w = 0.5 ** ((cut - b.at) / DAY / params.half_life_days)
                    recent_seen[p] = max(recent_seen.get(p, 0.0), w)
                for q in b.products:
                    if q != p:
                        together[p][q] += 1
        for p, w in recent_seen.items():
            recent[p] += w
        seen_first = {p: bs[i] for p, i in first.items()}
        for p, i in first.items():
            buyers[p] += 1
            if i + 1 < len(bs):
                with_later[p] += 1
                if any(p in later.products for later in bs[i + 1 :]):
                    repeaters[p] += 1
                start = bs[i]
                for later in bs[i + 1 : i + 1 + params.next_orders]:
                    for q in later.products:
                        if q != p and seen_first[q] is later:
                            nxt[p][q] += 1
                            nxt_gaps[p][q].append(max(0, (later.at - start.at) // DAY))
    signals = {}
    for p, n in buyers.items():
        sim: dict[str, float] = {}
        for q, c in _co_buyers(p, bought_by, together, nxt).items():
            if c >= params.min_count:
                sim[q] = c / math.sqrt(n * len(bought_by[q]))
        similar = tuple(
            Link(q, round(s, 6), len(bought_by[p] & bought_by[q]))
            for q, s in sorted(sim.items(), key=lambda qs: (-qs[1], qs[0]))[: params.top_links]
        )
        signals[p] = ProductSignals(
            product_id=p,
            buyers=n,
            category=cats.get(p),
            together=_top(together[p], orders_with[p], params.top_links, params.min_count),
            next=_top(nxt[p], with_later[p], params.top_links, params.min_count, nxt_gaps[p]),
            similar=similar,
            repeat_share=round(repeaters[p] / with_later[p], 6) if with_later[p] else 0.0,
            repeat_gap_days=int(median(repeat_gaps[p])) if repeat_gaps[p] else None,
        )
    popular = sorted(recent.items(), key=lambda ps: (-ps[1], ps[0]))[: params.top_popular]
    popular += _all_time_fill(buyers, dict(popular), params.top_popular)
    return RecommenderModel(
        trained_at=now,
        orders=orders,
        customers=len(customers),
        window_days=params.window_days,
        products=signals,
        popular=tuple(Popular(p, round(s, 6), cats.get(p)) for p, s in popular),
    )


def _all_time_fill(
    buyers: Mapping[str, int], recent: Mapping[str, float], top: int
) -> list[tuple[str, float]]:
    """When the recent window holds fewer than `top` products (a quiet store, a new season),
    the store's all-time favourites (distinct buyers) fill the list, each below every recent
    one: a customer is never left without a fallback."""
    room = top - len(recent)
    if room <= 0 or not buyers:
        return []
    floor = min(recent.values()) / 2 if recent else 1.0
    most = max(buyers.values())
    ranked = sorted(((p, n) for p, n in buyers.items() if p not in recent), key=lambda pn: (-pn[1], pn[0]))
    return [(p, floor * n / most) for p, n in ranked[:room] if round(floor * n / most, 6) > 0]


def _co_buyers(
    p: str,
    bought_by: Mapping[str, set[str]],
    together: Mapping[str, Counter[str]],
    nxt: Mapping[str, Counter[str]],
) -> dict[str, int]:
    """Customers who bought both `p` and another product, for the products linked to `p`
    (candidates from its together and next links: no all-pairs pass)."""
    mine = bought_by[p]
    candidates = set(together.get(p, ())) | set(nxt.get(p, ()))
    return {q: len(mine & bought_by[q]) for q in candidates}
