"""Synthetic profiles as columns (`chalicelib.analytics.columnar`), drawn in bulk with
numpy, for the segments benchmark: a million profiles in seconds."""

from __future__ import annotations

import numpy as np

from chalicelib.analytics import columnar
from chalicelib.domain import segments

PRODUCTS = [f"sku-{i}" for i in range(400)]
CATEGORIES = ["books", "music", "games", "toys", "garden", "kitchen", "tea", "coffee", "art", "film"]
SOURCES = ["src_shop", "src_woo", "src_pos"]
CHANNELS = ["web", "pos", "app"]
NOW = 1_795_000_000.0  # a fixed "now" (2026-11-17), so runs compare


def generate(n: int, seed: int) -> columnar.Columns:
    rng = np.random.default_rng(seed)
    orders = np.minimum(rng.geometric(0.45, n) - 1 + (rng.random(n) < 0.9), 60).astype(float)
    aov = rng.gamma(3.0, 25.0, n)
    spent = np.round(orders * aov, 2)
    refunded = np.where(rng.random(n) < 0.1, np.round(spent * rng.random(n) * 0.5, 2), 0.0)
    created = NOW - rng.uniform(0, 3 * 365, n) * columnar.DAY_SECONDS
    first = np.where(
        orders > 0, np.minimum(created + rng.uniform(0, 30, n) * columnar.DAY_SECONDS, NOW), np.nan
    )
    last = np.where(
        orders > 0,
        np.minimum(first + rng.uniform(0, 700, n) * columnar.DAY_SECONDS * (orders > 1), NOW),
        np.nan,
    )
    gap = np.where(orders >= 2, (last - first) / columnar.DAY_SECONDS / np.maximum(orders - 1, 1), np.nan)
    consent_labels = segments.CONSENT_STATES
    cols = columnar.Columns(n=n)
    cols.numbers.update(
        orders_count=orders,
        total_spent=spent,
        total_refunded=refunded,
        net_spent=spent - refunded,
        average_order_value=np.where(orders > 0, spent / np.maximum(orders, 1), np.nan),
        average_days_between_orders=gap,
    )
    cols.bools["is_member"] = rng.random(n) < 0.6
    cols.texts["email_consent"] = (
        rng.choice([0, 1, 2], n, p=[0.55, 0.15, 0.30]).astype(np.int8),
        consent_labels,
    )
    cols.texts["sms_consent"] = (
        rng.choice([0, 1, 2], n, p=[0.25, 0.1, 0.65]).astype(np.int8),
        consent_labels,
    )
    cols.times.update(last_order_at=last, first_order_at=first, created_at=created)

    def set_column(vocab: list[str], per_order: float, cap: int) -> columnar.SetColumn:
        sizes = np.minimum(rng.poisson(orders * per_order), cap)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        codes = rng.integers(0, len(vocab), int(indptr[-1]))
        return columnar.SetColumn(indptr, codes, {v: i for i, v in enumerate(vocab)})

    cols.sets.update(
        products=set_column(PRODUCTS, 2.5, 40),
        categories=set_column(CATEGORIES, 1.2, 6),
        sources=set_column(SOURCES, 0.5, 3),
        channels=set_column(CHANNELS, 0.5, 3),
    )
    return cols
