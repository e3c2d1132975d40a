"""`points_expiring_within(days)` in segments and the profile's `expiring_within_30` /
`next_expiry_on` (docs/loyalty.md#everywhere-else): from the balance the loyalty facts
already read, by the workspace's expiry policy; rechecked on the day an expiry enters the
window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import segment_eval, segments
from chalicelib.domain.loyalty.model import day_start
from chalicelib.domain.segment_eval import Facts, LoyaltyFacts, evaluate, with_loyalty
from chalicelib.domain.segments import SegmentSyntaxError, parse
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.points_orders import CID, WS, on
from tests.unit.test_loyalty_summary import RULES, Rig

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LOT_DAY = date(2026, 12, 3)  # the test order's lot (paid 2026-11-02, a 30-day window)
CONDITION = "points_expiring_within(30) >= 100"


def facts(balance: int, *expiring: tuple[date, int]) -> Facts:
    return with_loyalty(Facts(values={}), LoyaltyFacts(balance=balance, expiring=tuple(expiring)))


def expiry(policy: str, days: int = 60) -> LoyaltyRules:
    return replace(on(), expiry=policy, expiry_days=days)


def test_the_function_parses_compared_and_round_trips():
    # Given the function compared, alone and inside a larger definition
    tree = parse(f"{CONDITION} AND tier = 'gold'")
    # Then it reads back as written, uses loyalty and can change by time alone
    assert segments.to_text(tree) == f"{CONDITION} AND tier = 'gold'"
    assert parse(segments.to_text(tree)) == tree
    assert segment_eval.uses_loyalty(parse(CONDITION)) and segments.is_time_based(parse(CONDITION))
    assert "points_expiring_within" in segments.FUNCTIONS


@pytest.mark.parametrize(
    "bad",
    [
        "points_expiring_within(30)",  # not compared
        "points_expiring_within('soon') > 1",  # not whole days
        "points_expiring_within(1, 2) > 1",  # one argument
        "points_expiring_within(30) >= 'many'",  # a number to compare with
    ],
)
def test_a_malformed_call_is_refused(bad: str):
    # Given a malformed use of the function
    # When it is parsed
    # Then it is refused as a syntax error (a 400)
    with pytest.raises(SegmentSyntaxError):
        parse(bad)


def test_points_enter_the_window_by_time_alone_and_are_rechecked_that_day():
    # Given 150 available points expiring in 40 days
    jane = facts(150, (NOW.date() + timedelta(days=40), 150))
    # When the condition is evaluated today, and on the day the expiry enters the 30 days
    today = evaluate(parse(CONDITION), jane, NOW)
    entered = day_start(NOW.date() + timedelta(days=10))
    later = evaluate(parse(CONDITION), jane, entered)
    # Then she is out today with a recheck on that day, and in from it
    assert (today.member, today.next_check) == (False, entered)
    assert later.member is True


@settings(max_examples=60, deadline=None)
@given(
    lots=st.lists(st.tuples(st.integers(0, 90), st.integers(1, 200)), max_size=6),
    balance=st.integers(0, 600),
    days=st.integers(0, 60),
)
def test_the_value_is_the_points_expiring_in_the_window_never_more_than_the_balance(lots, balance, days):
    # Given any expiring points (in any order) and an available balance
    jane = facts(balance, *[(NOW.date() + timedelta(days=d), n) for d, n in lots])
    expected = min(balance, sum(n for d, n in lots if d <= days))
    # When `points_expiring_within(days) = expected` is evaluated
    verdict = evaluate(parse(f"points_expiring_within({days}) = {expected}"), jane, NOW)
    # Then it holds: the sum of the window's points, capped at the balance
    assert verdict.member is True


@pytest.mark.parametrize(
    ("policy", "day", "within_30", "next_on"),
    [
        ("none", LOT_DAY, 0, None),
        ("lots", LOT_DAY, 0, "2027-02-01"),  # the lot expires 60 days after its day
        ("lots", date(2027, 1, 10), 250, "2027-02-01"),
        ("inactivity", LOT_DAY, 250, "2027-01-01"),  # the last activity (2026-11-02) + 60
    ],
)
def test_the_profile_and_the_segment_read_the_policy(policy: str, day: date, within_30: int, next_on):
    # Given an order of 250 points, available from LOT_DAY, in a workspace of `policy`
    rig = Rig(tiers=replace(RULES, tiers=()), loyalty=expiry(policy))
    rig.order_paid("250.00")
    # When the profile's summary and the segment facts are read on `day`
    summary = rig.summaries.summary(WS, CID, day)
    loyalty = rig.summaries.loyalty_facts(WS, CID, day_start(day))
    verdict = evaluate(parse(CONDITION), with_loyalty(Facts(values={}), loyalty), day_start(day))
    # Then both show the points expiring within 30 days by the policy, and the next expiry
    assert summary is not None
    assert (summary.points.expiring_within_30, summary.points.next_expiry_on) == (within_30, next_on)
    assert verdict.member is (within_30 >= 100)
    # And under lots, a customer out of the segment is rechecked when the lot enters the window
    if policy == "lots" and within_30 == 0:
        assert verdict.next_check == day_start(date(2027, 2, 1) - timedelta(days=30))
