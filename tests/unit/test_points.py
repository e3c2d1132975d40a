"""Points from orders: earned once at the rule's rate, pending until the return window
ends, reversed by refunds at the earning's stored rate, removed by a cancellation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry
from chalicelib.domain.models import OrderStatus
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, cancelled, on, order

NOW = PAID_AT + timedelta(hours=1)
EARNING = EntryKey("order", "s1.1001", EARN)


def service(rules: LoyaltyRules | None = None) -> tuple[PointsService, FakePointsLedger, Settings]:
    ledger, settings = FakePointsLedger(), Settings(rules)
    return PointsService(ledger, settings), ledger, settings


def test_a_paid_order_earns_once_rounded_down_and_pending_until_the_window_ends():
    # Given 1.5 points per euro and a 14-day return window
    points, ledger, _ = service(on("1.5", window=14))
    # When a paid order of 66.70 EUR is applied three times
    written = [points.on_order(order("66.70"), NOW, CID) for _ in range(3)]
    # Then floor(100.05) = 100 points are earned once, pending through 16 November
    assert [len(w) for w in written] == [1, 0, 0]
    entry = ledger.entry(WS, CID, EARNING)
    assert (entry.points, entry.rate, entry.base, entry.available_on) == (
        100,
        Decimal("1.5"),
        Decimal("66.70"),
        date(2026, 11, 17),
    )
    page = points.page(WS, CID, date(2026, 11, 16))
    assert (page.view.pending, page.view.available, page.total) == (100, 0, 100)
    assert points.page(WS, CID, date(2026, 11, 17)).view.available == 100


def test_loyalty_off_a_pending_order_an_import_and_an_unconverted_currency_earn_nothing():
    # Given a workspace with loyalty off, and one with it on
    off, off_ledger, _ = service(LoyaltyRules())
    points, ledger, _ = service()
    # When each gets orders that must not earn
    off.on_order(order(), NOW, CID)
    points.on_order(order(status=OrderStatus.PENDING), NOW, CID)
    points.on_order(order(imported=True, order_id="2"), NOW, CID)
    points.on_order(order(currency="JPY", order_id="3"), NOW, CID)
    points.on_order(order(order_id="4"), NOW, None)
    # Then no ledger has an entry
    assert off_ledger.ledgers == {} and ledger.ledgers == {}


def test_an_order_in_another_currency_earns_on_its_converted_total():
    # Given a rate of 1 USD = 0.9 EUR
    points, ledger, _ = service()
    # When a paid order of 100 USD is applied
    points.on_order(order("100.00", currency="USD"), NOW, CID)
    # Then it earns 90 points, its base kept in the order's currency
    entry = ledger.entry(WS, CID, EARNING)
    assert (entry.points, entry.base, entry.currency) == (90, Decimal("100.00"), "USD")


def test_a_refund_reverses_its_share_at_the_stored_rate_not_the_current_rule():
    # Given an order earned 150 points at 1.5 per euro, then the rule changed to 10 per euro
    points, _, settings = service(on("1.5"))
    points.on_order(order("100.00"), NOW, CID)
    settings.value = replace(settings.value, loyalty=on("10"))
    # When a refund of 33.33 arrives, within the return window, three times
    refund = (("r1", "33.33", PAID_AT + timedelta(days=3)),)
    written = [
        points.on_order(order("100.00", OrderStatus.PARTIALLY_REFUNDED, refund), NOW, CID) for _ in range(3)
    ]
    # Then round(150 x 0.3333) = 50 points are reversed once, from the pending lot
    assert [len(w) for w in written] == [1, 0, 0]
    assert [e.points for e in written[0]] == [-50]
    page = points.page(WS, CID, date(2026, 11, 20))
    assert (page.total, page.view.pending) == (100, 100)


class Counting(FakePointsLedger):
    reversals = 0

    def reverse(self, earning, reversal, refunded, reversed_points):
        self.reversals += 1
        return super().reverse(earning, reversal, refunded, reversed_points)


def test_refunds_never_reverse_more_than_was_earned():
    # Given 10 points earned on 30 EUR (0.34 per euro), on a ledger counting its writes
    ledger = Counting()
    points = PointsService(ledger, Settings(on("0.34")))
    points.on_order(order("30.00"), NOW, CID)
    # When three refunds of 10 EUR come (each 3.33 points' share), and a fourth over-refund
    at = PAID_AT + timedelta(days=40)
    refunds = tuple((f"r{n}", "10.00", at) for n in range(1, 5))
    points.on_order(order("30.00", OrderStatus.REFUNDED, refunds), NOW, CID)
    # Then 3 + 4 + 3 + 0 = all 10 points are reversed, no more, after availability
    assert ledger.entry(WS, CID, EARNING).reversed == 10
    assert ledger.reversals == 4  # one write each: no conflict with its own earlier reversal
    assert sorted(e.points for e in points.page(WS, CID, date(2026, 12, 20)).entries) == [-4, -3, -3, 0, 10]
    assert points.page(WS, CID, date(2026, 12, 20)).total == 0


def test_a_cancellation_before_the_window_removes_the_pending_points():
    # Given 100 pending points
    points, _, _ = service()
    points.on_order(order(), NOW, CID)
    # When the order is cancelled two days later (twice)
    for _ in range(2):
        points.on_order(cancelled(order(), PAID_AT + timedelta(days=2)), NOW, CID)
    # Then nothing is pending nor available, and the ledger shows the earning and its removal
    page = points.page(WS, CID, date(2026, 11, 10))
    assert (page.total, page.view.pending, page.view.available, page.view.debt) == (0, 0, 0, 0)
    assert [e.points for e in page.entries] == [-100, 100]


def test_points_spent_then_reversed_show_as_debt():
    # Given 100 points available, 80 of them spent (an entry of -80, as a redemption will write)
    points, ledger, _ = service()
    points.on_order(order(), NOW, CID)
    ledger.earn(LedgerEntry(WS, CID, EntryKey("redemption", "x1", "spend"), -80, NOW))
    # When the order is fully refunded after availability
    refund = (("r1", "100.00", datetime(2026, 12, 10, tzinfo=PAID_AT.tzinfo)),)
    points.on_order(order("100.00", OrderStatus.REFUNDED, refund), NOW, CID)
    # Then the balance is -80: a visible debt, nothing available
    view = points.page(WS, CID, date(2026, 12, 11)).view
    assert (view.available, view.pending, view.debt) == (0, 0, 80)


class Interleaved(FakePointsLedger):
    """A ledger where another instance reverses refund r2 between this one's read and write."""

    def __init__(self, other: PointsService) -> None:
        super().__init__()
        self.other, self.raced = other, False

    def reverse(self, earning, reversal, refunded, reversed_points):
        if not self.raced and reversal.key.external_id.endswith(".r1"):
            self.raced = True
            self.other.on_order(order("100.00", OrderStatus.PARTIALLY_REFUNDED, (R2,)), NOW, CID)
        return super().reverse(earning, reversal, refunded, reversed_points)


