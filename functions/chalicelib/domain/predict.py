"""Per-customer predictions from a workspace's fitted models, in plain Python.

The nightly job fits BG/NBD and Gamma-Gamma per workspace (numpy/scipy, in
`chalicelib.analytics.btyd`) and stores the parameters on the workspace. Scoring one
customer is closed-form, so it happens wherever a profile is evaluated (the stream, the
recheck job, the API) with no numpy: the scores are always those of the profile as it
is now, never a day old.

Time is in whole UTC days, as the fit: x is the number of repeat purchase days, t_x the
days from the first to the last purchase day, T the days from the first purchase day to
today. All three scores fall as days pass without a purchase, which lets a segment such
as `p_alive < 0.3` know the day it will flip (see `segment_eval.evaluate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain import order_entries
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.model_params import ModelParams

DAY_SECONDS = 86400
PURCHASES_HORIZON_DAYS = 90
CLV_HORIZON_DAYS = 365
MAX_EXPONENT = 700.0  # exp() of more overflows a float
MODEL_FIELDS = ("p_alive", "expected_purchases_90", "clv")


@dataclass(frozen=True)
class Summary:
    """One customer's RFM summary in whole days (x repeat days, t_x, T, mean repeat value)."""

    x: int
    tx: float
    T: float
    m: float


def summary(profile: CustomerProfile, now: datetime) -> Summary | None:
    """The summary of a profile's counted orders (None before the first order).

    Orders on the same UTC day count once, their amounts summed, as the models assume;
    amounts are net of refunds, in the workspace currency (orders with no rate count as
    purchases with no value).
    """
    orders = order_entries.of_profile(profile)  # the recent entries and the moved ones' summary
    first, last = orders.day0, orders.last_day()
    if first is None or last is None:
        return None
    today = int(now.astimezone(UTC).timestamp()) // DAY_SECONDS
    repeats = orders.order_days() - 1
    mean = float(orders.value - orders.day0_value) / repeats if repeats else 0.0
    return Summary(repeats, last - first, max(today - first, last - first), max(mean, 0.0))


def hyp2f1(a: float, b: float, c: float, z: float) -> float:
    """Gauss's hypergeometric function by its series, for 0 <= z < 1."""
    term = total = 1.0
    k = 0
    while k < 100_000:
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        k += 1
        if abs(term) <= 1e-13 * abs(total):
            return total
    return total


def _ratio(params: ModelParams, s: Summary, T: float) -> float:
    """a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x), 0 for one-time buyers."""
    if s.x == 0:
        return 0.0
    try:
        power = (params.r + s.x) * (math.log(params.alpha + T) - math.log(params.alpha + s.tx))
        return params.a / max(params.b + s.x - 1, 1e-12) * math.exp(min(power, MAX_EXPONENT))
    except (ValueError, OverflowError):  # parameters the fit never gives: no evidence of life
        return math.inf


def p_alive(params: ModelParams, s: Summary, days_ahead: int = 0) -> float:
    T = s.T + days_ahead
    if params.fitted:
        return 1.0 / (1.0 + _ratio(params, s, T))
    gap = s.tx / s.x if s.x > 0 else params.store_gap
    gap = max(gap, 1e-9)
    since = T - s.tx
    return min(max(1.0 if since <= 2 * gap else 2 * gap / max(since, 1e-9), 0.0), 1.0)


def expected_purchases(params: ModelParams, s: Summary, horizon: float, days_ahead: int = 0) -> float:
    """E[Y(horizon) | x, t_x, T] (Fader, Hardie and Lee 2005, eq. 10), or the heuristic."""
    T = s.T + days_ahead
    if not params.fitted:
        rate = s.x / T if s.x > 0 and T > 0 else params.store_rate
        return p_alive(params, s, days_ahead) * rate * horizon
    r, alpha, a, b, x = params.r, params.alpha, params.a, params.b, s.x
    c, z = a + b + x - 1, horizon / (alpha + T + horizon)
    held = ((alpha + T) / (alpha + T + horizon)) ** (r + x)
    if c == 0:  # a one-time buyer with a + b = 1: 2F1 has a pole at c = 0, but
        # c * 2F1(r+x, b+x; c; z) tends to (r+x)(b+x) z 2F1(r+x+1, b+x+1; 2; z)
        scaled = -held * (r + x) * (b + x) * z * hyp2f1(r + x + 1, b + x + 1, 2, z)
    else:
        scaled = c * (1 - held * hyp2f1(r + x, b + x, c, z))
    return scaled / (a - 1) / (1 + _ratio(params, s, T))


def expected_value(params: ModelParams, s: Summary) -> float:
    """E[M | x, m_x]: the customer's mean shrunk towards the store's (Gamma-Gamma)."""
    if not params.fitted:
        return s.m if s.x > 0 else params.store_value
    population = params.v * params.p / (params.q - 1) if params.q > 1 else params.store_value
    if s.x == 0:
        return population
    weight = params.p * s.x / (params.p * s.x + params.q - 1)
    return (1 - weight) * population + weight * s.m


def values(params: ModelParams, s: Summary, days_ahead: int = 0) -> dict[str, Decimal]:
    """The segment fields, as they will be `days_ahead` days from today with no new order."""
    purchases_90 = expected_purchases(params, s, PURCHASES_HORIZON_DAYS, days_ahead)
    purchases_year = expected_purchases(params, s, CLV_HORIZON_DAYS, days_ahead)
    return {
        "p_alive": _decimal(p_alive(params, s, days_ahead), 4),
        "expected_purchases_90": _decimal(purchases_90, 3),
        "clv": _decimal(purchases_year * expected_value(params, s), 2),
    }


def _decimal(value: float, digits: int) -> Decimal:
    """A score as a Decimal; 0 for what the formulas cannot give a number for (they are
    total over the days any stored order can have, but a value that is not finite must
    never reach a comparison or a DynamoDB item)."""
    return Decimal(str(round(value, digits))) if math.isfinite(value) else Decimal(0)


def view(params: ModelParams | None, profile: CustomerProfile, now: datetime) -> dict[str, Any] | None:
    """A customer's scores for the API: values, method, and when the model was fitted."""
    if params is None:
        return None
    s = summary(profile, now)
    if s is None:
        return {"method": params.method, "scored": False, "reason": "no order yet"}
    out: dict[str, Any] = {k: str(v) for k, v in values(params, s).items()}
    value = expected_value(params, s)
    out["expected_avg_value"] = str(round(Decimal(str(value)), 2)) if math.isfinite(value) else "0.00"
    out.update(method=params.method, model_fitted_at=params.fitted_at, scored=True)
    if not params.fitted:
        out["reason"] = params.reason
    return out
