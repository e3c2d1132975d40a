"""Ranking: a customer's history and the model's slices into one ranked, explained list.

Each signal gives a candidate a probability-like score; a candidate's score is the
noisy-OR of its signals (1 - the product of 1 - each), and its reason is the signal that
gave the most. Products the customer already bought are left out unless they are due
again (a repeat purchase item whose usual gap has nearly passed).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.recommend.model import DAY, Basket, Popular, ProductSignals, Reason, Recommendation


@dataclass(frozen=True)
class RankParams:
    recent_orders: int = 3  # the last orders whose products anchor links (the last counts most)
    decay: float = 0.5  # the weight of each older anchor order
    popular_weight: float = 0.05
    together_weight: float = 0.5
    similar_weight: float = 0.3
    due_from: float = 0.7  # a repeat item is due once this share of its usual gap has passed
    limit: int = 50


def anchors(history: Sequence[Basket], params: RankParams = RankParams()) -> dict[str, tuple[float, int]]:
    """The products the ranking starts from: (weight, when last bought) per product, from the
    customer's last `recent_orders` orders (oldest first in `history`)."""
    out: dict[str, tuple[float, int]] = {}
    for k, b in enumerate(reversed(history[-params.recent_orders :])):
        w = params.decay**k
        for p in b.products:
            if p not in out:
                out[p] = (w, b.at)
    return out


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
    bought: dict[str, tuple[int, int]] = {}  # product -> (times, last at)
    for b in history:
        for p in b.products:
            n, _ = bought.get(p, (0, 0))
            bought[p] = (n + 1, b.at)
    orders = len(history)
    scores: dict[str, list[tuple[float, Reason]]] = {}

    def add(p: str, s: float, why: Reason) -> None:
        if s > 0 and p not in exclude:
            scores.setdefault(p, []).append((min(s, 0.999), why))

    for p, (times, last) in bought.items():
        sig = signals.get(p)
        gap = sig.repeat_gap_days if sig else None
        due = _due((t - last) / DAY, gap, params)
        if due > 0 and sig is not None:
            personal = times / max(orders, 1)
            add(p, due * max(sig.repeat_share, personal), Reason("repeat_due", days=gap))
    for a, (w, _) in anchors(history, params).items():
        sig = signals.get(a)
        if sig is None:
            continue
        for link in sig.next:
            add(link.product_id, w * link.score, Reason("bought_next", a, days=link.gap_days))
        for link in sig.together:
            add(link.product_id, w * params.together_weight * link.score, Reason("bought_together", a))
        for link in sig.similar:
            add(link.product_id, w * params.similar_weight * link.score, Reason("similar", a))
    top = popular[0].score if popular else 0.0
    liked = {signals[p].category for p in bought if p in signals and signals[p].category}
    for item in popular:
        s = params.popular_weight * item.score / top if top else 0.0
        if item.category and item.category in liked:
            add(item.product_id, 2 * s, Reason("popular_in_category", category=item.category))
        else:
            add(item.product_id, s, Reason("popular"))
    out = []
    for p, parts in scores.items():
        due_again = any(why.kind == "repeat_due" for _, why in parts)
        if p in bought and not due_again:
            continue
        miss = 1.0
        for s, _ in parts:
            miss *= 1 - s
        best = max(parts, key=lambda sw: sw[0])[1]
        out.append(Recommendation(p, round(1 - miss, 6), best))
    out.sort(key=lambda r: (-r.score, r.product_id))
    return out[: params.limit]
