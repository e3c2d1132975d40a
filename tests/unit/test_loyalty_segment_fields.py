"""The segment language's loyalty fields: `points_balance`, `points_pending`, `tier`,
`tier_since_days`; their answer's next change by time (a pending lot's day, the days in a
tier); loyalty read only for a segment that uses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import segment_eval, segments
from chalicelib.domain.segment_eval import Facts, LoyaltyFacts, evaluate, with_loyalty
from chalicelib.domain.segments import SegmentSyntaxError, parse

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LOT_DAY = datetime(2026, 12, 21, tzinfo=UTC)


def facts(**loyalty) -> Facts:
    return with_loyalty(Facts(values={"orders_count": 1}), LoyaltyFacts(**loyalty))


def test_the_points_fields_flip_on_the_day_pending_points_become_available():
    # Given 40 points available and 122 pending until a lot's day
    jane = facts(balance=40, pending=122, points_changes=(LOT_DAY,))
    # When `points_balance >= 100` and `points_pending > 0` are evaluated
    rich = evaluate(parse("points_balance >= 100"), jane, NOW)
    waiting = evaluate(parse("points_pending > 0"), jane, NOW)
    # Then she is not rich yet but waiting, and both are rechecked on the lot's day
    assert (rich.member, rich.next_check) == (False, LOT_DAY)
    assert (waiting.member, waiting.next_check) == (True, LOT_DAY)


def test_tier_and_days_in_it():
    # Given a silver customer since 10 days, and one without a tier
    silver = facts(tier="silver", tier_since=NOW - timedelta(days=10, hours=1))
    none = facts()
    condition = parse("tier = 'silver' AND tier_since_days >= 30")
    # When a segment of silver customers of 30 days or more is evaluated
    verdict = evaluate(condition, silver, NOW)
    # Then she is not in it yet, rechecked when her 30th day begins; no tier is ''
    assert verdict.member is False
    assert verdict.next_check == NOW - timedelta(days=10, hours=1) + timedelta(days=30)
    assert evaluate(parse("tier = ''"), none, NOW).member is True
    assert evaluate(parse("tier_since_days >= 0"), none, NOW).member is False


def test_only_segments_with_loyalty_fields_read_it_and_the_fields_are_typed():
    # Given segments with and without loyalty fields
    # When their fields are asked for
    # Then only those naming one use loyalty, and a text for a number is refused
    assert segment_eval.uses_loyalty(parse("orders_count > 1 OR points_pending > 0"))
    assert not segment_eval.uses_loyalty(parse("orders_count > 1"))
    assert segments.is_time_based(parse("points_balance >= 100"))
    with pytest.raises(SegmentSyntaxError):
        parse("points_balance >= 'lots'")
