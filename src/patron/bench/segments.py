"""`patron bench segments --profiles N --json`.

N synthetic profiles are scored in chunks: RFM (workspace quintiles), lifecycle,
member vs guest, every RFM group and lifecycle stage as built-in segments, and 20
custom segments from the segment language. The same RFM scoring and the same 20
segments are then written plainly in pandas and timed in the same run. BG/NBD is
fitted on N customers drawn from a BG/NBD process, by Patron and by lifetimes.

Memory: profiles are generated and evaluated one chunk at a time (CHUNK profiles).
Only the three RFM inputs of every profile (24 bytes each) are kept for the exact
quintile edges; above EXACT_EDGES_LIMIT profiles the edges come from a uniform
sample of that size.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np
import pandas as pd

from chalicelib.analytics import columnar
from chalicelib.domain import scoring, segments
from patron.synthetic.columns import NOW, generate

CHUNK = 250_000
EXACT_EDGES_LIMIT = 10_000_000

CUSTOM = [
    "orders_count >= 3 AND last_order_days <= 90 AND rfm_group = 'champions'",
    "is_member = false AND total_spent > 500",
    "bought_category('books') AND NOT bought_product('sku-123')",
    "lifecycle = 'at_risk' AND total_spent > 200",
    "lifecycle = 'lapsed' OR lifecycle = 'churned'",
    "email_consent = 'subscribed' AND last_order_days > 30 AND last_order_days <= 120",
    "orders_count = 1 AND first_order_days <= 30",
    "average_order_value >= 80 AND orders_count >= 2",
    "bought_product('sku-1', 'sku-2', 'sku-3')",
    "used_channel('pos') AND NOT used_channel('web')",
    "bought_from_source('src_woo') AND is_member = true",
    "r_score >= 4 AND f_score <= 2",
    "m_score = 5 AND NOT rfm_group = 'champions'",
    "total_refunded > 0 AND net_spent < 50",
    "sms_consent = 'subscribed' AND orders_count >= 2",
    "customer_days > 365 AND orders_count <= 1",
    "(rfm_group = 'at_risk' OR rfm_group = 'cant_lose') AND email_consent = 'subscribed'",
    "bought_category('tea', 'coffee') AND last_order_days <= 60",
    "average_days_between_orders < 30 AND lifecycle = 'active'",
    "NOT bought_category('books') AND orders_count >= 4",
]


def _ours(cols: columnar.Columns, edges: scoring.RfmEdges, compiled: list[columnar.Mask]) -> int:
    built = columnar.score_builtins(cols, edges, 45.0, NOW)
    columnar.with_builtins(cols, built)
    members = 0
    for code in range(len(segments.RFM_GROUPS)):
        members += int(np.count_nonzero(built.group == code))
    for code in range(len(segments.LIFECYCLE_STAGES)):
        members += int(np.count_nonzero(built.lifecycle == code))
    members += int(np.count_nonzero(cols.bools["is_member"]))
    for mask in compiled:
        members += int(np.count_nonzero(mask(cols, NOW)))
    return members


def to_frame(cols: columnar.Columns) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The same profiles as a pandas frame, and one long table per set column."""
    frame = pd.DataFrame({**cols.numbers, **cols.bools, **cols.times})
    for name, (codes, labels) in cols.texts.items():
        frame[name] = pd.Categorical.from_codes(codes, categories=list(labels))
    longs = {}
    for name, column in cols.sets.items():
        values = np.array(list(column.vocabulary))
        longs[name] = pd.DataFrame({"profile": column.owner(), "value": values[column.codes]})
    return frame, longs


