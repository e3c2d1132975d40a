"""BG/NBD and Gamma-Gamma ("buy till you die") models, vectorized with numpy/scipy.

- BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way".
- Gamma-Gamma: Fader and Hardie (2013), "The Gamma-Gamma model of monetary value".

Inputs are the usual RFM summary per customer, in any one time unit:
- `frequency` x: repeat purchases (purchase periods after the first);
- `recency` t_x: time from the first to the last purchase;
- `T`: time from the first purchase to the end of observation;
- `monetary_value`: mean value of the repeat purchases (0 when x = 0).

Fitting maximises the log-likelihood with L-BFGS-B on log-parameters, with the
analytic gradient, over the *distinct* (x, t_x, T) rows weighted by their count:
store data in whole days repeats a lot, so a million customers fit in well under a
second. Below `MIN_CUSTOMERS` customers or `MIN_REPEATERS` repeat buyers the models
are not fitted; `score` then falls back to transparent heuristics and says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from chalicelib.domain.predict import ModelParams

MIN_CUSTOMERS = 100
MIN_REPEATERS = 20


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and how often each occurs (fast path for whole-number data)."""
    stacked = np.column_stack(columns)
    if np.all(stacked == np.floor(stacked)) and stacked.min() >= 0 and stacked.max() < 2**20:
        # whole numbers (days, counts): one int64 key per row, a 1-D unique is much faster
        ints = stacked.astype(np.int64)
        key = np.zeros(len(ints), dtype=np.int64)
        for col in range(ints.shape[1]):
            key = key * (1 << 20) + ints[:, col]
        unique_keys, counts = np.unique(key, return_counts=True)
        cols = []
        for _ in range(ints.shape[1]):
            cols.append((unique_keys % (1 << 20)).astype(float))
            unique_keys = unique_keys // (1 << 20)
        return cols[::-1], counts.astype(float)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def compress_summary(
    frequency: Any, recency: Any, T: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (frequency, recency, T) rows and how many customers each stands for:
    what `fit_bgnbd` fits, weighted (a weighted fit of these rows has the same likelihood)."""
    (x, tx, t_obs), weights = _compress(*(np.asarray(v, dtype=float) for v in (frequency, recency, T)))
    return x, tx, t_obs, weights


class _BgNbdData:
    """Distinct (x, t_x, T) rows with weights, and the few distinct values of each column.

    Every special function depends on one column only, so it is evaluated on that
    column's distinct values (a few hundred) and gathered; per row only arithmetic remains.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
        (ux, utx, uT), self.w = _compress(x, tx, T)
        self.xs, self.xi = np.unique(ux, return_inverse=True)
        self.txs, self.txi = np.unique(utx, return_inverse=True)
        self.Ts, self.Ti = np.unique(uT, return_inverse=True)
        self.has = ux > 0
        self.x = ux
        # weights per distinct x, for the terms that depend on x alone
        self.wx = np.bincount(self.xi, weights=self.w)


def _bgnbd_nll(log_params: np.ndarray, d: _BgNbdData, penalty: float) -> tuple[float, np.ndarray]:
    r, alpha, a, b = np.exp(log_params)
    xs, x, has, w = d.xs, d.x, d.has, d.w
    # terms of x alone (Fader, Hardie and Lee 2005, eq. 6): on distinct x, weighted
    a12 = (
        special.gammaln(r + xs)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + xs)
        - special.gammaln(b)
        - special.gammaln(a + b + xs)
    )
    dr_x = special.digamma(r + xs) - special.digamma(r) + np.log(alpha)
    da_x = special.digamma(a + b) - special.digamma(a + b + xs)
    db_x = special.digamma(a + b) + special.digamma(b + xs) - special.digamma(b) - special.digamma(a + b + xs)
    # per row: the two-term log-sum-exp
    ln_at = np.log(alpha + d.Ts)[d.Ti]
    ln_atx = np.log(alpha + d.txs)[d.txi]
    inv_at = (1.0 / (alpha + d.Ts))[d.Ti]
    inv_atx = (1.0 / (alpha + d.txs))[d.txi]
    rx = r + x
    bx1 = np.where(has, b + x - 1, 1.0)
    a3 = -rx * ln_at
    a4 = np.where(has, np.log(a) - np.log(bx1) - rx * ln_atx, -np.inf)
    m = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - m), np.exp(a4 - m)
    s = e3 + e4
    p3, p4 = e3 / s, e4 / s
    total = -(np.dot(d.wx, a12) + np.dot(w, m + np.log(s)))
    wp3, wp4 = w * p3, w * p4
    grad_r = np.dot(d.wx, dr_x) - np.dot(wp3, ln_at) - np.dot(wp4, ln_atx)
    grad_alpha = np.sum(w) * r / alpha - np.dot(wp3, rx * inv_at) - np.dot(wp4, rx * inv_atx)
    grad_a = np.dot(d.wx, da_x) + np.sum(wp4) / a
    grad_b = np.dot(d.wx, db_x) - np.dot(wp4, np.where(has, 1.0 / bx1, 0.0))
    grad = -np.array([grad_r * r, grad_alpha * alpha, grad_a * a, grad_b * b])
    # an optional ridge on log-parameters keeps the optimiser away from degenerate corners
    total += penalty * float(np.sum(log_params**2))
    grad += 2 * penalty * log_params
    return float(total), grad


