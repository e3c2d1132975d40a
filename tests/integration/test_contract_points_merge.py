"""The MergeLedger port's contract (a merge's transfer, a closed balance), run against the
unit tests' fake and the DynamoDB adapter on moto; the balance's `into` round-trips."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.adapters.points_ledger import DynamoPointsLedger, balance_from_item
from chalicelib.domain.loyalty.merge import LedgerMerges, open_balance
from chalicelib.domain.loyalty.model import (
    ADJUSTMENT,
    EARN,
    MANUAL,
    MERGE,
    REVERSE,
    TRANSFER_IN,
    TRANSFER_OUT,
    EntryKey,
    LedgerEntry,
)
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.integration.test_contract_points_ledger import atomic_transactions
from tests.unit.fake_points import FakePointsLedger

WS, X, S = "ws_1", "c_gone", "c_kept"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LOT, OLD = date(2026, 12, 3), date(2026, 11, 2)


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)
__all__ = ["atomic_transactions", "moto_stage"]  # moto's side; transactions atomic across threads


def earning(cid: str, points: int, order: str, day: date) -> LedgerEntry:
    return LedgerEntry(
        WS,
        cid,
        EntryKey("order", order, EARN),
        points,
        AT,
        order_id=order,
        rate=Decimal(1),
        base=Decimal(points),
        currency="EUR",
        available_on=day,
    )


def with_debt(ledger) -> None:
    """X: 100 pending on LOT, 30 on OLD spent, then its order fully reversed: debt 30."""
    ledger.earn(earning(X, 100, "s1.1", LOT))
    ledger.earn(earning(X, 30, "s1.2", OLD))
    ledger.adjust(LedgerEntry(WS, X, EntryKey(MANUAL, "k1", ADJUSTMENT), -30, AT, lots=((OLD, -30),)))
    gone = ledger.entry(WS, X, EntryKey("order", "s1.2", EARN))
    back = LedgerEntry(WS, X, EntryKey("refund", "s1.2.r1", REVERSE), -30, AT, order_id="s1.2", debt=30)
    ledger.reverse(gone, back, Decimal(30), 30)


def test_a_transfer_moves_total_lots_and_debt_and_closes_the_balance_once(ledger):
    # Given X with a pending lot and a debt, S with a lot of the same day
    with_debt(ledger)
    ledger.earn(earning(S, 10, "s1.3", LOT))
    read = ledger.balance(WS, X)
    assert (read.total, read.lots, read.debt, read.recorded) == (70, {LOT: 100}, 30, True)
    # When X is transferred to S, and again
    first = LedgerMerges(ledger).transfer(WS, X, S, AT)
    again = LedgerMerges(ledger).transfer(WS, X, S, AT)
    # Then S holds both (the same lot day, the debt), X is 0 and closed, both entries written once
    kept, gone = ledger.balance(WS, S), ledger.balance(WS, X)
    assert first is not None and again is None
    assert (kept.total, kept.lots, kept.debt, kept.moved_to) == (80, {LOT: 110}, 30, None)
    assert (gone.total, gone.lots, gone.debt, gone.moved_to) == (0, {}, 0, S)
    out = ledger.entry(WS, X, EntryKey(MERGE, S, TRANSFER_OUT))
    into = ledger.entry(WS, S, EntryKey(MERGE, X, TRANSFER_IN))
    assert (out.points, out.lots, out.debt) == (-70, ((LOT, -100),), -30)
    assert (into.points, into.lots, into.debt) == (70, ((LOT, 100),), 30)


def test_a_closed_balance_takes_no_write_and_a_transfer_from_a_stale_read_fails(ledger):
    # Given X with 100 points, read, then 5 more earned
    ledger.earn(earning(X, 100, "s1.1", LOT))
    stale = ledger.balance(WS, X)
    ledger.earn(earning(X, 5, "s1.9", OLD))
    merges = LedgerMerges(ledger)
    out = LedgerEntry(WS, X, EntryKey(MERGE, S, TRANSFER_OUT), -100, AT, lots=((LOT, -100),))
    into = replace(out, customer_id=S, key=EntryKey(MERGE, X, TRANSFER_IN), points=100, lots=((LOT, 100),))
    # When a transfer built on the stale read is tried, Then it fails and writes nothing
    assert ledger.transfer(out, into, stale) is False
    assert ledger.balance(WS, S).recorded is False and ledger.entry(WS, X, out.key) is None
    # When the transfer reads again, Then all 105 move; and X then takes no earning nor credit
    assert merges.transfer(WS, X, S, AT).points == 105
    assert ledger.earn(earning(X, 7, "s1.4", LOT)) is False
    assert ledger.adjust(LedgerEntry(WS, X, EntryKey(MANUAL, "k2", ADJUSTMENT), 3, AT)) is False
    assert (ledger.balance(WS, X).total, ledger.balance(WS, S).total) == (0, 105)


def test_a_reversal_of_an_earning_in_a_closed_ledger_is_written_on_the_survivor(ledger):
    # Given X's earning, transferred to S
    ledger.earn(earning(X, 100, "s1.1", LOT))
    LedgerMerges(ledger).transfer(WS, X, S, AT)
    stored = ledger.entry(WS, X, EntryKey("order", "s1.1", EARN))
    back = LedgerEntry(
        WS, S, EntryKey("refund", "s1.1.r1", REVERSE), -40, AT, order_id="s1.1", lots=((LOT, -40),)
    )
    # When the reversal is written for S against X's earning, and replayed
    done = [ledger.reverse(stored, back, Decimal(40), 40) for _ in range(2)]
    # Then the earning in X moved, the entry and points are on S, once
    assert done == [True, False]
    assert ledger.entry(WS, X, stored.key).reversed == 40
    assert ledger.entry(WS, S, back.key).points == -40 and ledger.entry(WS, X, back.key) is None
    assert (ledger.balance(WS, S).total, ledger.balance(WS, S).lots) == (60, {LOT: 60})


def test_the_balance_items_into_round_trips():
    # Given a closed balance item and an open one
    closed = {"pk": "W#ws_1#PTS#c_gone", "sk": "BAL", "pts": Decimal(0), "lt20261203": 0, "into": S}
    # When they are read, Then the closed one names the survivor, the open one none
    assert (balance_from_item(closed).moved_to, balance_from_item(closed).recorded) == (S, True)
    assert balance_from_item({"pk": "p", "sk": "BAL", "pts": Decimal(3)}).moved_to is None
    assert balance_from_item(None).recorded is False


def test_earnings_racing_the_transfer_each_land_once_and_no_point_is_lost(ledger):
    # Given X with 100 points
    ledger.earn(earning(X, 100, "s1.0", LOT))

    def earn(n: int) -> bool:
        entry = earning(X, n, f"s1.{n}", OLD if n % 2 else LOT)
        for _ in range(5):  # as the service: a closed balance is followed to the survivor
            if ledger.earn(entry):
                return True
            entry = replace(entry, customer_id=open_balance(ledger, WS, entry.customer_id)[0][-1])
        return False

    # When 8 earnings on X run in threads while X is merged into S
    with ThreadPoolExecutor(max_workers=5) as pool:
        earned = [pool.submit(earn, n) for n in range(1, 9)]
        moved = pool.submit(LedgerMerges(ledger).transfer, WS, X, S, AT)
        done = [f.result() for f in earned]
        transfer = moved.result()
    # Then every earning landed once, X is closed at 0, and S holds every point
    assert all(done) and transfer is not None
    gone, kept = ledger.balance(WS, X), ledger.balance(WS, S)
    assert (gone.total, gone.moved_to) == (0, S)
    assert kept.total == 100 + sum(range(1, 9)) == sum(kept.lots.values())
    entries = ledger.entries(WS, X, 100, None)[0] + ledger.entries(WS, S, 100, None)[0]
    assert sum(e.points for e in entries) == kept.total
    assert sorted(e.key.external_id for e in entries if e.key.kind == EARN) == [f"s1.{n}" for n in range(9)]


def test_with_expiry_on_a_transfer_lists_the_survivor_under_the_moved_lots_days(ledger):
    from tests.unit.points_orders import Settings, on

    # Given X's lot of LOT, earned while expiry was off (no bucket), and a workspace now
    # expiring by lots
    ledger.earn(earning(X, 100, "s1.1", LOT), False)
    assert list(ledger.customers_with_lot(WS, LOT)) == []
    workspaces = Settings(replace(on(), expiry="lots", expiry_days=30))
    # When X is transferred to S
    assert LedgerMerges(ledger, workspaces).transfer(WS, X, S, AT) is not None
    # Then S is listed under the moved lot's day: that day's sweep finds the lot on S
    assert list(ledger.customers_with_lot(WS, LOT)) == [S]


def test_a_merged_id_without_a_balance_is_closed_once_and_takes_no_write(ledger):
    # Given X without a balance item
    assert ledger.balance(WS, X).recorded is False
    # When it is closed into S, and again
    done = [ledger.close(WS, X, S) for _ in range(2)]
    # Then the first put an empty balance closed into S, the second found it; X takes no earning
    gone = ledger.balance(WS, X)
    assert done == [True, False]
    assert (gone.recorded, gone.moved_to, gone.total, gone.lots, gone.debt) == (True, S, 0, {}, 0)
    assert ledger.earn(earning(X, 7, "s1.4", LOT)) is False
    # And a balance that exists is never closed this way (a transfer moves it)
    ledger.earn(earning(S, 5, "s1.5", LOT))
    assert ledger.close(WS, S, X) is False and ledger.balance(WS, S).moved_to is None


def test_a_once_ever_bonus_of_both_merged_ids_is_taken_back_once_on_the_survivor(ledger):
    from chalicelib.domain.loyalty.once_ever import DUPLICATE, OnceEverBonuses
    from chalicelib.domain.loyalty.rules import BONUS

    # Given X and S each with a first-order bonus of 50, X merged into S
    key = EntryKey(BONUS, "first_order", BONUS)
    for cid in (X, S):
        ledger.earn(LedgerEntry(WS, cid, key, 50, AT))
    LedgerMerges(ledger).transfer(WS, X, S, AT)
    # When the once-ever bonuses are settled, three times
    settled = [OnceEverBonuses(ledger).settle(WS, X, AT) for _ in range(3)]
    # Then one keyed entry took X's 50 back on S, from the bonus's lot; the replays wrote nothing
    assert [e.key for e in settled[0]] == [EntryKey(MERGE, f"{X}.first_order", DUPLICATE)]
    assert settled[1:] == [[], []]
    stored = ledger.entry(WS, S, settled[0][0].key)
    assert (stored.points, stored.lots) == (-50, ((AT.date(), -50),))
    assert ledger.balance(WS, S).total == 50 and ledger.balance(WS, S).lots == {AT.date(): 50}


def test_a_merged_ids_once_ever_bonus_becomes_the_survivors_claim_and_blocks_a_second(ledger):
    from chalicelib.domain.loyalty.once_ever import OnceEverBonuses, claim_points
    from chalicelib.domain.loyalty.rules import BONUS

    # Given X with an enrolment bonus of 25, S without one, X merged into S
    key = EntryKey(BONUS, "enrolment", BONUS)
    ledger.earn(LedgerEntry(WS, X, key, 25, AT))
    LedgerMerges(ledger).transfer(WS, X, S, AT)
    # When the once-ever bonuses are settled, twice
    settled = [OnceEverBonuses(ledger).settle(WS, X, AT) for _ in range(2)]
    # Then S holds a claim of 0 points standing for X's 25, written once
    claim = ledger.entry(WS, S, key)
    assert [e.key for e in settled[0]] == [key] and settled[1] == []
    assert (claim.points, claim_points(claim), claim.reason) == (0, 25, f"merge:{X}")
    # And S's own enrolment bonus then finds the key: nothing written, the balance X's 25
    assert ledger.earn(LedgerEntry(WS, S, key, 25, AT)) is False
    assert ledger.balance(WS, S).total == 25
