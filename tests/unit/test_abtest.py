"""The A/B decision rule: a winner only with a minimum sample and a significant lead; a tie,
too little sample or no data is said so, never the first variant by default."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from chalicelib.adapters.campaigns import decision_from_item, decision_to_item
from chalicelib.domain.messaging.abtest import (
    ALPHA,
    MIN_SAMPLE,
    Sample,
    decide,
    shown,
    two_proportion_p,
)


def test_a_clear_winner_with_enough_sample_wins_with_its_p_value():
    # Given 1000 messages per variant, 30 clicks on a and 70 on b
    samples = {"a": Sample(sent=1000, clicked=30), "b": Sample(sent=1000, clicked=70)}
    # When the rule decides
    decision = decide("clicks", samples)
    # Then b wins, significantly
    assert (decision.outcome, decision.winner, decision.reason) == ("winner", "b", None)
    assert decision.p_value is not None and decision.p_value < ALPHA
    assert decision.samples == {"a": {"sent": 1000, "clicked": 30}, "b": {"sent": 1000, "clicked": 70}}
    assert "two-sided" in decision.rule and "100 sent per variant" in decision.rule


def test_two_equal_variants_are_a_tie_not_the_first_variant():
    # Given two variants with the same click rate on plenty of sample
    samples = {"a": Sample(sent=500, clicked=40), "b": Sample(sent=500, clicked=40)}
    # When the rule decides
    decision = decide("clicks", samples)
    # Then there is no winner, and it says why
    assert (decision.outcome, decision.winner, decision.reason) == ("no_winner", None, "tie")
    assert decision.p_value == 1.0


def test_a_small_lead_that_is_not_significant_is_a_tie():
    # Given b ahead, but within chance (p about 0.4)
    samples = {"a": Sample(sent=300, clicked=30), "b": Sample(sent=300, clicked=36)}
    # When the rule decides
    decision = decide("clicks", samples)
    # Then b leads, and does not win
    assert decision.reason == "tie" and decision.leader == "b" and decision.winner is None
    assert decision.p_value is not None and decision.p_value > ALPHA


def test_below_the_minimum_sample_there_is_no_decision():
    # Given a huge lead, but one variant short of the minimum sample
    samples = {"a": Sample(sent=MIN_SAMPLE - 1, clicked=0), "b": Sample(sent=MIN_SAMPLE, clicked=60)}
    # When the rule decides
    decision = decide("clicks", samples)
    # Then it is not decided: insufficient sample
    assert (decision.outcome, decision.winner, decision.reason) == ("no_winner", None, "insufficient_sample")
    # And a campaign's own, lower minimum lets the same figures decide
    assert decide("clicks", samples, min_sample=50).winner == "b"


@pytest.mark.parametrize(
    "samples",
    [
        {"a": Sample(sent=0), "b": Sample(sent=0)},  # nothing sent
        {"a": Sample(sent=500), "b": Sample(sent=500)},  # sent, nothing measured
        {},
    ],
)
def test_no_sends_or_nothing_measured_is_no_data(samples):
    # When the rule decides on nothing
    decision = decide("clicks", samples)
    # Then it says there is no data
    assert (decision.outcome, decision.winner, decision.reason) == ("no_winner", None, "no_data")


def test_revenue_needs_significantly_more_orders_not_one_big_order():
    # Given a leads on revenue per message through one big order, b has more orders
    one_big = {
        "a": Sample(sent=1000, orders=1, revenue=Decimal("5000")),
        "b": Sample(sent=1000, orders=20, revenue=Decimal("1000")),
    }
    # Then a leads and does not win: a tie
    decision = decide("revenue", one_big)
    assert decision.leader == "a" and decision.reason == "tie" and decision.winner is None
    assert decision.samples["a"] == {"sent": 1000, "orders": 1, "revenue": "5000"}
    # Given b leads on revenue with significantly more orders per message
    clear = {
        "a": Sample(sent=1000, orders=10, revenue=Decimal("500")),
        "b": Sample(sent=1000, orders=40, revenue=Decimal("2000")),
    }
    # Then b wins
    assert decide("revenue", clear).winner == "b"
    # And without an attributed order there is no data
    assert decide("revenue", {"a": Sample(sent=500), "b": Sample(sent=500)}).reason == "no_data"


def test_with_three_variants_the_leader_must_beat_each_other_bonferroni_corrected():
    # Given c well ahead of a, but not of b
    samples = {
        "a": Sample(sent=1000, clicked=30),
        "b": Sample(sent=1000, clicked=62),
        "c": Sample(sent=1000, clicked=70),
    }
    # Then it is a tie, and the p-value reported is c against b, times two comparisons
    decision = decide("clicks", samples)
    assert decision.reason == "tie" and decision.leader == "c"
    assert decision.p_value == pytest.approx(min(1.0, 2 * two_proportion_p(70, 1000, 62, 1000)))


def test_the_z_test_matches_the_normal_distribution():
    # Given 60/1000 against 40/1000: z = 0.02 / sqrt(0.05 * 0.95 * 0.002) = 2.0520
    p = two_proportion_p(60, 1000, 40, 1000)
    # Then the two-sided p-value is 2 * (1 - Phi(2.0520)) = 0.04016
    z = 0.02 / math.sqrt(0.05 * 0.95 * 0.002)
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert p == pytest.approx(0.04016, abs=1e-4)


def test_a_decision_survives_its_storage():
    # Given a decision, stored as the campaign item holds it (no floats), then read back
    decision = decide("clicks", {"a": Sample(sent=1000, clicked=30), "b": Sample(sent=1000, clicked=70)})
    item = decision_to_item(decision)
    assert not any(isinstance(v, float) for v in item.values())
    view = shown(decision_from_item(item))
    # Then the view carries the outcome, rule, p-value and samples
    assert view is not None and view["outcome"] == "winner" and view["winner"] == "b"
    assert view["p_value"] == pytest.approx(decision.p_value, rel=1e-5)
    assert view["samples"]["b"] == {"sent": 1000, "clicked": 70} and view["rule"] == decision.rule
    assert shown(None) is None
