"""The analytics report's loyalty section (docs/analytics.md#loyalty): the points liability
equals the sum of the ledgers (live and erased), each figure in money at the redemption
rate rounded to the workspace currency's minor units, and members vs non-members by tier.
Balances and tiers are read a page of the walk at a time (one batch each)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.enrolment import Actor
from chalicelib.domain.loyalty.adjust import AdjustmentIn, PointsAdjustments, PointsRefused
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.liability import Liability, lot_days
from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.tiers import TierState
from chalicelib.domain.models import OrderStatus
from chalicelib.domain.workspace_analytics import AnalyticsService, LoyaltyOff
from chalicelib.domain.workspace_settings import LoyaltyRules, WorkspaceSettings
from tests.unit.fake_loyalty_books import FakeLoyaltyBooks
from tests.unit.fake_points_tally import FakePointsTally
from tests.unit.points_orders import WS, order

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # the report's end: "today" for the balances
OLD = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)  # lot 2026-01-01: expires 2027-01-01, within 30 days
MID = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # lot 2026-07-02: expires 2027-07-02
RECENT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # lot 2026-12-31: pending today


class Workspaces:
    def __init__(self, currency: str, rules: LoyaltyRules) -> None:
        self.value = WorkspaceSettings(WS, currency, "salt", loyalty=rules)

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return self.value


class Walk:
    def __init__(self, profiles: list[CustomerProfile]) -> None:
        self.profiles = profiles

    def customers_of(self, workspace_id: str) -> list[CustomerProfile]:
        return list(self.profiles)


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return type("P", (), {"customer_id": customer_id})()


def paid(
    total: str,
    at: datetime,
    order_id: str,
    status: OrderStatus = OrderStatus.PAID,
    refunds=(),
    cur: str = "EUR",
) -> Any:
    change = order(total, status, refunds, currency=cur, order_id=order_id)
    image = change.after
    return replace(change, after=replace(image, snapshot=replace(image.snapshot, created_at=at)))


def profile(cid: str, member: bool, *orders: tuple[datetime, str, str]) -> CustomerProfile:
    entries = {
        f"s1#{i}": OrderEntry(1, int(at.timestamp()), amount=Decimal(amount), refunded=Decimal(refunded))
        for i, (at, amount, refunded) in enumerate(orders)
    }
    return CustomerProfile(WS, cid, member=member, orders=entries)


def books_of_several_states(
    rules: LoyaltyRules, currency: str
) -> tuple[FakeLoyaltyBooks, list[CustomerProfile]]:
    """c_pending 100 pending; c_old 200 available, expiring within 30 days (gold); c_debt
    earned 50, spent 50, refunded in full: 50 of debt; c_erased earned 80 then erased
    (the tally); c_guest no points."""
    eraser = FakePointsTally()
    books = FakeLoyaltyBooks(eraser=eraser)
    workspaces = Workspaces(currency, rules)
    points = PointsService(books.ledger, workspaces)
    points.on_order(paid("100", RECENT, "p1", cur=currency), NOW, "c_pending")
    points.on_order(paid("200", OLD, "o1", cur=currency), NOW, "c_old")
    points.on_order(paid("50", MID, "d1", cur=currency), NOW, "c_debt")
    spend = AdjustmentIn(points=-50, reason="goodwill taken back")
    PointsAdjustments(books.ledger, workspaces, Profiles()).adjust(  # type: ignore[arg-type]
        WS, "c_debt", spend, "k-1", Actor("cli", "cli"), NOW - timedelta(days=2)
    )
    refund = (("r1", "50", NOW - timedelta(days=1)),)
    points.on_order(paid("50", MID, "d1", OrderStatus.REFUNDED, refund, currency), NOW, "c_debt")
    points.on_order(paid("80", MID, "e1", cur=currency), NOW, "c_erased")
    eraser.fold(WS, "c_erased")
    books.tier_store.states_[(WS, "c_old")] = TierState(WS, "c_old", tier="gold", version=1)
    profiles = [
        profile("c_pending", True, (RECENT, "100", "0")),
        profile("c_old", True, (OLD, "200", "0"), (NOW - timedelta(days=10), "30.5", "0.5")),
        profile("c_debt", True, (MID, "50", "50")),
        profile("c_guest", False, (MID, "20", "0"), (MID + timedelta(days=3), "10", "0")),
    ]
    return books, profiles


def ledger_sum(books: FakeLoyaltyBooks) -> int:
    """Every entry of every live ledger, and the erased ones' (the tally), summed."""
    live = sum(e.points for ledger in books.ledger.ledgers.values() for e in ledger.values())
    return live + books.tally(WS).total


