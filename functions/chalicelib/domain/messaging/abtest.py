"""The A/B decision rule: a winner only with enough sample and a significant lead.

Pure (standard library only: `math.erf`), so the rule can be read and tested apart from
the campaign flow. The unit of sample is the message *sent* to a variant (the sender's own
counter; SES delivery events may be missing). The rule:

1. **No data**: no message sent, or nothing measured (no click, or no attributed order,
   in any variant). Outcome `no_winner`, reason `no_data`.
2. **Insufficient sample**: a variant has fewer than `min_sample` messages sent (default
   `MIN_SAMPLE` = 100, a campaign setting). Reason `insufficient_sample`.
3. **The leader**: the variant with the best rate: clicks per message sent (`clicks`),
   attributed revenue per message sent (`revenue`).
4. **The test**: a two-proportion z-test (pooled, two-sided) of the leader against each
   other variant, on clicked/sent (`clicks`) or attributed orders/sent (`revenue`: a
   revenue per recipient has no variance without per-recipient amounts, so the lead in
   revenue must come with significantly more orders per message; one big order does not
   make a winner). The p-values are Bonferroni-corrected (times the number of
   comparisons) and the largest is reported. A comparison where the leader's proportion
   is not higher than the other's counts as p = 1.
5. The leader wins when that p-value is below `ALPHA` (0.05); otherwise reason `tie`.

What a campaign does without a winner (the rest split evenly across the variants) is the
campaign's business (`campaigns.py`); this module only decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

ALPHA = 0.05  # the significance level, two-sided, after the Bonferroni correction
MIN_SAMPLE = 100  # messages sent per variant before any decision (campaign default)

Metric = Literal["clicks", "revenue"]
Reason = Literal["insufficient_sample", "tie", "no_data"]


@dataclass(frozen=True)
class Sample:
    """One variant's counters: messages sent, clicks (unique per message), attributed
    orders and revenue."""

    sent: int
    clicked: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)


@dataclass(frozen=True)
class Decision:
    outcome: Literal["winner", "no_winner"]
    winner: str | None
    reason: Reason | None
    leader: str | None  # the best rate, significant or not
    p_value: float | None  # Bonferroni-corrected, the largest over the comparisons
    rule: str
    samples: dict[str, dict[str, str | int]] = field(default_factory=dict)


def rule_text(metric: Metric, min_sample: int, alpha: float = ALPHA) -> str:
    measure = "clicked/sent" if metric == "clicks" else "revenue/sent, tested on orders/sent"
    return (
        f"{measure}; two-proportion z-test, two-sided, Bonferroni, alpha {alpha}; "
        f"at least {min_sample} sent per variant"
    )


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """The two-sided p-value of a pooled two-proportion z-test of x1/n1 against x2/n2."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # both all-or-nothing alike: no difference to test
    z = abs(x1 / n1 - x2 / n2) / se
    return 1 - math.erf(z / math.sqrt(2))  # = 2 * (1 - Phi(|z|))


def decide(
    metric: Metric, samples: dict[str, Sample], min_sample: int = MIN_SAMPLE, alpha: float = ALPHA
) -> Decision:
    """The decision for the variants' counters, in the campaign's variant order."""
    rule = rule_text(metric, min_sample, alpha)
    # clicks are counted once per message; orders can outnumber messages: cap at sent
    events = {
        v: min(s.sent, s.clicked if metric == "clicks" else s.orders) if s.sent > 0 else 0
        for v, s in samples.items()
    }
    shown = {v: _shown(s, events[v], metric) for v, s in samples.items()}

    def no(reason: Reason, leader: str | None = None, p: float | None = None) -> Decision:
        return Decision("no_winner", None, reason, leader, p, rule, shown)

    if not samples or sum(s.sent for s in samples.values()) == 0 or sum(events.values()) == 0:
        return no("no_data")
    if metric == "revenue" and sum(s.revenue for s in samples.values()) <= 0:
        return no("no_data")
    if any(s.sent < min_sample for s in samples.values()):
        return no("insufficient_sample")

    def rate(v: str) -> Decimal:
        s = samples[v]
        measured = Decimal(s.clicked) if metric == "clicks" else s.revenue
        return measured / Decimal(s.sent)

    leader = max(samples, key=rate)  # the first listed among equal rates: then it is a tie
    others = [v for v in samples if v != leader]
    worst = 0.0
    for other in others:
        a, b = samples[leader], samples[other]
        if events[leader] * b.sent <= events[other] * a.sent:
            p = 1.0  # the leader's proportion is not higher
        else:
            p = two_proportion_p(events[leader], a.sent, events[other], b.sent)
        worst = max(worst, min(1.0, p * len(others)))
    if worst < alpha:
        return Decision("winner", leader, None, leader, worst, rule, shown)
    return no("tie", leader, worst)


def _shown(s: Sample, events: int, metric: Metric) -> dict[str, str | int]:
    out: dict[str, str | int] = {"sent": s.sent}
    if metric == "clicks":
        out["clicked"] = events
    else:
        out["orders"] = events
        out["revenue"] = str(s.revenue)
    return out


def shown(d: Decision | None) -> dict[str, Any] | None:
    """A decision as the API and the CLI show it (None before any decision)."""
    if d is None:
        return None
    return {
        "outcome": d.outcome,
        "winner": d.winner,
        "reason": d.reason,
        "leader": d.leader,
        "p_value": d.p_value,
        "rule": d.rule,
        "samples": {
            v: {k: str(x) if k == "revenue" else int(x) for k, x in s.items()} for v, s in d.samples.items()
        },
    }
