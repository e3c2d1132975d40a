"""The segment language: parsing, errors that point at the token, evaluation, time flips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import segment_eval, segments
from chalicelib.domain.segment_eval import Facts
from chalicelib.domain.segments import And, Call, Compare, Not, Or, SegmentSyntaxError

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "orders_count >= 3 AND last_order_days <= 90 AND rfm_group = 'champions'",
        "is_member = false AND total_spent > 500",
        "bought_category('books') AND NOT bought_product('sku-123')",
        "(lifecycle = 'at_risk' OR lifecycle = 'lapsed') AND p_alive < 0.3",
        "used_channel('pos', 'app') OR bought_from_source(\"src_1\")",
        "email_consent = 'subscribed' and not sms_consent = 'unsubscribed'",
    ],
)
def test_definitions_round_trip_through_their_canonical_text(text):
    tree = segments.parse(text)
    assert segments.parse(segments.to_text(tree)) == tree


def test_precedence_is_not_then_and_then_or():
    tree = segments.parse("is_member = true OR orders_count > 1 AND NOT bought_category('books')")
    assert isinstance(tree, Or)
    left, right = tree.items
    assert left == Compare(field="is_member", op="=", value=True)
    assert isinstance(right, And) and isinstance(right.items[1], Not)
    assert right.items[1].item == Call(function="bought_category", args=("books",))


@pytest.mark.parametrize(
    ("text", "position", "token", "message"),
    [
        ("orders_cnt >= 3", 0, "orders_cnt", "did you mean orders_count"),
        ("orders_count >= 'three'", 16, "'three'", "compares with a number"),
        ("is_member = yes", 12, "yes", "true or false"),
        ("rfm_group = 'champs'", 12, "'champs'", "is one of"),
        ("rfm_group > 'loyal'", 10, ">", "only = and != apply"),
        ("orders_count >= 3 AND", 21, "", "expected a field"),
        ("(orders_count >= 3", 18, "", "expected ')'"),
        ("orders_count >= 3 total_spent > 1", 18, "total_spent", "expected AND, OR"),
        ("bought_thing('x')", 0, "bought_thing", "unknown function"),
        ("bought_product()", 15, ")", "expected a quoted value"),
        ("total_spent > 5 ; drop", 16, ";", "unexpected character"),
        ("", 0, "", "empty definition"),
    ],
)
def test_bad_definitions_point_at_the_offending_token(text, position, token, message):
    with pytest.raises(SegmentSyntaxError) as caught:
        segments.parse(text)
    assert (caught.value.position, caught.value.token) == (position, token)
    assert message in caught.value.message
    assert caught.value.details["position"] == position  # what the API returns with the 400


def facts(**overrides):
    base = {
        "values": {
            "orders_count": Decimal(3),
            "total_spent": Decimal("620.00"),
            "is_member": False,
            "rfm_group": "champions",
            "email_consent": "subscribed",
        },
        "products": frozenset({"sku-1"}),
        "categories": frozenset({"books"}),
        "channels": frozenset({"web"}),
        "times": {
            "last_order_at": NOW - timedelta(days=30, hours=2),
            "first_order_at": NOW - timedelta(days=400),
            "created_at": NOW - timedelta(days=400),
        },
    }
    base.update(overrides)
    return Facts(**base)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders_count >= 3 AND last_order_days <= 90 AND rfm_group = 'champions'", True),
        ("is_member = false AND total_spent > 500", True),
        ("bought_category('books') AND NOT bought_product('sku-123')", True),
        ("bought_product('sku-123', 'sku-1')", True),
        ("last_order_days < 30", False),
        ("last_order_days = 30", True),
        ("p_alive < 0.3", False),  # no score yet: a missing value matches nothing
        ("p_alive != 0.3", True),
        ("NOT (used_channel('pos') OR orders_count < 2)", True),
    ],
)
def test_evaluation(text, expected):
    assert segment_eval.evaluate(segments.parse(text), facts(), NOW).member is expected


def test_time_based_conditions_say_when_they_can_flip():
    # Given a last order 30 days and 2 hours ago
    tree = segments.parse("last_order_days <= 90")
    verdict = segment_eval.evaluate(tree, facts(), NOW)
    # Then membership holds now and is next checked when 91 whole days have passed
    last = NOW - timedelta(days=30, hours=2)
    assert verdict.member is True
    assert verdict.next_check == last + timedelta(days=90)
    later = segment_eval.evaluate(tree, facts(), last + timedelta(days=91))
    assert later.member is False and later.next_check is None


def test_conditions_without_time_never_need_a_recheck():
    verdict = segment_eval.evaluate(segments.parse("total_spent > 500"), facts(), NOW)
    assert verdict.next_check is None
    assert segments.is_time_based(segments.parse("last_order_days > 5 OR total_spent > 1"))
    assert not segments.is_time_based(segments.parse("total_spent > 1"))
