"""A simulated store's orders with planted purchase patterns, for the recommender's benchmark
(`patron bench recommend`, docs/recommendations.md "Evaluation").

Seeded and repeatable, and timed relative to a given `now` (never the wall clock). Each
customer is active over a stretch of the last year and has one or two favourite categories.
What they buy comes from a few processes, each a pattern a recommender can learn:

- book series: volume 1, then volume 2 about `SERIES_GAP` days later, then volume 3;
- accessories: a hook, with its rod in the same order or a week or so later;
- consumables: the customer's coffee or pet food again every `period` days, with jitter;
- seasonal products: popular only over the last `SEASON_DAYS` days;
- noise: long-tail products (Zipf popularity) of the favourite categories, and of any.

Events of the same customer on the same day make one order. A few orders are refunded:
wholly (no sign of liking) or one product of them.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

DAY = 86400
YEAR_DAYS = 365
SERIES_GAP = 21  # days between two volumes, typically
SEASON_DAYS = 45
CATEGORIES = ("books", "fishing", "coffee", "pets", "garden", "kitchen", "toys", "outdoor")
NOISE_PER_CATEGORY = 60


@dataclass(frozen=True)
class SimOrder:
    """One simulated order: its customer, time (epoch seconds), distinct products, and the
    products refunded (all of them: a wholly refunded order)."""

    order_id: str
    customer_id: str
    at: int
    products: tuple[str, ...]
    refunded: tuple[str, ...] = ()


@dataclass(frozen=True)
class SimStore:
    orders: list[SimOrder]
    categories: dict[str, str]  # product -> category


class _Catalogue:
    def __init__(self, rnd: random.Random, noise_per_category: int) -> None:
        self.categories: dict[str, str] = {}
        self.series = [[f"book-s{s:02d}-v{v}" for v in (1, 2, 3)] for s in range(12)]
        for vols in self.series:
            for p in vols:
                self.categories[p] = "books"
        self.kits = [(f"hook-{k}", f"rod-{k}", f"line-{k}") for k in range(6)]
        for kit in self.kits:
            for p in kit:
                self.categories[p] = "fishing"
        self.consumables = [(f"coffee-{k}", "coffee", 14 + 4 * k) for k in range(5)]
        self.consumables += [(f"petfood-{k}", "pets", 21 + 6 * k) for k in range(4)]
        for p, cat, _ in self.consumables:
            self.categories[p] = cat
        self.seasonal = [f"seasonal-{k}" for k in range(6)]
        for k, p in enumerate(self.seasonal):
            self.categories[p] = CATEGORIES[(k + 4) % len(CATEGORIES)]
        self.noise: dict[str, list[str]] = {}
        self.noise_weights: dict[str, list[float]] = {}
        for cat in CATEGORIES:
            items = [f"{cat}-item-{i:05d}" for i in range(noise_per_category)]
            rnd.shuffle(items)
            self.noise[cat] = items
            self.noise_weights[cat] = list(accumulate(1 / (r + 1) ** 1.1 for r in range(len(items))))
            for p in items:
                self.categories[p] = cat

    def noise_item(self, rnd: random.Random, cat: str) -> str:
        cum = self.noise_weights[cat]
        return self.noise[cat][min(bisect(cum, rnd.random() * cum[-1]), len(cum) - 1)]


def _customer_events(
    rnd: random.Random, cat: _Catalogue, start: float, end: float
) -> Iterator[tuple[float, str]]:
    """(day, product) of one customer active from day `start` to `end` (days before now
    negative, now = 0)."""
    favourites = rnd.sample(CATEGORIES, rnd.choice((1, 1, 2)))
    if rnd.random() < 0.3 or "books" in favourites:
        vols = rnd.choice(cat.series)
        t = rnd.uniform(start, end)
        for v, p in enumerate(vols):
            if t > end or (v and rnd.random() > 0.75):
                break
            yield t, p
            t += max(3.0, rnd.gauss(SERIES_GAP, 5))
    if rnd.random() < 0.25 or "fishing" in favourites:
        hook, rod, line = rnd.choice(cat.kits)
        t = rnd.uniform(start, end)
        yield t, hook
        if rnd.random() < 0.7:
            t_rod = t if rnd.random() < 0.5 else t + max(1.0, rnd.gauss(8, 3))
            if t_rod <= end:
                yield t_rod, rod
                if rnd.random() < 0.5 and t_rod + 14 <= end:
                    yield t_rod + rnd.uniform(7, 30), line
    if rnd.random() < 0.3 or "coffee" in favourites or "pets" in favourites:
        options = [c for c in cat.consumables if c[1] in favourites] or cat.consumables
        p, _, period = rnd.choice(options)
        t = rnd.uniform(start, start + period)
        while t <= end:
            yield t, p
            if rnd.random() < 0.08:  # stops buying it
                break
            t += max(3.0, rnd.gauss(period, period * 0.12))
    # visits that buy from the long tail: about one a month while active
    t = start + rnd.expovariate(1 / 25)
    while t <= end:
        c = rnd.choice(favourites) if rnd.random() < 0.75 else rnd.choice(CATEGORIES)
        yield t, cat.noise_item(rnd, c)
        if rnd.random() < 0.3:
            yield t, cat.noise_item(rnd, c)
        t += rnd.expovariate(1 / 35)
    # the season's products: bought by many, over the last SEASON_DAYS days only
    if end > -SEASON_DAYS and rnd.random() < 0.45:
        t = rnd.uniform(max(start, -SEASON_DAYS), end)
        weights = [1 / (k + 1) for k in range(len(cat.seasonal))]
        yield t, rnd.choices(cat.seasonal, weights)[0]


def simulate(
    customers: int = 2000,
    seed: int = 7,
    now: datetime | None = None,
    noise_per_category: int = NOISE_PER_CATEGORY,
) -> SimStore:
    """The simulated store of `customers` customers, from `seed`, timed before `now`
    (default: 2026-06-01 UTC, a fixed instant), with `noise_per_category` long-tail
    products in each of its eight categories."""
    rnd = random.Random(seed)
    cat = _Catalogue(rnd, noise_per_category)
    end_ts = int((now or datetime.fromisoformat("2026-06-01T00:00:00+00:00")).timestamp())
    orders: list[SimOrder] = []
    for c in range(customers):
        cid = f"cust-{c:07d}"
        start = -rnd.uniform(0, YEAR_DAYS)
        end = 0.0 if rnd.random() < 0.6 else rnd.uniform(start, 0)
        by_day: dict[int, list[str]] = {}
        for t, p in _customer_events(rnd, cat, start, end):
            day = math.floor(t)
            if day >= 0:
                continue
            by_day.setdefault(day, [])
            if p not in by_day[day]:
                by_day[day].append(p)
        for n, day in enumerate(sorted(by_day)):
            products = tuple(by_day[day])
            at = end_ts + day * DAY + rnd.randrange(8 * 3600, 22 * 3600)
            refunded: tuple[str, ...] = ()
            roll = rnd.random()
            if roll < 0.03:
                refunded = products
            elif roll < 0.06 and len(products) > 1:
                refunded = (rnd.choice(products),)
            orders.append(SimOrder(f"{cid}-o{n}", cid, at, products, refunded))
    return SimStore(orders, cat.categories)