R1 = ("r1", "30.00", PAID_AT + timedelta(days=40))
R2 = ("r2", "30.00", PAID_AT + timedelta(days=40))


def test_two_instances_reversing_refunds_at_once_retry_from_what_they_read():
    # Given 100 points, and two consumers sharing one ledger (two Lambda instances)
    racer = PointsService(FakePointsLedger(), Settings())
    ledger = Interleaved(racer)
    racer.ledger = ledger
    points = PointsService(ledger, Settings())
    points.on_order(order(), NOW, CID)
    # When one reverses r1 while the other reverses r2 between its read and its write
    points.on_order(order("100.00", OrderStatus.PARTIALLY_REFUNDED, (R1,)), NOW, CID)
    # Then the first one's stale write is refused, it reads again, and both refunds count once
    earning = ledger.entry(WS, CID, EARNING)
    assert ledger.raced and (earning.refunded, earning.reversed) == (Decimal("60.00"), 60)
    assert sorted(e.points for e in points.page(WS, CID, date(2027, 1, 1)).entries) == [-30, -30, 100]
    assert points.page(WS, CID, date(2027, 1, 1)).total == 40


def test_a_refund_after_the_profile_merged_still_reverses_the_earning():
    # Given 100 points earned by guest c_1
    points, ledger, _ = service()
    points.on_order(order(), NOW, CID)
    # When the refund arrives once the order's profile is c_2 (c_1 was merged into it)
    refund = (("r1", "50.00", PAID_AT + timedelta(days=40)),)
    points.on_order(order("100.00", OrderStatus.PARTIALLY_REFUNDED, refund), NOW, "c_2")
    # Then the earning is found by its order and half is reversed where it was earned
    assert ledger.entry(WS, CID, EARNING).reversed == 50
    assert (points.page(WS, CID, date(2027, 1, 1)).total, points.page(WS, "c_2", date(2027, 1, 1)).total) == (
        50,
        0,
    )


def test_a_deleted_order_earns_nothing():
    # Given a paid order first seen deleted (WooCommerce order.deleted)
    points, ledger, _ = service()
    change = order()
    deleted = replace(change.order, snapshot=replace(change.order.snapshot, deleted=True))
    # When it is applied
    written = points.on_order(type(change)(after=deleted), NOW, CID)
    # Then nothing is written
    assert written == [] and ledger.ledgers == {}
