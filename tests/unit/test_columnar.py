"""The columnar (numpy) evaluation agrees with the per-profile evaluator, profile by profile."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from chalicelib.analytics import columnar
from chalicelib.domain import scoring, segment_eval, segments
from patron.bench import segments as bench

N = 3000


@pytest.fixture(scope="module")
def data():
    cols = bench.generate(N, seed=4)
    recency = np.floor((bench.NOW - cols.times["last_order_at"]) / columnar.DAY_SECONDS)
    edges = columnar.rfm_edges(recency, cols.numbers["orders_count"], cols.numbers["net_spent"])
    built = columnar.score_builtins(cols, edges, 45.0, bench.NOW)
    columnar.with_builtins(cols, built)
    return cols, edges, built


def scalar_facts(cols: columnar.Columns, i: int) -> segment_eval.Facts:
    def num(value: float) -> Decimal | None:
        return None if np.isnan(value) else Decimal(repr(float(value)))

    values: dict = {name: num(column[i]) for name, column in cols.numbers.items()}
    values.update({name: bool(column[i]) for name, column in cols.bools.items()})
    for name, (codes, labels) in cols.texts.items():
        values[name] = labels[codes[i]] if codes[i] >= 0 else None
    sets = {}
    for name, column in cols.sets.items():
        labels = list(column.vocabulary)
        sets[name] = frozenset(labels[c] for c in column.codes[column.indptr[i] : column.indptr[i + 1]])
    times = {
        name: None if np.isnan(col[i]) else datetime.fromtimestamp(col[i], UTC)
        for name, col in cols.times.items()
    }
    return segment_eval.Facts(values=values, times=times, **sets)


@pytest.mark.parametrize("text", bench.CUSTOM)
def test_every_benchmark_segment_agrees_with_the_scalar_evaluator(data, text):
    cols, _, _ = data
    tree = segments.parse(text)
    mask = columnar.compile_condition(tree)(cols, bench.NOW)
    now = datetime.fromtimestamp(bench.NOW, UTC)
    expected = np.array([segment_eval.evaluate(tree, scalar_facts(cols, i), now).member for i in range(N)])
    assert mask.sum() > 0 or expected.sum() == 0
    np.testing.assert_array_equal(mask, expected)


def test_vectorized_rfm_and_lifecycle_agree_with_the_scalar_scores(data):
    cols, edges, built = data
    now = datetime.fromtimestamp(bench.NOW, UTC)
    for i in range(N):
        orders = int(cols.numbers["orders_count"][i])
        last = cols.times["last_order_at"][i]
        last_at = None if np.isnan(last) else datetime.fromtimestamp(last, UTC)
        gap = cols.numbers["average_days_between_orders"][i]
        stage = scoring.lifecycle(orders, last_at, None if np.isnan(gap) else float(gap), 45.0, now)
        assert segments.LIFECYCLE_STAGES[built.lifecycle[i]] == stage.stage, i
        if orders == 0:
            assert built.group[i] == -1
            continue
        days = float(np.floor((bench.NOW - last) / columnar.DAY_SECONDS))
        expected = scoring.rfm(days, orders, float(cols.numbers["net_spent"][i]), edges)
        assert (built.r[i], built.f[i], built.m[i]) == (expected.r, expected.f, expected.m), i
        assert segments.RFM_GROUPS[built.group[i]] == expected.group


def test_benchmark_runs_and_pandas_counts_the_same_memberships():
    result = bench.run(profiles=20_000, seed=1, model=False)
    assert result["memberships_ours"] == result["memberships_pandas"] > 0
    assert result["profiles_per_second"] > 0 and result["pandas_profiles_per_second"] > 0