def fit_bgnbd(frequency: Any, recency: Any, T: Any, penalty: float = 0.0) -> BgNbd:
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    _check_summary(x, tx, t_obs)
    data = _BgNbdData(x, tx, t_obs)
    scale = float(np.max(t_obs)) / 10 if np.max(t_obs) > 0 else 1.0  # start alpha near the data
    best = None
    for guess in (np.log([1.0, scale, 1.0, 1.0]), np.log([0.5, scale / 2, 0.5, 2.0])):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = optimize.minimize(
                _bgnbd_nll,
                guess,
                args=(data, penalty),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-13},
            )
        if best is None or result.fun < best.fun:
            best = result
        if result.success:
            break  # the second start is only for a first one that did not converge
    assert best is not None
    r, alpha, a, b = np.exp(best.x)
    return BgNbd(float(r), float(alpha), float(a), float(b))


def _gg_nll(log_params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    p, q, v = np.exp(log_params)
    px = p * x
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )
    dp = x * (special.digamma(px + q) - special.digamma(px) + np.log(m) + np.log(x) - np.log(x * m + v))
    dq = special.digamma(px + q) - special.digamma(q) + np.log(v) - np.log(x * m + v)
    dv = q / v - (px + q) / (x * m + v)
    grad = -np.array([np.dot(w, dp) * p, np.dot(w, dq) * q, np.dot(w, dv) * v])
    return float(-np.dot(w, ll)), grad


def fit_gamma_gamma(frequency: Any, monetary_value: Any) -> GammaGamma:
    """Fit on repeat buyers only (x > 0, monetary value > 0)."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise ValueError("Gamma-Gamma needs customers with repeat purchases and a positive value")
    (ux, um), w = _compress(x[keep], m[keep])
    best = None
    for guess in (np.log([1.0, 1.0, float(np.mean(um))]), np.log([5.0, 3.0, 10.0])):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = optimize.minimize(
                _gg_nll,
                guess,
                args=(ux, um, w),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-14},
            )
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    p, q, v = np.exp(best.x)
    return GammaGamma(float(p), float(q), float(v))


def p_alive(m: BgNbd, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    ratio = np.where(
        x > 0,
        m.a
        / np.maximum(m.b + x - 1, 1e-12)
        * np.exp((m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + tx))),
        0.0,
    )
    return np.asarray(1.0 / (1.0 + ratio))


def expected_purchases(m: BgNbd, t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[Y(t) | x, t_x, T] (Fader, Hardie and Lee 2005, eq. 10)."""
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    ratio = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
    return np.asarray(first / (1 + ratio))