def _pandas(df: pd.DataFrame, sets: dict[str, pd.DataFrame], edges: scoring.RfmEdges) -> int:
    """RFM, lifecycle and the 20 segments written plainly in pandas."""
    days_last = np.floor((NOW - df["last_order_at"]) / 86400)
    df["last_order_days"] = days_last
    df["first_order_days"] = np.floor((NOW - df["first_order_at"]) / 86400)
    df["customer_days"] = np.floor((NOW - df["created_at"]) / 86400)
    df["r_score"] = 5 - sum((days_last > e).astype(int) for e in edges.recency_days)
    df.loc[days_last.isna(), "r_score"] = 1
    df["f_score"] = 1 + sum((df["orders_count"] > e).astype(int) for e in edges.frequency)
    df["m_score"] = 1 + sum((df["net_spent"] > e).astype(int) for e in edges.monetary)
    fm = ((df["f_score"] + df["m_score"]) / 2 + 1e-9).round()
    r = df["r_score"]
    df["rfm_group"] = np.select(
        [
            (r >= 4) & (fm >= 4),
            (r <= 1) & (fm >= 4),
            (r <= 2) & (fm >= 3),
            (r >= 3) & (fm >= 3),
            (r == 5) & (fm <= 1),
            (r == 4) & (fm <= 1),
            r >= 4,
            r == 3,
            r == 2,
            fm <= 1,
        ],
        [
            "champions",
            "cant_lose",
            "at_risk",
            "loyal",
            "new",
            "promising",
            "potential_loyalist",
            "need_attention",
            "about_to_sleep",
            "lost",
        ],
        default="hibernating",
    )
    df.loc[df["orders_count"] == 0, "rfm_group"] = None
    own = df["average_days_between_orders"]
    rhythm = own.where((df["orders_count"] >= 2) & (own > 0), 45.0)
    since = (NOW - df["last_order_at"]) / 86400
    df["lifecycle"] = np.select(
        [
            df["orders_count"] == 0,
            (df["orders_count"] == 1) & (since <= 90),
            since <= 1.5 * rhythm,
            since <= 3 * rhythm,
            since <= 6 * rhythm,
        ],
        ["prospect", "new", "active", "at_risk", "lapsed"],
        default="churned",
    )

    def has(column: str, *values: str) -> pd.Series:
        long = sets[column]
        owners = long.loc[long["value"].isin(values), "profile"].unique()
        return pd.Series(df.index.isin(owners), index=df.index)

    d = df
    masks = [
        (d.orders_count >= 3) & (d.last_order_days <= 90) & (d.rfm_group == "champions"),
        (~d.is_member) & (d.total_spent > 500),
        has("categories", "books") & ~has("products", "sku-123"),
        (d.lifecycle == "at_risk") & (d.total_spent > 200),
        (d.lifecycle == "lapsed") | (d.lifecycle == "churned"),
        (d.email_consent == "subscribed") & (d.last_order_days > 30) & (d.last_order_days <= 120),
        (d.orders_count == 1) & (d.first_order_days <= 30),
        (d.average_order_value >= 80) & (d.orders_count >= 2),
        has("products", "sku-1", "sku-2", "sku-3"),
        has("channels", "pos") & ~has("channels", "web"),
        has("sources", "src_woo") & d.is_member,
        (d.r_score >= 4) & (d.f_score <= 2),
        (d.m_score == 5) & ~(d.rfm_group == "champions"),
        (d.total_refunded > 0) & (d.net_spent < 50),
        (d.sms_consent == "subscribed") & (d.orders_count >= 2),
        (d.customer_days > 365) & (d.orders_count <= 1),
        ((d.rfm_group == "at_risk") | (d.rfm_group == "cant_lose")) & (d.email_consent == "subscribed"),
        has("categories", "tea", "coffee") & (d.last_order_days <= 60),
        (d.average_days_between_orders < 30) & (d.lifecycle == "active"),
        ~has("categories", "books") & (d.orders_count >= 4),
    ]
    members = int(d.rfm_group.notna().sum()) + len(d) + int(d.is_member.sum())
    return members + sum(int(m.sum()) for m in masks)


def run(profiles: int = 1_000_000, seed: int = 9, model: bool = True) -> dict[str, Any]:
    compiled = [columnar.compile_condition(segments.parse(text)) for text in CUSTOM]
    chunks = [(start, min(CHUNK, profiles - start)) for start in range(0, profiles, CHUNK)]
    # pass 1: the workspace's quintile edges from the RFM inputs only
    recency, freq, money = [], [], []
    keep_share = min(1.0, EXACT_EDGES_LIMIT / profiles)  # above the limit: a uniform sample
    sampler = np.random.default_rng(seed)
    for i, (_, size) in enumerate(chunks):
        cols = generate(size, seed + i)
        keep = sampler.random(size) < keep_share if keep_share < 1 else slice(None)
        recency.append(np.floor((NOW - cols.times["last_order_at"][keep]) / columnar.DAY_SECONDS))
        freq.append(cols.numbers["orders_count"][keep])
        money.append(cols.numbers["net_spent"][keep])
    edges = columnar.rfm_edges(np.concatenate(recency), np.concatenate(freq), np.concatenate(money))
    del recency, freq, money
    ours_seconds = pandas_seconds = 0.0
    ours_total = pandas_total = 0
    for i, (_, size) in enumerate(chunks):
        cols = generate(size, seed + i)
        frame, longs = to_frame(cols)
        t0 = time.perf_counter()
        ours_total += _ours(cols, edges, compiled)
        ours_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        pandas_total += _pandas(frame, longs, edges)
        pandas_seconds += time.perf_counter() - t0
        del cols, frame, longs
    result: dict[str, Any] = {
        "benchmark": "segments",
        "profiles": profiles,
        "custom_segments": len(CUSTOM),
        "builtin_segments": len(segments.RFM_GROUPS) + len(segments.LIFECYCLE_STAGES) + 1,
        "profiles_per_second": round(profiles / ours_seconds),
        "pandas_profiles_per_second": round(profiles / pandas_seconds),
        "speed_vs_pandas": round(pandas_seconds / ours_seconds, 2),
        "memberships_ours": ours_total,
        "memberships_pandas": pandas_total,
        "rfm_edges": edges.as_dict(),
    }
    if model:
        from patron.bench import model as model_bench

        fit = model_bench.run(customers=profiles, seed=seed)
        result.update(
            bgnbd_fit_seconds=fit["bgnbd_fit_seconds"],
            lifetimes_fit_seconds=fit.get("lifetimes_fit_seconds"),
            lifetimes_weighted_fit_seconds=fit.get("lifetimes_weighted_fit_seconds"),
            lifetimes_speedup=fit.get("speedup"),
            lifetimes_weighted_speedup=fit.get("weighted_speedup"),
            bgnbd_estimates=fit["bgnbd_estimates"],
            lifetimes_estimates=fit.get("lifetimes_estimates"),
            bgnbd_max_relative_difference=fit.get("max_relative_difference"),
            bgnbd_weighted_max_relative_difference=fit.get("weighted_max_relative_difference"),
        )
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
