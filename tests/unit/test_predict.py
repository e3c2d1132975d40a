"""Per-customer predictions in plain Python: the same numbers as the vectorized models,
from a stored profile, and model-score segments that know the day they flip."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

from chalicelib.adapters.profile_items import profile_of
from chalicelib.analytics import btyd
from chalicelib.domain import predict, profile_facts, segment_eval, segments, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.membership import check_still_good
from chalicelib.domain.segment_values import MembershipRecord

NOW = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
DAY = 86400


@pytest.fixture(scope="module")
def cdnow_params() -> tuple[predict.ModelParams, dict[str, np.ndarray]]:
    frame = load_cdnow_summary_data_with_monetary_value()
    data = {c: frame[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value")}
    params = btyd.fit_workspace(
        data["frequency"], data["recency"], data["T"], data["monetary_value"], "2026-11-22T00:00:00Z"
    )
    return params, data


def test_the_workspace_fit_reproduces_the_published_estimates(cdnow_params):
    params, _ = cdnow_params
    assert params.method == "bgnbd+gamma_gamma" and params.customers == 2357
    assert params.r == pytest.approx(0.243, rel=0.01) and params.alpha == pytest.approx(4.414, rel=0.01)
    assert params.p == pytest.approx(6.25, rel=0.01) and params.v == pytest.approx(15.44, rel=0.01)
    # and it survives the round trip through the workspace item
    assert predict.ModelParams.from_dict(params.as_dict()) == params


def test_scalar_scores_equal_the_vectorized_ones(cdnow_params):
    # Given the CDNOW fit and every 50th customer
    params, data = cdnow_params
    bg = btyd.BgNbd(params.r, params.alpha, params.a, params.b)
    gg = btyd.GammaGamma(params.p, params.q, params.v)
    rows = range(0, 2357, 50)
    x, tx, T, m = (data[k][rows] for k in ("frequency", "recency", "T", "monetary_value"))
    # When both implementations score them
    expected_alive = btyd.p_alive(bg, x, tx, T)
    expected_39 = btyd.expected_purchases(bg, 39.0, x, tx, T)
    expected_value = btyd.expected_average_value(gg, x, m)
    for i in range(len(x)):
        s = predict.Summary(int(x[i]), float(tx[i]), float(T[i]), float(m[i]))
        # Then they agree (the series for 2F1 against scipy's)
        assert predict.p_alive(params, s) == pytest.approx(expected_alive[i], rel=1e-9)
        assert predict.expected_purchases(params, s, 39.0) == pytest.approx(expected_39[i], rel=1e-7)
        assert predict.expected_value(params, s) == pytest.approx(expected_value[i], rel=1e-9)


def test_heuristic_scalar_scores_equal_the_vectorized_heuristic():
    x = np.array([0.0, 1.0, 3.0, 2.0, 0.0])
    tx = np.array([0.0, 30.0, 90.0, 20.0, 0.0])
    T = np.array([10.0, 200.0, 100.0, 300.0, 50.0])
    m = np.array([0.0, 40.0, 25.0, 60.0, 0.0])
    params = btyd.fit_workspace(x, tx, T, m, "2026-11-22T00:00:00Z")
    assert params.method == "heuristic" and "at least 100" in params.reason
    vector = btyd.heuristic(x, tx, T, m, 90.0)
    for i in range(len(x)):
        s = predict.Summary(int(x[i]), int(tx[i]), int(T[i]), float(m[i]))
        assert predict.p_alive(params, s) == pytest.approx(vector.p_alive[i])
        assert predict.expected_purchases(params, s, 90.0) == pytest.approx(vector.expected_purchases[i])
        assert predict.expected_value(params, s) == pytest.approx(vector.expected_avg_value[i])


def profile_with_orders(*orders: tuple[int, str, bool]) -> dict:
    """A stored profile item whose orders are (days ago, amount, cancelled)."""
    entries = {}
    for n, (days_ago, amount, cancelled) in enumerate(orders):
        entry = {"v": 1, "t": int((NOW - timedelta(days=days_ago)).timestamp()), "a": Decimal(amount)}
        if cancelled:
            entry["x"] = True
        entries[f"src_a.{n}"] = entry
    return {"cid": "c_1", "n": len(orders), "o": entries}


def typed(item: dict[str, Any]) -> CustomerProfile:
    return profile_of({"ws": "ws_1", **item})


def test_a_profile_summary_counts_order_days_net_of_cancellations():
    # Given orders 100 days ago, twice 40 days ago (one day), 10 days ago cancelled
    item = profile_with_orders((100, "50", False), (40, "20", False), (40, "15", False), (10, "99", True))
    item["o"]["src_a.1"]["r"] = Decimal("5")  # 5 refunded on one of them
    # When it is summarized
    s = predict.summary(typed(item), NOW)
    # Then one repeat day, 60 days apart, 100 days of age, worth 30 net
    assert s == predict.Summary(x=1, tx=60, T=100, m=30.0)
    assert predict.summary(typed({"cid": "c_1", "o": {}}), NOW) is None


def test_scores_fall_while_no_order_comes(cdnow_params):
    params, _ = cdnow_params
    s = predict.Summary(x=4, tx=20, T=30, m=40.0)
    today = predict.values(params, s)
    later = predict.values(params, s, days_ahead=60)
    assert all(later[k] <= today[k] for k in predict.MODEL_FIELDS)
    assert later["p_alive"] < today["p_alive"]


def facts_for(params: predict.ModelParams, item: dict, at: datetime = NOW) -> segment_eval.Facts:
    s = predict.summary(typed(item), at)
    assert s is not None
    return profile_facts.profile_facts(
        typed(item), model=predict.values(params, s), projection=lambda days: predict.values(params, s, days)
    )


def test_a_model_score_segment_knows_the_day_it_flips(cdnow_params):
    # Given a weekly-ish buyer (in CDNOW's weeks, read as days) who has just ordered
    params, _ = cdnow_params
    item = profile_with_orders(*[(d, "30", False) for d in (60, 50, 40, 30, 20, 10, 1)])
    facts = facts_for(params, item)
    tree = segments.parse("p_alive < 0.3")
    # When the segment is evaluated today
    verdict = segment_eval.evaluate(tree, facts, NOW)
    # Then the customer is not in it yet, and the next check is the first day p_alive < 0.3
    assert verdict.member is False and verdict.next_check is not None
    days = (verdict.next_check - NOW.replace(hour=0, minute=0, second=0, microsecond=0)).days
    s = predict.summary(typed(item), NOW)
    assert predict.values(params, s, days)["p_alive"] < Decimal("0.3")
    assert predict.values(params, s, days - 1)["p_alive"] >= Decimal("0.3")
    # And on that day, with no new order, the customer is in it (but not the day before)
    later = verdict.next_check + timedelta(hours=1)
    assert segment_eval.evaluate(tree, facts_for(params, item, later), later).member is True
    before = verdict.next_check - timedelta(hours=1)
    assert segment_eval.evaluate(tree, facts_for(params, item, before), before).member is False


def test_without_a_model_a_score_condition_matches_nothing_and_never_rechecks():
    item = profile_with_orders((10, "30", False))
    facts = profile_facts.profile_facts(typed(item))
    verdict = segment_eval.evaluate(segments.parse("p_alive < 0.3"), facts, NOW)
    assert verdict == segment_eval.Verdict(False, None)


@pytest.mark.parametrize(
    ("stored", "new", "keep"),
    [
        (None, None, False),  # no record yet: write
        ("2026-11-30", "2026-11-30", True),  # same: nothing to write
        ("2026-11-30", "2026-12-30", True),  # stored is earlier and still ahead: an early recheck is fine
        ("2026-11-30", "2026-11-25", False),  # new is earlier: the stored one would miss the flip
        ("2026-11-20", "2026-12-30", False),  # stored is due: move it
        ("2026-11-30", None, True),  # nothing time-based any more: the early recheck clears it
    ],
)
def test_the_membership_record_is_rewritten_only_when_its_recheck_would_come_late(stored, new, keep):
    def at(day: str | None) -> datetime | None:
        return None if day is None else datetime.fromisoformat(day).replace(tzinfo=UTC)

    stamp = at(stored)
    record = (
        None if stored is None and new is None else MembershipRecord(frozenset(), timemath.iso(stamp), None)
    )
    assert check_still_good(record, at(new), NOW) is keep


def test_model_params_compare_to_four_significant_digits(cdnow_params):
    params, _ = cdnow_params
    nudged = predict.ModelParams(**(asdict(params) | {"r": params.r * (1 + 1e-6)}))
    moved = predict.ModelParams(**(asdict(params) | {"r": params.r * 1.01}))
    assert params.same_as(nudged) and not params.same_as(moved) and not params.same_as(None)
