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
from patron.synthetic.histories import TRUE, simulate


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
