"""Built-in scores: RFM quintiles and groups, lifecycle stages. Pure Python, per profile.

RFM: recency (days since the last order; fewer is better), frequency (orders) and
monetary value (net spend) are each scored 1-5 against the workspace's quintile
edges, computed nightly from its customers with at least one order. Ties stay
together: every customer at an edge gets the same score.

Lifecycle uses the customer's own rhythm (average days between orders) where there is
one, the store's otherwise, so "at risk" means late *for this customer*:

    prospect   no order yet
    new        one order, within two store rhythms of it
    active     last order within 1.5 rhythms
    at_risk    within 3 rhythms
    lapsed     within 6 rhythms
    churned    beyond
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.timemath import later, span

DAY = timedelta(days=1)
DEFAULT_RHYTHM_DAYS = 60.0  # a store with no repeat buyers yet
LIFECYCLE_BOUNDS = (("active", 1.5), ("at_risk", 3.0), ("lapsed", 6.0))


@dataclass(frozen=True)
class RfmEdges:
    """Quintile edges (the 20th, 40th, 60th and 80th percentiles) of one workspace."""

    recency_days: tuple[float, float, float, float]
    frequency: tuple[float, float, float, float]
    monetary: tuple[float, float, float, float]

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> RfmEdges:
        def four(key: str) -> tuple[float, float, float, float]:
            a, b, c, d = (float(v) for v in value[key])
            return (a, b, c, d)

        return cls(four("recency_days"), four("frequency"), four("monetary"))

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "recency_days": list(self.recency_days),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }


def quintile_edges(values: list[float]) -> tuple[float, float, float, float]:
    """Linear-interpolated percentiles, as numpy.percentile computes them."""
    if not values:
        return (0.0, 0.0, 0.0, 0.0)
    ordered = sorted(values)
    n = len(ordered)

    def percentile(q: float) -> float:
        position = (n - 1) * q
        low = math.floor(position)
        high = min(low + 1, n - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return (percentile(0.2), percentile(0.4), percentile(0.6), percentile(0.8))


def score_higher_better(value: float, edges: tuple[float, ...]) -> int:
    return 1 + sum(1 for edge in edges if value > edge)


def score_lower_better(value: float, edges: tuple[float, ...]) -> int:
    return 5 - sum(1 for edge in edges if value > edge)


def rfm_group(r: int, f: int, m: int) -> str:
    """The named group for a customer's scores (R against the mean of F and M)."""
    fm = round((f + m) / 2 + 1e-9)
    if r >= 4 and fm >= 4:
        return "champions"
    if r <= 1 and fm >= 4:
        return "cant_lose"
    if r <= 2 and fm >= 3:
        return "at_risk"
    if r >= 3 and fm >= 3:
        return "loyal"
    if r == 5 and fm <= 1:
        return "new"
    if r == 4 and fm <= 1:
        return "promising"
    if r >= 4:
        return "potential_loyalist"
    if r == 3:
        return "need_attention"
    if r == 2:
        return "about_to_sleep"
    return "lost" if fm <= 1 else "hibernating"


@dataclass(frozen=True)
class Rfm:
    r: int
    f: int
    m: int
    group: str


def rfm(days_since_last: float, orders: float, monetary: float, edges: RfmEdges) -> Rfm:
    r = score_lower_better(days_since_last, edges.recency_days)
    f = score_higher_better(orders, edges.frequency)
    m = score_higher_better(monetary, edges.monetary)
    return Rfm(r, f, m, rfm_group(r, f, m))


def rfm_next_change(last_order_at: datetime, edges: RfmEdges, now: datetime) -> datetime | None:
    """When the recency score (and so maybe the group) next changes by time alone (None:
    never, also when that is past the end of the calendar)."""
    future = [later(last_order_at, span(_floor(edge) + 1)) for edge in edges.recency_days]
    coming = [t for t in future if t is not None and t > now]
    return min(coming) if coming else None


def _floor(value: float) -> float:
    return float(math.floor(value)) if math.isfinite(value) else value


@dataclass(frozen=True)
class Stage:
    stage: str
    next_change: datetime | None


def lifecycle(
    orders: int,
    last_order_at: datetime | None,
    own_rhythm_days: float | None,
    store_rhythm_days: float | None,
    now: datetime,
) -> Stage:
    if orders <= 0 or last_order_at is None:
        return Stage("prospect", None)
    store = store_rhythm_days or DEFAULT_RHYTHM_DAYS
    rhythm = own_rhythm_days if orders >= 2 and own_rhythm_days and own_rhythm_days > 0 else store
    since = now - last_order_at  # negative for an order stamped in the future: "new"
    if orders == 1 and since <= span(2 * store):
        bounds = [("new", 2 * store)] + [
            (name, k * rhythm) for name, k in LIFECYCLE_BOUNDS if k * rhythm > 2 * store
        ]
    else:
        bounds = [(name, k * rhythm) for name, k in LIFECYCLE_BOUNDS]
    for name, limit_days in bounds:
        limit = span(limit_days)
        if since <= limit:
            # past the end of the calendar (an order stamped in year 9999): it never changes
            end = later(last_order_at, limit)
            return Stage(name, later(end, timedelta(microseconds=1)) if end else None)
    return Stage("churned", None)


def store_rhythm(gaps: list[float]) -> float | None:
    """The store's typical days between orders: the median of its repeat buyers' rhythms."""
    ordered = sorted(g for g in gaps if g > 0)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
