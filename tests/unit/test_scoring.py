"""RFM quintiles and groups, lifecycle stages from each customer's own rhythm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain import profile_facts, scoring, segment_eval, segments

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_quintile_edges_match_numpy_percentiles():
    values = [float(v) for v in np.random.default_rng(3).gamma(2.0, 40.0, 999)]
    expected = np.percentile(values, [20, 40, 60, 80])
    assert scoring.quintile_edges(values) == pytest.approx(tuple(expected))


def test_scores_keep_ties_together_and_reward_the_right_direction():
    edges = (1.0, 1.0, 2.0, 4.0)  # most customers ordered once
    assert [scoring.score_higher_better(v, edges) for v in (1, 2, 3, 9)] == [1, 3, 4, 5]
    recency = (10.0, 30.0, 90.0, 200.0)
    assert [scoring.score_lower_better(d, recency) for d in (3, 10, 45, 365)] == [5, 5, 3, 1]


@pytest.mark.parametrize(
    ("r", "f", "m", "group"),
    [
        (5, 5, 5, "champions"),
        (1, 5, 4, "cant_lose"),
        (2, 3, 3, "at_risk"),
        (3, 4, 3, "loyal"),
        (5, 1, 1, "new"),
        (4, 1, 1, "promising"),
        (5, 2, 2, "potential_loyalist"),
        (3, 1, 2, "need_attention"),
        (2, 2, 1, "about_to_sleep"),
        (1, 2, 2, "hibernating"),
        (1, 1, 1, "lost"),
    ],
)
def test_named_rfm_groups(r, f, m, group):
    assert scoring.rfm_group(r, f, m) == group


def test_every_score_combination_has_a_group_from_the_language():
    groups = {scoring.rfm_group(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert groups == set(segments.RFM_GROUPS)


def test_recency_score_change_time_is_the_next_edge():
    edges = scoring.RfmEdges((10.0, 30.0, 90.0, 200.0), (1, 1, 2, 4), (20, 50, 90, 200))
    last = NOW - timedelta(days=12)
    assert scoring.rfm(12, 3, 100, edges).r == 4
    assert scoring.rfm_next_change(last, edges, NOW) == last + timedelta(days=31)


@pytest.mark.parametrize(
    ("orders", "days_ago", "own", "stage"),
    [
        (0, None, None, "prospect"),
        (1, 20, None, "new"),
        (1, 150, None, "at_risk"),
        (4, 10, 14.0, "active"),
        (4, 30, 14.0, "at_risk"),
        (4, 70, 14.0, "lapsed"),
        (4, 120, 14.0, "churned"),
        (3, 120, 100.0, "active"),
    ],
)
def test_lifecycle_uses_the_customers_own_rhythm(orders, days_ago, own, stage):
    last = None if days_ago is None else NOW - timedelta(days=days_ago)
    assert scoring.lifecycle(orders, last, own, store_rhythm_days=60.0, now=NOW).stage == stage


def test_lifecycle_says_when_the_stage_next_changes():
    last = NOW - timedelta(days=10)
    stage = scoring.lifecycle(4, last, 14.0, 60.0, NOW)
    assert stage.stage == "active"
    assert stage.next_change is not None and stage.next_change - last == timedelta(days=21, microseconds=1)
    assert scoring.lifecycle(4, last, 14.0, 60.0, stage.next_change).stage == "at_risk"


def test_store_rhythm_is_the_median_of_repeat_buyers():
    assert scoring.store_rhythm([10, 30, 20, 0]) == 20
    assert scoring.store_rhythm([]) is None


def test_profile_facts_feed_the_segment_language():
    item = {
        "cid": "c_1",
        "n": 2,
        "spent": Decimal("80"),
        "refd": 0,
        "net": Decimal("80"),
        "m": True,
        "ce": {"s": "subscribed"},
        "last": "2026-11-01T00:00:00.000000Z",
        "first": "2026-09-01T00:00:00.000000Z",
        "ca": "2026-09-01T00:00:00.000000Z",
        "o": {
            "src_a.1": {"v": 1, "t": 1, "a": 30, "p": ["sku-1"], "k": ["books"]},
            "src_b.2": {"v": 1, "t": 2, "a": 50, "ch": "pos", "p": ["sku-2"]},
            "src_b.3": {"v": 2, "t": 3, "x": True, "p": ["sku-9"]},
        },
    }
    profile = profile_of({"ws": "ws_1", **item})
    facts = profile_facts.profile_facts(profile, scoring.Rfm(5, 3, 3, "loyal"), scoring.Stage("active", None))
    check = lambda text: segment_eval.evaluate(segments.parse(text), facts, NOW).member  # noqa: E731
    assert check("is_member = true AND email_consent = 'subscribed' AND rfm_group = 'loyal'")
    assert check("bought_product('sku-2') AND NOT bought_product('sku-9') AND used_channel('pos')")
    assert check("bought_from_source('src_a') AND last_order_days = 21 AND lifecycle = 'active'")
