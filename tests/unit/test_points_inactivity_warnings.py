"""Warnings 30 and 7 days before an inactivity deadline (domain/loyalty/expiry_warnings.py,
docs/loyalty.md#expiry): on the customer's local day, through the `points.expiring` trigger
keyed per last activity and warning; new activity moves the deadline and its warnings.
A fixed clock: the daily job at noon UTC, day by day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.loyalty.expiry import PointsExpiry
from chalicelib.domain.loyalty.expiry_warnings import ExpiryWarnings
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry, available_on
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import WS, Settings, on
from tests.unit.test_points_expiry import credit, spend
from tests.unit.test_points_expiry_warnings import EAST, WEST, Flows, Profiles, at_noon

DAYS = 60
ACTIVE = date(2026, 1, 10)  # deadline: 11 Mar; the 30-day warning's local day is 9 Feb


def setup(zones: dict[str, str]) -> tuple[FakePointsLedger, Flows, ExpiryWarnings, PointsExpiry]:
    ledger, flows = FakePointsLedger(), Flows()
    rules = Settings(replace(on(window=30), expiry="inactivity", expiry_days=DAYS))
    return ledger, flows, ExpiryWarnings(ledger, rules, Profiles(zones), flows), PointsExpiry(ledger, rules)


def daily(warnings: ExpiryWarnings, expiry: PointsExpiry, first: date, last: date) -> dict[date, int]:
    """The job at noon UTC each day (warnings twice, then the sweep); the points expired by day."""
    expired: dict[date, int] = {}
    while first <= last:
        for _ in range(2):
            warnings.warn(WS, at_noon(first))
        points = expiry.expire(WS, first)["points_expired"]
        if points:
            expired[first] = points
        first += timedelta(days=1)
    return expired


def test_each_customer_is_warned_on_their_local_day_once_30_and_7_days_before():
    # Given 100 points credited on 10 Jan to a customer east of UTC+12 and one west of
    # UTC-10 (their last activity), and a 60-day inactivity expiry
    ledger, flows, warnings, expiry = setup({"c_east": EAST, "c_west": WEST})
    credit(ledger, ACTIVE, 100, "a", cid="c_east")
    credit(ledger, ACTIVE, 100, "b", cid="c_west")
    # When the daily job runs from 10 Jan to 12 Mar
    expired = daily(warnings, expiry, ACTIVE, date(2026, 3, 12))
    # Then each is warned once 30 and once 7 days before 11 Mar on their own calendar (the
    # east a UTC day early), with the points and the day; the balance expires on 11 Mar
    got = [(e.customer_id, e.key, e.at.date()) for e in flows.events]
    assert got == [
        ("c_east", "inactive:2026-01-10:30", date(2026, 2, 8)),
        ("c_west", "inactive:2026-01-10:30", date(2026, 2, 9)),
        ("c_east", "inactive:2026-01-10:7", date(2026, 3, 3)),
        ("c_west", "inactive:2026-01-10:7", date(2026, 3, 4)),
    ]
    assert all(e.kind == "points.expiring" for e in flows.events)
    context = flows.events[0].context
    assert context is not None
    assert dict(context.extra) == {"points_expiring": 100, "points_expiry_date": "2026-03-11"}
    assert expired == {date(2026, 3, 11): 200}


def test_activity_since_moves_the_deadline_and_its_warnings():
    # Given 100 points credited on 10 Jan (UTC), and 30 of them redeemed on 20 Feb (after
    # the first deadline's 30-day warning; a redemption lists no lot of its own)
    ledger, flows, warnings, expiry = setup({"c_1": "UTC"})
    credit(ledger, ACTIVE, 100, "a", cid="c_1")
    daily(warnings, expiry, ACTIVE, date(2026, 2, 19))
    assert spend(ledger, 30, date(2026, 2, 20), "s1", cid="c_1")
    # When the daily job runs on to the end of April
    expired = daily(warnings, expiry, date(2026, 2, 20), date(2026, 4, 30))
    # Then the old deadline's 7-day warning never comes; the new deadline (21 Apr) is
    # warned 30 and 7 days before, for the 70 left, and expires on its day
    got = [(e.key, e.at.date(), e.context.extra["points_expiring"]) for e in flows.events]  # type: ignore[union-attr]
    assert got == [
        ("inactive:2026-01-10:30", date(2026, 2, 9), 100),
        ("inactive:2026-02-20:30", date(2026, 3, 22), 70),
        ("inactive:2026-02-20:7", date(2026, 4, 14), 70),
    ]
    assert expired == {date(2026, 4, 21): 70}


def test_an_earnings_customer_is_warned_and_expires_on_the_deadline_not_the_lots_day():
    # Given an order paid on 10 Jan earning 80 points, pending for the 30-day return window
    # (its lot, the only bucket listing the customer, is of 10 Feb)
    ledger, flows, warnings, expiry = setup({"c_1": "UTC"})
    paid = datetime(2026, 1, 10, 9, tzinfo=UTC)
    earning = LedgerEntry(
        WS, "c_1", EntryKey("order", "s1.1", EARN), 80, paid, available_on=available_on(paid, 30)
    )
    assert ledger.earn(earning)
    # When the daily job runs from 10 Jan to 20 Apr
    expired = daily(warnings, expiry, ACTIVE, date(2026, 4, 20))
    # Then the warnings come 30 and 7 days before 11 Mar, and the 80 expire on 11 Mar
    got = [(e.key, e.at.date()) for e in flows.events]
    assert got == [("inactive:2026-01-10:30", date(2026, 2, 9)), ("inactive:2026-01-10:7", date(2026, 3, 4))]
    assert expired == {date(2026, 3, 11): 80}


def test_a_balance_with_nothing_left_to_expire_is_not_warned():
    # Given a customer who spent every point on the day of their last activity
    ledger, flows, warnings, expiry = setup({"c_1": "UTC"})
    credit(ledger, ACTIVE, 100, "a", cid="c_1")
    assert spend(ledger, 100, ACTIVE, "s1", cid="c_1")
    # When the daily job runs to past the deadline
    expired = daily(warnings, expiry, ACTIVE, date(2026, 3, 20))
    # Then no warning and nothing expires
    assert flows.events == [] and expired == {}
