"""The demo's loyalty truth: what each simulated customer's points and tier must be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from patron.demo import loyalty
from patron.synthetic.store import Person, SimOrder

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
SOURCES = {"shopify": "src_shop", "woocommerce": "src_woo"}


def person(index: int, member: bool = False) -> Person:
    return Person(index, "Ann", "Lee", f"ann.{index}@example.com", None, member, False, ["shopify"], 7, 1)


def order(
    who: Person, n: int, total: str, days_ago: float, platform: str = "shopify", **kw: object
) -> SimOrder:
    return SimOrder(who, platform, n, AT - timedelta(days=days_ago), [], Decimal(total), **kw)  # type: ignore[arg-type]


def test_an_orders_points_are_its_stored_rate_less_the_refunded_share_rounded_half_up():
    # Given orders of 99.99 USD, one refunded by a quarter, one cancelled, one in EUR
    ann = person(1)
    refunded = order(ann, 1, "99.99", 10, refund=Decimal("25.00"))
    cancelled = order(ann, 2, "99.99", 10, cancelled=True)
    euros = order(ann, 3, "10.00", 10, platform="woocommerce")
    # When their points are computed at the rates the ledger stored
    # Then floor(99.99 x 1.5) = 149, less round_half_up(149 x 25 / 99.99) = 37; nothing; 10.80 x 2
    assert loyalty.expected_order_points(refunded, Decimal("1.5")) == 149 - 37
    assert loyalty.expected_order_points(cancelled, Decimal(1)) == 0
    assert loyalty.expected_order_points(euros, Decimal(2)) == 21


def test_the_truth_splits_history_from_live_orders_and_leaves_the_window_edge_open():
    # Given a member with an exported order (partly refunded), a cancelled one, and live
    # orders: one inside the tier window, one at its start (its payment may fall either side)
    ann = person(1, member=True)
    old = order(ann, 1, "80.50", 300, refund=Decimal("10.00"))
    old_cancelled = order(ann, 2, "50.00", 290, cancelled=True)
    inside = order(ann, 3, "120.00", 100)
    edge = order(ann, 4, "40.00", loyalty.WINDOW_DAYS + 0.5)
    # When the truth is computed at AT
    truth = loyalty.truths([ann], [old, old_cancelled, inside, edge], [old, old_cancelled], SOURCES, AT)
    (ann_truth,) = truth.values()
    # Then the historical entry is floor(70.50 x 1), the live orders are keyed by source and id
    assert ann_truth.historical == 70 and ann_truth.member
    assert sorted(ann_truth.live) == ["src_shop.3", "src_shop.4"]
    # And the tier is none (120.00) or silver (160.00), whichever side the edge order's payment fell
    assert (ann_truth.spend, ann_truth.edge) == (Decimal("120.00"), Decimal("40.00"))
    assert loyalty.tiers_for(ann_truth) == [None, "silver"]
    assert loyalty.tier_of(Decimal("400")) == "gold" and loyalty.tier_of(Decimal("149.99")) is None


def test_a_refund_counts_against_the_tier_from_its_date():
    # Given two orders refunded in full 4 days after them: one 10 days ago, one 2 days ago (its
    # refund dated 2 days ahead), and one whose refund falls in the hour around now
    ann = person(1)
    past = order(ann, 1, "100.00", 10, refund=Decimal("100.00"))
    ahead = order(ann, 2, "160.00", 2, refund=Decimal("160.00"))
    now_ish = order(ann, 3, "30.00", 4, refund=Decimal("10.00"))
    # When the truth is computed at AT
    (truth,) = loyalty.truths([ann], [past, ahead, now_ish], [], SOURCES, AT).values()
    # Then the past refund counts, the one ahead does not yet, the one at now may or may not
    assert (truth.spend, truth.edge) == (Decimal("180.00"), Decimal("10.00"))
    assert loyalty.tiers_for(truth) == ["silver"]
