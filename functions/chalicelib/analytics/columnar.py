"""Segments, RFM and lifecycle over many profiles at once, as numpy columns.

The same semantics as the per-profile evaluator in chalicelib.domain.segments and
chalicelib.domain.scoring (tests compare them), for batch jobs: nightly RFM rescoring,
segment sizes, exports, and the segment benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from chalicelib.domain import scoring, segments

DAY_SECONDS = 86400.0
GROUP_TABLE = np.array(
    [
        [[segments.RFM_GROUPS.index(scoring.rfm_group(r, f, m)) for m in range(1, 6)] for f in range(1, 6)]
        for r in range(1, 6)
    ],
    dtype=np.int8,
)  # [r-1, f-1, m-1] -> index into RFM_GROUPS


@dataclass
class SetColumn:
    """A set of strings per profile, CSR style: profile i owns values[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray
    codes: np.ndarray  # int codes into `vocabulary`
    vocabulary: dict[str, int]
    _owner: np.ndarray | None = None

    def owner(self) -> np.ndarray:
        if self._owner is None:
            self._owner = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        return self._owner

    def contains_any(self, values: tuple[str, ...], n: int) -> np.ndarray:
        wanted = [self.vocabulary[v] for v in values if v in self.vocabulary]
        mask = np.zeros(n, dtype=bool)
        if wanted:
            mask[self.owner()[np.isin(self.codes, wanted)]] = True
        return mask


@dataclass
class Columns:
    """Profiles as columns. Missing numbers are NaN; times are epoch seconds (NaN = none)."""

    n: int
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    bools: dict[str, np.ndarray] = field(default_factory=dict)
    texts: dict[str, tuple[np.ndarray, tuple[str, ...]]] = field(default_factory=dict)  # codes, labels
    times: dict[str, np.ndarray] = field(default_factory=dict)  # last_order_at, first_order_at, created_at
    sets: dict[str, SetColumn] = field(default_factory=dict)  # products, categories, sources, channels


Mask = Callable[[Columns, float], np.ndarray]
_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "=": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
_SET_OF = {
    "bought_product": "products",
    "bought_category": "categories",
    "bought_from_source": "sources",
    "used_channel": "channels",
}


def compile_condition(condition: segments.Condition) -> Mask:
    """A function of (columns, now as epoch seconds) -> boolean mask."""
    if isinstance(condition, segments.Compare):
        return _compile_compare(condition)
    if isinstance(condition, segments.Call):
        column, args = _SET_OF[condition.function], condition.args
        return lambda cols, now: cols.sets[column].contains_any(args, cols.n)
    if isinstance(condition, segments.Not):
        inner = compile_condition(condition.item)
        return lambda cols, now: ~inner(cols, now)
    parts = [compile_condition(item) for item in condition.items]
    if isinstance(condition, segments.And):

        def all_of(cols: Columns, now: float) -> np.ndarray:
            mask = parts[0](cols, now)
            for part in parts[1:]:
                mask = mask & part(cols, now)
            return mask

        return all_of

    def any_of(cols: Columns, now: float) -> np.ndarray:
        mask = parts[0](cols, now)
        for part in parts[1:]:
            mask = mask | part(cols, now)
        return mask

    return any_of


def _compile_compare(c: segments.Compare) -> Mask:
    spec = segments.FIELDS[c.field]
    name, op = c.field, _OPS[c.op]
    if spec.since is not None:
        since, bound = spec.since, float(c.value)

        def days(cols: Columns, now: float) -> np.ndarray:
            return np.asarray(op(np.floor((now - cols.times[since]) / DAY_SECONDS), bound))

        return days
    if spec.type is segments.FieldType.NUMBER:
        value = float(c.value)
        return lambda cols, now: np.asarray(op(cols.numbers[name], value))
    if spec.type is segments.FieldType.BOOL:
        flag = bool(c.value)
        return lambda cols, now: np.asarray(op(cols.bools[name], flag))

    def text(cols: Columns, now: float) -> np.ndarray:
        codes, labels = cols.texts[name]
        code = labels.index(str(c.value)) if c.value in labels else -1
        return np.asarray(op(codes, code))

    return text


@dataclass(frozen=True)
class BuiltIns:
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    group: np.ndarray  # codes into segments.RFM_GROUPS; -1 for customers without orders
    lifecycle: np.ndarray  # codes into segments.LIFECYCLE_STAGES


def rfm_edges(days_since_last: np.ndarray, orders: np.ndarray, monetary: np.ndarray) -> scoring.RfmEdges:
    buyers = orders > 0
    q = [20, 40, 60, 80]

    def edges(values: np.ndarray) -> tuple[float, float, float, float]:
        if not values.size:
            return (0.0, 0.0, 0.0, 0.0)
        p = np.percentile(values, q)
        return (float(p[0]), float(p[1]), float(p[2]), float(p[3]))

    return scoring.RfmEdges(edges(days_since_last[buyers]), edges(orders[buyers]), edges(monetary[buyers]))


def score_builtins(
    cols: Columns, edges: scoring.RfmEdges, store_rhythm_days: float | None, now: float
) -> BuiltIns:
    orders = cols.numbers["orders_count"]
    last = cols.times["last_order_at"]
    since_days = (now - last) / DAY_SECONDS
    whole_days = np.floor(since_days)
    rec = np.asarray(edges.recency_days)
    r = 5 - np.searchsorted(rec, whole_days, side="left").astype(np.int8)
    r = np.where(np.isnan(whole_days), 1, r).astype(np.int8)
    f = (1 + np.searchsorted(np.asarray(edges.frequency), orders, side="left")).astype(np.int8)
    m = (1 + np.searchsorted(np.asarray(edges.monetary), cols.numbers["net_spent"], side="left")).astype(
        np.int8
    )
    buyers = orders > 0
    group = np.where(buyers, GROUP_TABLE[r - 1, f - 1, m - 1], -1).astype(np.int8)

    store = store_rhythm_days or scoring.DEFAULT_RHYTHM_DAYS
    own = cols.numbers["average_days_between_orders"]
    rhythm = np.where((orders >= 2) & ~np.isnan(own) & (own > 0), own, store)
    stages = segments.LIFECYCLE_STAGES
    stage = np.full(cols.n, stages.index("churned"), dtype=np.int8)
    for name, k in reversed(scoring.LIFECYCLE_BOUNDS):
        stage = np.where(since_days <= k * rhythm, stages.index(name), stage)
    stage = np.where((orders == 1) & (since_days <= 2 * store), stages.index("new"), stage)
    stage = np.where(buyers, stage, stages.index("prospect")).astype(np.int8)
    return BuiltIns(r, f, m, group, stage)


def with_builtins(cols: Columns, scores: BuiltIns) -> Columns:
    """Columns the segment language can read for rfm_group, r/f/m_score and lifecycle."""
    cols.numbers.update(
        r_score=scores.r.astype(float), f_score=scores.f.astype(float), m_score=scores.m.astype(float)
    )
    cols.texts["rfm_group"] = (scores.group, segments.RFM_GROUPS)
    cols.texts["lifecycle"] = (scores.lifecycle, segments.LIFECYCLE_STAGES)
    return cols


def decimal_column(values: list[Decimal | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
