"""The PointsLedger port's contract: one suite, run against the unit tests' fake and the
DynamoDB adapter on moto (an entry and the balance move in one conditional transaction);
and the entry and balance items' layout round-trips."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

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
    Lots,
)
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_points import FakePointsLedger

WS, CID = "ws_1", "c_1"
PAID = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LOT = date(2026, 12, 3)
LATER = date(2026, 12, 20)
PAID_DAY = PAID.date()


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)


@pytest.fixture(autouse=True)
def atomic_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB runs each transaction atomically; moto, called from threads, does not (it
    checks and writes item by item, and rolls a failed one back from a snapshot of the
    table): one lock gives the stand-in the service's guarantee, as `patron local` does."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()

    def atomic(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", atomic)


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
    points: int, kind: str = REVERSE, xid: str = "s1.1001.r1", lots: Lots = (), debt: int = 0
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
        lots=lots,
        debt=debt,
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
    # When a refund reverses 15 of them, from its lot, conditioned on what was read
    done = ledger.reverse(read, reversal(15, lots=((LOT, -15),)), Decimal("10.00"), 15)
    # Then the earning entry holds the totals, and the balance and the lot lost 15
    after = ledger.entry(WS, CID, read.key)
    assert done is True
    assert (after.refunded, after.reversed, after.cancelled) == (Decimal("10.00"), 15, False)
    assert (ledger.balance(WS, CID).total, ledger.balance(WS, CID).lots) == (85, {LOT: 85})
    # When the same refund is replayed from a fresh read, or another from the stale read
    replay = ledger.reverse(after, reversal(15, lots=((LOT, -15),)), Decimal("20.00"), 30)
    stale = ledger.reverse(read, reversal(15, xid="s1.1001.r2"), Decimal("10.00"), 15)
    # Then neither writes anything
    assert (replay, stale) == (False, False)
    assert ledger.entry(WS, CID, EntryKey("refund", "s1.1001.r2", REVERSE)) is None
    assert ledger.balance(WS, CID).total == 85


def test_a_cancellation_marks_the_earning_and_reverses_all_of_it(ledger):
    # Given 100 points earned in their lot
    ledger.earn(earning())
    read = ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN))
    # When the cancellation reverses them all from the lot, and a second order's are pending
    cancel = reversal(100, kind=CANCEL, xid="s1.1001", lots=((LOT, -100),))
    ledger.reverse(replace(read, cancelled=True), cancel, Decimal(0), 100)
    ledger.earn(replace(earning(points=40, order="s1.1002"), available_on=date(2026, 12, 20)))
    # Then the sum is 40 - 100 + 100 = 40, all pending; nothing available, no debt yet
    view = ledger.balance(WS, CID).view(date(2026, 12, 10))
    assert (ledger.balance(WS, CID).total, view.pending, view.available, view.debt) == (40, 40, 0, 0)
    assert ledger.entry(WS, CID, read.key).cancelled is True


def test_reversed_points_already_spent_are_debt_and_a_spend_settles_it_once(ledger):
    # Given 100 points earned, all spent, then the order cancelled (nothing left: 100 of debt)
    ledger.earn(earning())
    assert ledger.adjust(spend(100, "k-1", LOT)) is True
    read = ledger.entry(WS, CID, EntryKey("order", "s1.1001", EARN))
    ledger.reverse(read, reversal(100, kind=CANCEL, xid="s1.1001", debt=100), Decimal(0), 100)
    # When 130 more are earned (available on the 20th)
    ledger.earn(replace(earning(points=130, order="s1.1002"), available_on=LATER))
    balance = ledger.balance(WS, CID)
    before, after = balance.view(date(2026, 12, 10)), balance.view(LATER)
    # Then the debt is visible, and pending points do not hide it
    assert (balance.total, balance.debt, balance.lots) == (30, 100, {LATER: 130})
    assert (before.available, before.pending, before.debt) == (0, 130, 100)
    assert (after.available, after.pending, after.debt) == (30, 0, 0)
    # When a spend of 30 settles the debt from the lot (conditioned on dbt >= 100), twice
    settle = replace(spend(30, "k-2", LATER), lots=((LATER, -130),), debt=-100)
    again = replace(settle, key=EntryKey(MANUAL, "k-3", ADJUSTMENT))
    # Then the first is written, the second finds no debt (nor lot) to take: refused
    assert (ledger.adjust(settle), ledger.adjust(again)) == (True, False)
    final = ledger.balance(WS, CID)
    assert (final.total, final.debt, final.lots) == (0, 0, {})


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
    # Given an earning entry with everything set, a reversal with its lots and debt, a spend
    entries = [
        replace(earning(), refunded=Decimal("5.5"), reversed=8, cancelled=True, lots=((LOT, 100),)),
        reversal(8, lots=((LOT, -3), (LATER, -2)), debt=3),
        replace(spend(5, "k-1", LOT), debt=-2),
    ]
    # When each is mapped to its item and back, Then it is the same value
    assert [entry_from_item(entry_item(e)) for e in entries] == entries
    # And the balance item's lots are read by their day, empty lots left out
    item = {
        "pk": "W#ws_1#PTS#c_1",
        "sk": "BAL",
        "pts": Decimal(70),
        "lt20261203": Decimal(20),
        "lt20261204": 0,
        "dbt": Decimal(5),
    }
    assert (balance_from_item(item).lots, balance_from_item(item).debt) == ({LOT: 20}, 5)
    assert balance_from_item(None).total == 0


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


def spend(points: int, key: str, day: date = PAID_DAY) -> LedgerEntry:
    """A deduction taking `points` from the lot of `day` (as the adjustment service plans it)."""
    return replace(adjustment(-points, key), lots=((day, -points),))


def test_an_adjustment_is_written_once_and_a_deduction_only_from_enough_points(ledger):
    # Given 100 points added by hand (replayed: written once), in the lot of their day
    assert [ledger.adjust(adjustment(100, "k-1")) for _ in range(2)] == [True, False]
    assert ledger.balance(WS, CID).lots == {PAID.date(): 100}
    # When 101 are deducted from that lot (conditioned on it holding 101)
    short = ledger.adjust(spend(101, "k-2"))
    # Then nothing is written; 60 are, with their reason and actor
    assert short is False and ledger.entry(WS, CID, EntryKey(MANUAL, "k-2", ADJUSTMENT)) is None
    assert ledger.adjust(spend(60, "k-3")) is True
    stored = ledger.entry(WS, CID, EntryKey(MANUAL, "k-3", ADJUSTMENT))
    assert (stored.points, stored.reason, stored.actor) == (-60, "goodwill", "cli")
    assert (ledger.balance(WS, CID).total, ledger.balance(WS, CID).lots) == (40, {PAID.date(): 40})


def test_a_deduction_from_a_customer_without_a_balance_is_refused(ledger):
    # Given a customer who never had points
    # When 1 point is deducted from a lot
    done = ledger.adjust(spend(1, "k-1"))
    # Then nothing is written
    assert done is False and ledger.balance(WS, CID).total == 0


def test_two_concurrent_deductions_that_together_exceed_the_balance_one_succeeds(ledger):
    # Given 100 points
    ledger.adjust(adjustment(100, "k-0"))
    # When two deductions of 70 from the same lot, each read 100, run at once (8 rounds)
    for round_ in range(8):
        if round_:
            ledger.adjust(adjustment(70, f"top-{round_}"))  # back to 100
        barrier = threading.Barrier(2)

        def deduct(n: int, r: int = round_, gate: threading.Barrier = barrier) -> bool:
            gate.wait()
            return ledger.adjust(spend(70, f"d-{r}-{n}"))

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(deduct, range(2)))
        # Then exactly one is written, and the balance never goes below zero
        assert sorted(results) == [False, True]
        assert (ledger.balance(WS, CID).total, ledger.balance(WS, CID).lots) == (30, {PAID.date(): 30})


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