@pytest.mark.parametrize(
    ("currency", "per_point", "money"),
    [
        # 0.0133 per point, EUR: 2 decimals, half up (280 -> 3.7240, 50 -> 0.6650)
        ("EUR", "0.0133", {"available": "3.72", "pending": "1.33", "debt": "0.67", "expiring_30d": "2.66"}),
        # 0.55 per point, JPY: no decimals, half up (280 -> 154, 50 -> 27.5)
        ("JPY", "0.55", {"available": "154", "pending": "55", "debt": "28", "expiring_30d": "110"}),
    ],
)
def test_the_liability_is_the_sum_of_the_ledgers_in_money_at_the_redemption_rate(currency, per_point, money):
    # Given customers pending, available (expiring), in debt, erased and without points
    rules = LoyaltyRules(
        expiry="lots", expiry_days=365, enabled=True, redeem_value_per_point=Decimal(per_point)
    )
    books, profiles = books_of_several_states(rules, currency)
    service = AnalyticsService(Walk(profiles), workspaces=Workspaces(currency, rules), loyalty=books)  # type: ignore[arg-type]
    # When the report is made
    loyalty = service.report(WS, None, NOW)["loyalty"]
    # Then the customers' part: 200 available (all expiring), 100 pending, 50 of debt
    live = loyalty["liability"]["customers"]
    assert live["points"] == {
        "available": 200,
        "pending": 100,
        "debt": 50,
        "expiring_30d": 200,
        "outstanding": 250,
    }
    # And the erased customer's 80 are the tally's, available
    erased = loyalty["liability"]["erased"]
    assert erased["points"]["available"] == 80 and erased["customers"] == 1
    # And the total equals the sum of every entry ever written, the erased ones included
    total = loyalty["liability"]["total"]["points"]
    assert total["outstanding"] == ledger_sum(books) == 250 + 80
    assert total["available"] + total["pending"] - total["debt"] == total["outstanding"]
    # And money is the points at the redemption rate, rounded to the currency's minor units
    shown = loyalty["liability"]["total"]["money"]
    assert {k: shown[k] for k in money} == money
    # And the balances and tiers were read in one batch each for the page of 4
    assert books.batches == [4, 4]


def test_members_and_non_members_by_tier_count_customers_revenue_and_orders():
    # Given a gold member, two members without a tier and a guest
    rules = LoyaltyRules(expiry="lots", expiry_days=365, enabled=True)
    books, profiles = books_of_several_states(rules, "EUR")
    service = AnalyticsService(Walk(profiles), workspaces=Workspaces("EUR", rules), loyalty=books)  # type: ignore[arg-type]
    # When the report is made over the year to NOW (OLD is before it)
    by_tier = service.report(WS, None, NOW)["loyalty"]["by_tier"]
    # Then each group has its customers, its period's orders and net revenue
    assert by_tier["members"]["gold"] == {
        "customers": 1,
        "orders": 1,
        "revenue": "30.00",
        "orders_per_customer": 1.0,
    }
    assert by_tier["members"]["none"] == {
        "customers": 2,
        "orders": 2,
        "revenue": "100.00",
        "orders_per_customer": 1.0,
    }
    assert by_tier["non_members"] == {
        "none": {"customers": 1, "orders": 2, "revenue": "30.00", "orders_per_customer": 2.0}
    }


def test_no_loyalty_section_while_the_programme_is_off():
    # Given a workspace with points, whose programme is then switched off
    books, profiles = books_of_several_states(
        LoyaltyRules(expiry="lots", expiry_days=365, enabled=True), "EUR"
    )
    service = AnalyticsService(Walk(profiles), workspaces=Workspaces("EUR", LoyaltyRules()), loyalty=books)  # type: ignore[arg-type]
    # When the report is made
    report = service.report(WS, None, NOW)
    # Then it has no loyalty section and reads no balance
    assert "loyalty" not in report and books.batches == []


