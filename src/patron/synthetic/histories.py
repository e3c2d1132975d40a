"""Purchase histories of a BG/NBD process, as (frequency, recency, T) in whole days, for
the model benchmarks and the fit's tests."""

from __future__ import annotations

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