def expected_average_value(g: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[M | x, m_x]: a weighted mean of the population mean and the customer's own mean."""
    population = g.v * g.p / (g.q - 1) if g.q > 1 else float("nan")
    weight = g.p * x / (g.p * x + g.q - 1)
    return np.asarray(np.where(x > 0, (1 - weight) * population + weight * m, population))


@dataclass(frozen=True)
class Scores:
    method: str  # "bgnbd+gamma_gamma" or "heuristic"
    reason: str
    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_avg_value: np.ndarray
    clv: np.ndarray


def _check_summary(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
    if not (len(x) == len(tx) == len(T)):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(x < 0) or np.any(tx < 0) or np.any(tx > T) or np.any((x == 0) & (tx > 0)):
        raise ValueError("need 0 <= recency <= T, frequency >= 0, and recency 0 when frequency is 0")


def enough_data(x: np.ndarray) -> tuple[bool, str]:
    repeaters = int(np.sum(x > 0))
    if len(x) < MIN_CUSTOMERS or repeaters < MIN_REPEATERS:
        return False, (
            f"{len(x)} customers and {repeaters} repeat buyers; the models need at least "
            f"{MIN_CUSTOMERS} and {MIN_REPEATERS}"
        )
    return True, f"{len(x)} customers, {repeaters} repeat buyers"


def heuristic(x: np.ndarray, tx: np.ndarray, T: np.ndarray, m: np.ndarray, horizon: float) -> Scores:
    """Transparent rules for small stores: the customer's own rhythm, or the store's.

    - purchase rate: x / T for repeat buyers, the store's mean rate otherwise;
    - alive: 1 while the time since the last purchase is within twice the customer's mean
      gap between purchases, then decaying as gap / time-since (store's mean gap for one-time buyers);
    - value: the customer's own mean, or the store's.
    """
    rate = np.where(T > 0, x / np.maximum(T, 1e-9), 0.0)
    store_rate, store_gap, store_value = store_figures(x, tx, T, m)
    gap = np.where(x > 0, tx / np.maximum(x, 1), store_gap)
    gap = np.maximum(gap, 1e-9)
    since = T - tx
    alive = np.clip(np.where(since <= 2 * gap, 1.0, 2 * gap / np.maximum(since, 1e-9)), 0.0, 1.0)
    purchases = alive * np.where(x > 0, rate, store_rate) * horizon
    value = np.where(x > 0, m, store_value)
    return Scores("heuristic", "", alive, purchases, value, purchases * value)


def store_figures(x: np.ndarray, tx: np.ndarray, T: np.ndarray, m: np.ndarray) -> tuple[float, float, float]:
    """The store's mean purchase rate and gap of its repeat buyers, and their mean value."""
    repeat = x > 0
    if not np.any(repeat):
        return 0.0, (float(np.mean(T)) if len(T) else 0.0) or 1.0, 0.0
    rate = float(np.mean(x[repeat] / np.maximum(T[repeat], 1e-9)))
    return rate, float(np.mean(tx[repeat] / x[repeat])), float(np.mean(m[repeat]))


def fit_workspace(x: Any, tx: Any, T: Any, m: Any, fitted_at: str) -> ModelParams:
    """The parameters a workspace's customers are scored with until the next fit.

    The models when there is enough data and the fit is sound, else the heuristic's store
    figures, with the reason."""
    x, tx, T, m = (np.asarray(v, dtype=float) for v in (x, tx, T, m))
    _check_summary(x, tx, T)
    rate, gap, value = store_figures(x, tx, T, m)
    base: dict[str, Any] = {
        "customers": len(x),
        "repeat_buyers": int(np.sum(x > 0)),
        "fitted_at": fitted_at,
        "store_rate": rate,
        "store_gap": gap,
        "store_value": value,
    }
    ok, why = enough_data(x)
    if ok:
        bg = fit_bgnbd(x, tx, T)
        gg = fit_gamma_gamma(x, m)
        numbers = [*asdict(bg).values(), *asdict(gg).values()]
        if all(np.isfinite(numbers)) and abs(bg.a - 1) > 1e-9 and gg.q > 1:
            return ModelParams(method="bgnbd+gamma_gamma", reason=why, **asdict(bg), **asdict(gg), **base)
        why = "the fit did not give usable parameters (needs a != 1 and q > 1)"
    return ModelParams(method="heuristic", reason=why, **base)


def score(
    x: Any, tx: Any, T: Any, m: Any, horizon: float, bgnbd: BgNbd | None = None, gg: GammaGamma | None = None
) -> tuple[Scores, dict[str, Any]]:
    """Fit (unless given) and score every customer for a horizon in the data's time unit."""
    x, tx, T, m = (np.asarray(v, dtype=float) for v in (x, tx, T, m))
    _check_summary(x, tx, T)
    ok, why = enough_data(x)
    if not ok and bgnbd is None:
        s = heuristic(x, tx, T, m, horizon)
        return Scores("heuristic", why, s.p_alive, s.expected_purchases, s.expected_avg_value, s.clv), {}
    bgnbd = bgnbd or fit_bgnbd(x, tx, T)
    gg = gg or fit_gamma_gamma(x, m)
    purchases = expected_purchases(bgnbd, horizon, x, tx, T)
    value = expected_average_value(gg, x, m)
    scores = Scores("bgnbd+gamma_gamma", why, p_alive(bgnbd, x, tx, T), purchases, value, purchases * value)
    return scores, {"bgnbd": asdict(bgnbd), "gamma_gamma": asdict(gg)}


def summarize_transactions(
    customer_ids: Any, times: Any, amounts: Any, observation_end: float | None = None
) -> dict[str, np.ndarray]:
    """RFM summary from raw transactions (times as numbers in one unit, e.g. days).

    Purchases in the same time period (same integer time) count once, their amounts
    summed, as the models assume at most one purchase per period. The first purchase
    is not repeat: frequency counts the later periods, monetary_value is their mean.
    """
    ids = np.asarray(customer_ids)
    t = np.floor(np.asarray(times, dtype=float))
    amount = np.asarray(amounts, dtype=float)
    end = float(np.max(t)) if observation_end is None else float(observation_end)
    order = np.lexsort((t, ids))
    ids, t, amount = ids[order], t[order], amount[order]
    # collapse same customer & period
    key_change = np.ones(len(ids), dtype=bool)
    key_change[1:] = (ids[1:] != ids[:-1]) | (t[1:] != t[:-1])
    group = np.cumsum(key_change) - 1
    period_ids, period_t = ids[key_change], t[key_change]
    period_amount = np.bincount(group, weights=amount)
    customers, first_index, counts = np.unique(period_ids, return_index=True, return_counts=True)
    first_t = period_t[first_index]
    last_t = period_t[first_index + counts - 1]
    totals = np.add.reduceat(period_amount, first_index)
    first_amount = period_amount[first_index]
    frequency = counts - 1
    monetary = np.where(frequency > 0, (totals - first_amount) / np.maximum(frequency, 1), 0.0)
    return {
        "customer_id": customers,
        "frequency": frequency.astype(float),
        "recency": last_t - first_t,
        "T": end - first_t,
        "monetary_value": monetary,
    }
