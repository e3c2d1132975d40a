"""Ranking: a customer's history and the model's slices into one ranked, explained list.

Each signal gives a candidate a probability-like score; a candidate's score is the
noisy-OR of its signals (1 - the product of 1 - each), and its reason is the signal that
gave the most. Products the customer already bought are left out unless they are due
again (a repeat purchase item whose usual gap, the customer's own when they bought it
twice or more, has mostly passed): their reason is then always "due again".

Signals: repeat when due (the product's repeat share, or the customer's own); bought next
from the anchors (the last `recent_orders` orders' products, older orders weighing less),
weighed by how well the days since the anchor fit the link's usual gap; bought together;
similar; and the recent window's popularity, doubled in the categories the customer
bought from. The weights were chosen on a validation split of training data
(docs/recommendations.md, "How it ranks").
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.recommend.model import (
    DAY,
    Basket,
    Popular,
    ProductSignals,
    Reason,
    ReasonKind,
    Recommendation,
)

_Why = tuple[ReasonKind, str | None, int | None, str | None]  # a Reason's fields, built once chosen


@dataclass(frozen=True)
class RankParams:
    recent_orders: int = 5  # the last orders whose products anchor links (the last counts most)
    decay: float = 0.7  # the weight of each older anchor order
    popular_weight: float = 0.1
    together_weight: float = 0.5
    similar_weight: float = 0.2
    due_from: float = 0.5  # a repeat item is due once this share of its usual gap has passed
    limit: int = 50
    max_anchors: int = 100
    gap_floor: float = 0.4  # a bought-next link's weight long before or after its usual gap
    gap_width: float = 0.6  # the spread of the gap's fit, in log days


def anchors(history: Sequence[Basket], params: RankParams = RankParams()) -> dict[str, tuple[float, int]]:
    """The products whose signals a ranking reads: (weight, when last bought) per product,
    the latest bought first, at most `params.max_anchors` (one batch read). The products of
    the customer's last `recent_orders` orders weigh `decay ** k` (k: orders since, the last
    order 0): their links lead to candidates; older products weigh 0 and are read only to
    see whether they are due again."""
    out: dict[str, tuple[float, int]] = {}
    for k, b in enumerate(reversed(history)):
        w = params.decay**k if k < params.recent_orders else 0.0
        for p in b.products:
            if p not in out:
                out[p] = (w, b.at)
                if len(out) >= params.max_anchors:
                    return out
    return out


def _gap_fit(days_since: float, gap: int | None, params: RankParams) -> float:
    """How well the days since the anchor fit a bought-next link's usual gap: 1 on it,
    down to `gap_floor` far from it (the next product may still come, later or sooner)."""
    if not gap or gap <= 0:
        return 1.0
    off = math.log(max(days_since, 0.5) / gap) / params.gap_width
    return params.gap_floor + (1 - params.gap_floor) * math.exp(-0.5 * off * off)


def _due(days_since: float, gap: int | None, params: RankParams) -> float:
    """How due a repeat item is: 0 well before its usual gap, near 1 around it."""
    if not gap:
        return 0.0
    ratio = days_since / gap
    if ratio < params.due_from:
        return 0.0
    return math.exp(-0.5 * math.log(max(ratio, 1e-6)) ** 2)


def rank(
    history: Sequence[Basket],
    signals: Mapping[str, ProductSignals],
    popular: Sequence[Popular],
    now: datetime,
    exclude: Collection[str] = (),
    params: RankParams = RankParams(),
) -> list[Recommendation]:
    """The ranked candidates for a customer with this history (oldest first), best first,
    at most `params.limit`; `exclude`: products never offered (e.g. the triggering event's)."""
    t = now.timestamp()
    bought: dict[str, tuple[int, int, int]] = {}  # product -> (times, first at, last at)
    for b in history:
        for p in b.products:
            n, first, _ = bought.get(p, (0, b.at, 0))
            bought[p] = (n + 1, first, b.at)
    orders = len(history)
    # per candidate: [the product of 1 - each score, the best score, its reason, the due reason]
    acc: dict[str, list[Any]] = {}

    def add(p: str, s: float, why: _Why) -> None:
        if s <= 0 or p in exclude:
            return
        s = min(s, 0.999)
        cur = acc.get(p)
        if cur is None:
            acc[p] = [1 - s, s, why, why if why[0] == "repeat_due" else None]
            return
        cur[0] *= 1 - s
        if s > cur[1]:
            cur[1], cur[2] = s, why
        if cur[3] is None and why[0] == "repeat_due":
            cur[3] = why

    for p, (times, first, last) in bought.items():
        sig = signals.get(p)
        if sig is None:
            continue
        gap = sig.repeat_gap_days
        if times >= 2 and last > first:  # the customer's own cadence, when they have one
            gap = max(1, round((last - first) / DAY / (times - 1)))
        due = _due((t - last) / DAY, gap, params)
        if due > 0:
            personal = (times - 1) / max(orders - 1, 1) if times >= 2 else 0.0
            add(p, due * max(sig.repeat_share, personal), ("repeat_due", None, gap, None))
    for a, (w, when) in anchors(history, params).items():
        sig = signals.get(a)
        if sig is None or w <= 0:
            continue
        since = (t - when) / DAY
        for link in sig.next:
            fit = _gap_fit(since, link.gap_days, params)
            add(link.product_id, w * fit * link.score, ("bought_next", a, link.gap_days, None))
        for link in sig.together:
            add(link.product_id, w * params.together_weight * link.score, ("bought_together", a, None, None))
        for link in sig.similar:
            add(link.product_id, w * params.similar_weight * link.score, ("similar", a, None, None))
    top = popular[0].score if popular else 0.0
    liked = {signals[p].category for p in bought if p in signals and signals[p].category}
    for item in popular:
        s = params.popular_weight * item.score / top if top else 0.0
        if item.category and item.category in liked:
            add(item.product_id, 2 * s, ("popular_in_category", None, None, item.category))
        else:
            add(item.product_id, s, ("popular", None, None, None))
    out = []
    for p, (miss, _, best, due_again) in acc.items():
        if p in bought and due_again is None:
            continue
        # a product bought before is offered because it is due again: that is its reason
        kind, anchor, days, category = due_again or best
        out.append(Recommendation(p, round(1 - miss, 6), Reason(kind, anchor, days, category)))
    out.sort(key=lambda r: (-r.score, r.product_id))
    return out[: params.limit]