def test_only_lot_expiry_gives_expiring_points():
    # Given the rules without expiry, with lot expiry, and with inactivity expiry
    # Then only lot expiry names the lots' lifetime
    assert lot_days(LoyaltyRules()) is None
    assert lot_days(LoyaltyRules(expiry="lots", expiry_days=365)) == 365
    assert lot_days(LoyaltyRules(expiry="lots", expiry_days=30)) == 30
    assert lot_days(LoyaltyRules(expiry="inactivity", expiry_days=365)) is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "c3"]),
            st.sampled_from(["earn", "refund", "spend", "erase"]),
            st.integers(1, 300),
            st.integers(0, 400),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_any_history_in_any_order_gives_a_liability_equal_to_the_ledgers(steps):
    # Given any interleaving of earnings (old or recent), refunds, spends and erasures, any replayed
    rules = LoyaltyRules(expiry="lots", expiry_days=365, enabled=True)
    eraser = FakePointsTally()
    books = FakeLoyaltyBooks(eraser=eraser)
    workspaces = Workspaces("EUR", rules)
    points = PointsService(books.ledger, workspaces)
    adjust = PointsAdjustments(books.ledger, workspaces, Profiles())  # type: ignore[arg-type]

    def apply(i: int, cid: str, what: str, amount: int, days_ago: int) -> None:
        at = NOW - timedelta(days=days_ago)
        if what == "earn":
            points.on_order(paid(str(amount), at, f"o{i}"), NOW, cid)
        elif what == "refund" and i:
            refund = (("r1", str(amount), NOW),)
            points.on_order(paid("300", at, f"o{i - 1}", OrderStatus.PARTIALLY_REFUNDED, refund), NOW, cid)
        elif what == "spend":
            with contextlib.suppress(PointsRefused):  # not enough points: nothing written
                body = AdjustmentIn(points=-amount, reason="r")
                adjust.adjust(WS, cid, body, f"k{i}", Actor("cli", "cli"), NOW)
        elif what == "erase":
            eraser.fold(WS, cid)

    for i, (cid, what, amount, days_ago, replayed) in enumerate(steps):
        for _ in range(2 if replayed else 1):  # a replay of the same delivery or request
            apply(i, cid, what, amount, days_ago)
    profiles = [CustomerProfile(WS, cid, member=True) for cid in ("c1", "c2", "c3")]
    service = AnalyticsService(Walk(profiles), workspaces=workspaces, loyalty=books)  # type: ignore[arg-type]
    # When the report is made
    total = service.report(WS, None, NOW)["loyalty"]["liability"]["total"]["points"]
    # Then the outstanding points are the sum of every entry, and the parts add up to it
    assert total["outstanding"] == ledger_sum(books)
    assert total["available"] + total["pending"] - total["debt"] == total["outstanding"]
    assert 0 <= total["expiring_30d"] <= total["available"]


def test_the_liability_alone_is_the_report_s_section_and_refused_while_off():
    # Given the customers of several states
    rules = LoyaltyRules(
        expiry="lots", expiry_days=365, enabled=True, redeem_value_per_point=Decimal("0.0133")
    )
    books, profiles = books_of_several_states(rules, "EUR")
    service = AnalyticsService(Walk(profiles), workspaces=Workspaces("EUR", rules), loyalty=books)  # type: ignore[arg-type]
    # When the liability is asked alone, and the whole report
    alone = service.liability(WS, None, NOW)
    # Then it is the report's section
    assert alone == service.report(WS, None, NOW)["loyalty"]
    # And while the programme is off it is refused with a reason
    off = AnalyticsService(Walk(profiles), workspaces=Workspaces("EUR", LoyaltyRules()), loyalty=books)  # type: ignore[arg-type]
    with pytest.raises(LoyaltyOff) as refused:
        off.liability(WS, None, NOW)
    assert refused.value.details == {"reason": "loyalty_off"}


def test_a_report_to_the_calendar_s_end_counts_the_expiring_points():
    # Given the customers of several states, and a report to the last day there is
    rules = LoyaltyRules(expiry="lots", expiry_days=365, enabled=True)
    books, profiles = books_of_several_states(rules, "EUR")
    service = AnalyticsService(Walk(profiles), workspaces=Workspaces("EUR", rules), loyalty=books)  # type: ignore[arg-type]
    end = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    # When the liability is asked
    total = service.liability(WS, None, end)["liability"]["total"]["points"]
    # Then every lot is available and long expired: all available points count as expiring
    assert total["pending"] == 0 and total["expiring_30d"] == total["available"] == 380


def test_a_debt_is_settled_before_lots_can_count_as_expiring():
    # Given a balance with 30 points in an old lot and 50 of debt (net: 20 of debt)
    owed = PointsBalance(total=-20, lots={date(2026, 1, 1): 30}, debt=50)
    liability = Liability(NOW.date(), NOW - timedelta(days=365), NOW, 365)
    # When the page holding it is added
    liability.add_page([CustomerProfile(WS, "c_1", member=True)], {"c_1": owed}, {})
    # Then the lot's 30 points do not count as expiring: nothing is available
    assert (liability.live.available, liability.live.debt, liability.live.expiring_30d) == (0, 20, 0)
