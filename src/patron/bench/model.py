"""`patron bench model`: BG/NBD fitting speed and agreement against lifetimes.

N customers are drawn from a BG/NBD process over a two-year window, with times in
whole days as store data comes. The same summary is fitted by Patron's vectorized fit
and by lifetimes' BetaGeoFitter, in the same run, twice:

- `lifetimes_fit_seconds`: lifetimes given one row per customer, as its docs show;
- `lifetimes_weighted_fit_seconds`: lifetimes given what Patron fits, the distinct
  (frequency, recency, T) rows weighted by how many customers each stands for
  (`BetaGeoFitter.fit(..., weights=...)`), the compression's time included as it is in
  Patron's. This is the fair comparison: the same rows, the same likelihood.
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict
from typing import Any

import numpy as np

from chalicelib.analytics import btyd

TRUE = btyd.BgNbd(r=0.25, alpha=20.0, a=0.8, b=2.5)  # in days: about 4.5 purchases a year
WINDOW_DAYS = 730


def simulate(n: int, seed: int, params: btyd.BgNbd = TRUE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) in whole days for n customers of a BG/NBD process."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    first = rng.integers(0, WINDOW_DAYS, n)
    horizon = (WINDOW_DAYS - first).astype(float)
    t = np.zeros(n)
    last_day = np.zeros(n)
    frequency = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / rate[idx])
        inside = t[idx] <= horizon[idx]
        buyers = idx[inside]
        day = np.floor(t[buyers])
        new_day = day > last_day[buyers]  # a second purchase the same day is the same period
        frequency[buyers[new_day]] += 1
        last_day[buyers[new_day]] = day[new_day]
        gone = rng.random(len(buyers)) < dropout[buyers]  # dropout right after a purchase
        active[idx[~inside]] = False
        active[buyers[gone]] = False
    return frequency, last_day, np.floor(horizon)


def fit_lifetimes_weighted(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> tuple[btyd.BgNbd, float]:
    """lifetimes' BG/NBD fit of Patron's compressed summary, with its weights; and the
    seconds it took, compression included (Patron's fit time includes it too)."""
    from lifetimes import BetaGeoFitter

    t0 = time.perf_counter()
    ux, utx, uT, weights = btyd.compress_summary(x, tx, T)
    fitted = BetaGeoFitter().fit(ux, utx, uT, weights=weights)
    seconds = time.perf_counter() - t0
    return btyd.BgNbd(**{k: float(v) for k, v in fitted.params_.items()}), seconds


def relative_difference(mine: btyd.BgNbd, other: btyd.BgNbd) -> float:
    """The largest relative difference between two fits' parameters."""
    return max(abs(getattr(mine, k) / getattr(other, k) - 1) for k in asdict(mine))


def run(customers: int = 1_000_000, seed: int = 5, lifetimes: bool = True) -> dict[str, Any]:
    x, tx, T = simulate(customers, seed)
    t0 = time.perf_counter()
    mine = btyd.fit_bgnbd(x, tx, T)
    mine_seconds = time.perf_counter() - t0
    result: dict[str, Any] = {
        "benchmark": "model",
        "customers": customers,
        "repeat_buyers": int(np.sum(x > 0)),
        "distinct_rows": len(np.unique(np.column_stack([x, tx, T]), axis=0)),
        "true_params": asdict(TRUE),
        "bgnbd_fit_seconds": round(mine_seconds, 3),
        "bgnbd_estimates": {k: round(v, 5) for k, v in asdict(mine).items()},
    }
    if lifetimes:
        from lifetimes import BetaGeoFitter

        t0 = time.perf_counter()
        reference = BetaGeoFitter().fit(x, tx, T)
        lt_seconds = time.perf_counter() - t0
        ref = {k: float(v) for k, v in reference.params_.items()}
        result.update(
            lifetimes_fit_seconds=round(lt_seconds, 3),
            lifetimes_estimates={k: round(v, 5) for k, v in ref.items()},
            speedup=round(lt_seconds / mine_seconds, 1),
            max_relative_difference=round(max(abs(getattr(mine, k) / v - 1) for k, v in ref.items()), 6),
        )
        weighted, w_seconds = fit_lifetimes_weighted(x, tx, T)
        result.update(
            lifetimes_weighted_fit_seconds=round(w_seconds, 3),
            lifetimes_weighted_estimates={k: round(v, 5) for k, v in asdict(weighted).items()},
            weighted_speedup=round(w_seconds / mine_seconds, 1),
            weighted_max_relative_difference=round(relative_difference(mine, weighted), 6),
        )
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
