"""The PointsLedger port's contract: one suite, run against the unit tests' fake and the
DynamoDB adapter on moto (an entry and the balance move in one conditional transaction);
and the entry and balance items' layout round-trips."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.adapters.points_ledger import (
    DynamoPointsLedger,
    balance_from_item,
    entry_from_item,
    entry_item,
)
from chalicelib.domain.loyalty.model import (
    ADJUSTMENT,
    CANCEL,
    EARN,
    MANUAL,
    REVERSE,
    EntryKey,
    LedgerEntry,
)
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_points import FakePointsLedger

WS, CID = "ws_1", "c_1"
PAID = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LOT = date(2026, 12, 3)


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)
__all__ = ["moto_stage"]  # the fixture the moto side asks for


def earning(points: int = 100, order: str = "s1.1001") -> LedgerEntry:
    return LedgerEntry(
        WS,
        CID,
        EntryKey("order", order, EARN),
        points,
        PAID,
        order_id=order,
        rate=Decimal("1.5"),
        base=Decimal("66.70"),
        currency="EUR",
        available_on=LOT,
    )


def reversal(
    points: int, kind: str = REVERSE, xid: str = "s1.1001.r1", lot: date | None = None
) -> LedgerEntry:
    source = "refund" if kind == REVERSE else "order"
    return LedgerEntry(
        WS,
        CID,
        EntryKey(source, xid, kind),
        -points,
        PAID,
        order_id="s1.1001",
        amount=Decimal("10.00"),
        pending_lot=lot,
    )


def test_an_entry_is_written_once_and_its_points_added_once(ledger):
    # Given an earning entry written once
    first = ledger.earn(earning())
    # When the same key is written again (a replay, even with other points)
    again = ledger.earn(earning(points=999))
    # Then only the first counts: one entry, the balance its points, all pending in its lot
    assert (first, again) == (True, False)
    assert ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN)).points == 100
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots) == (100, {LOT: 100})
    assert (balance.view(date(2026, 12, 2)).pending, balance.view(LOT).available) == (100, 100)


def test_a_reversal_moves_the_earning_entry_once_and_only_from_what_was_read(ledger):
    # Given an earning of 100 points
    ledger.earn(earning())
    read = ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN))
    # When a refund reverses 15 of them, from its pending lot, conditioned on what was read
    done = ledger.reverse(read, reversal(15, lot=LOT), Decimal("10.00"), 15)
    # Then the earning entry holds the totals, and the balance and the lot lost 15
    after = ledger.entry(WS, CID, read.key)
    assert done is True
    assert (after.refunded, after.reversed, after.cancelled) == (Decimal("10.00"), 15, False)
    assert (ledger.balance(WS, CID).total, ledger.balance(WS, CID).lots) == (85, {LOT: 85})
    # When the same refund is replayed from a fresh read, or another from the stale read
    replay = ledger.reverse(after, reversal(15, lot=LOT), Decimal("20.00"), 30)
    stale = ledger.reverse(read, reversal(15, xid="s1.1001.r2"), Decimal("10.00"), 15)
    # Then neither writes anything
    assert (replay, stale) == (False, False)
    assert ledger.entry(WS, CID, EntryKey("refund", "s1.1001.r2", REVERSE)) is None
    assert ledger.balance(WS, CID).total == 85


def test_a_cancellation_marks_the_earning_and_reverses_all_of_it(ledger):
    # Given 100 points available (no lot: reversed after the lot's day)
    ledger.earn(earning())
    read = ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN))
    # When the cancellation reverses them all after availability, and a second order's are pending
    ledger.reverse(replace(read, cancelled=True), reversal(100, kind=CANCEL, xid="s1.1001"), Decimal(0), 100)
    ledger.earn(replace(earning(points=40, order="s1.1002"), available_on=date(2026, 12, 20)))
    # Then the sum is 40 - 100 + 100 = 40, all pending; nothing available, no debt yet
    view = ledger.balance(WS, CID).view(date(2026, 12, 10))
    assert (ledger.balance(WS, CID).total, view.pending, view.available, view.debt) == (40, 40, 0, 0)
    assert ledger.entry(WS, CID, read.key).cancelled is True


def test_reversed_points_taken_from_the_available_balance_show_as_debt(ledger):
    # Given 100 points earned, cancelled after availability with no lot, then 30 more pending
    ledger.earn(earning())
    read = ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN))
    ledger.reverse(read, reversal(100, kind=CANCEL, xid="s1.1001"), Decimal(0), 100)
    ledger.earn(replace(earning(points=30, order="s1.1002"), available_on=date(2026, 12, 20)))
    # When 50 points are spent (an entry of -50, as a redemption will write one)
    ledger.earn(
        LedgerEntry(WS, CID, EntryKey("order", "s1.1003", EARN), -50, PAID, rate=Decimal(1), base=Decimal(1))
    )
    before, after = (
        ledger.balance(WS, CID).view(date(2026, 12, 10)),
        ledger.balance(WS, CID).view(LOT.replace(day=25)),
    )
    # Then the debt is what the entries sum to below zero, and pending points do not hide it
    assert (before.available, before.pending, before.debt) == (0, 30, 50)
    assert (after.available, after.pending, after.debt) == (0, 0, 20)


def test_the_ledger_pages_in_key_order(ledger):
    # Given three entries
    for order in ("s1.3", "s1.1", "s1.2"):
        ledger.earn(earning(order=order))
    # When it is read two at a time
    first, cursor = ledger.entries(WS, CID, 2, None)
    second, last = ledger.entries(WS, CID, 2, cursor)
    # Then every entry comes once, in key order, and the last page has no cursor
    assert [e.order_id for e in first + second] == ["s1.1", "s1.2", "s1.3"]
    assert cursor is not None and last is None
    assert ledger.entries(WS, "c_other", 2, None) == ([], None)


def test_the_entry_and_balance_items_round_trip():
    # Given an earning entry with everything set, and a reversal with its lot
    entries = [replace(earning(), refunded=Decimal("5.5"), reversed=8, cancelled=True), reversal(8, lot=LOT)]
    # When each is mapped to its item and back, Then it is the same value
    assert [entry_from_item(entry_item(e)) for e in entries] == entries
    # And the balance item's lots are read by their day, empty lots left out
    item = {
        "pk": "W#ws_1#PTS#c_1",
        "sk": "BAL",
        "pts": Decimal(70),
        "pd20261203": Decimal(20),
        "pd20261204": 0,
    }
    assert balance_from_item(item).lots == {LOT: 20} and balance_from_item(None).total == 0


def test_an_orders_earning_is_found_by_the_order_whichever_ledger_holds_it(ledger):
    # Given an order's earning in customer c_1's ledger, and a reversal entry elsewhere
    ledger.earn(earning())
    ledger.earn(replace(reversal(5, xid="s1.9.r1"), customer_id="c_2"))
    # When the earning is looked up by its order, and an order never earned
    found, missing = ledger.earning_of(WS, "s1.1001"), ledger.earning_of(WS, "s1.9")
    # Then the order's earning comes back with its customer, the other is None
    assert (found.customer_id, found.points) == (CID, 100)
    assert missing is None and ledger.earning_of("ws_other", "s1.1001") is None


def adjustment(points: int, key: str) -> LedgerEntry:
    return LedgerEntry(
        WS, CID, EntryKey(MANUAL, key, ADJUSTMENT), points, PAID, reason="goodwill", actor="cli"
    )


def test_an_adjustment_is_written_once_and_a_deduction_only_from_enough_points(ledger):
    # Given 100 points added by hand (replayed: written once)
    assert [ledger.adjust(adjustment(100, "k-1"), None) for _ in range(2)] == [True, False]
    # When 101 are deducted, conditioned on a total of at least 101
    short = ledger.adjust(adjustment(-101, "k-2"), 101)
    # Then nothing is written; 60 (needing 60) is, with its reason and actor
    assert short is False and ledger.entry(WS, CID, EntryKey(MANUAL, "k-2", ADJUSTMENT)) is None
    assert ledger.adjust(adjustment(-60, "k-3"), 60) is True
    stored = ledger.entry(WS, CID, EntryKey(MANUAL, "k-3", ADJUSTMENT))
    assert (stored.points, stored.reason, stored.actor) == (-60, "goodwill", "cli")
    assert ledger.balance(WS, CID).total == 40


def test_a_deduction_from_a_customer_without_a_balance_is_refused(ledger):
    # Given a customer who never had points
    # When 1 point is deducted (needing a total of 1)
    done = ledger.adjust(adjustment(-1, "k-1"), 1)
    # Then nothing is written
    assert done is False and ledger.balance(WS, CID).total == 0


def test_two_concurrent_deductions_that_together_exceed_the_balance_one_succeeds(ledger):
    # Given 100 points
    ledger.adjust(adjustment(100, "k-0"), None)
    # When two deductions of 70, each read 100 and need 70, run at once (8 rounds)
    for round_ in range(8):
        if round_:
            ledger.adjust(adjustment(70, f"top-{round_}"), None)  # back to 100
        barrier = threading.Barrier(2)

        def deduct(n: int, r: int = round_, gate: threading.Barrier = barrier) -> bool:
            gate.wait()
            return ledger.adjust(adjustment(-70, f"d-{r}-{n}"), 70)

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(deduct, range(2)))
        # Then exactly one is written, and the balance never goes below zero
        assert sorted(results) == [False, True]
        assert ledger.balance(WS, CID).total == 30


def test_an_adjustments_reason_and_actor_round_trip():
    # Given an adjustment entry
    entry = replace(adjustment(-5, "k-9"), actor="key:0123456789ab")
    # When it is stored and read back
    item = entry_item(entry)
    # Then it is the same, under short attributes
    assert entry_from_item(item) == entry
    assert (item["rsn"], item["by"], item["sk"]) == (
        "goodwill",
        "key:0123456789ab",
        "E#manual#k-9#adjustment",
    )
