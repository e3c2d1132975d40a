"""The BonusLedger port's contract (`earn_capped`): one suite, run against the unit tests'
fake and the DynamoDB adapter on moto: a capped bonus's entry, its points and its counter
move together or not at all; a replay never counts; concurrent bonuses never pass the cap."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from chalicelib.adapters.points_ledger import DynamoPointsLedger
from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry
from chalicelib.domain.loyalty.rules import BONUS, CapCounter
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.integration.test_contract_points_ledger import atomic_transactions
from tests.unit.fake_points import FakePointsLedger

WS, CID = "ws_1", "c_1"
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _on_moto(stage: MotoStage) -> DynamoPointsLedger:
    return DynamoPointsLedger(stage.crm)


ledger = port_fixture(FakePointsLedger, _on_moto)
# moto's side, its transactions made atomic across threads as DynamoDB's are: with every
# balance `ADD` conditioned (a merge's `into`), two racing bonuses often both passed moto's cap
__all__ = ["atomic_transactions", "moto_stage"]


def bonus(external_id: str, points: int = 50, cid: str = CID) -> LedgerEntry:
    return LedgerEntry(WS, cid, EntryKey("review", external_id, BONUS), points, AT)


def test_a_capped_bonus_is_written_once_and_stops_at_the_cap(ledger):
    # Given reviews capped at 2 for the day
    cap = CapCounter("review", "2026-12-06", 2)
    # When r-1 is written three times, then r-2 and r-3
    r1 = [ledger.earn_capped(bonus("r-1"), cap) for _ in range(3)]
    r2, r3 = ledger.earn_capped(bonus("r-2"), cap), ledger.earn_capped(bonus("r-3"), cap)
    # Then r-1 and r-2 are written once each, r-3 nothing; the balance is their sum
    assert (r1, r2, r3) == ([True, False, False], True, False)
    entries = ledger.entries(WS, CID, 10, None)[0]
    assert [e.key.external_id for e in entries] == ["r-1", "r-2"]
    assert all((e.key.kind, e.points, e.at) == (BONUS, 50, AT) for e in entries)
    assert ledger.balance(WS, CID).total == 100


def test_caps_count_per_period_and_per_customer(ledger):
    # Given reviews capped at 1 a day, reached on 6 December by c_1
    assert ledger.earn_capped(bonus("r-1"), CapCounter("review", "2026-12-06", 1))
    # When c_1 reviews again on 7 December, and c_2 on 6 December
    next_day = ledger.earn_capped(bonus("r-2"), CapCounter("review", "2026-12-07", 1))
    other = ledger.earn_capped(bonus("r-3", cid="c_2"), CapCounter("review", "2026-12-06", 1))
    # Then both are written: a new period's counter, another customer's counter
    assert (next_day, other) == (True, True)
    assert (ledger.balance(WS, CID).total, ledger.balance(WS, "c_2").total) == (100, 50)


def test_two_concurrent_bonuses_for_the_last_place_under_the_cap_one_succeeds(ledger, atomic_transactions):
    # Given a review cap of 2 a day, each day with one review already counted (8 days)
    for day in range(1, 9):
        cap = CapCounter("review", f"2026-12-{day:02d}", 2)
        assert ledger.earn_capped(bonus(f"r-{day}-0"), cap)
        barrier = threading.Barrier(2)

        def review(n: int, c: CapCounter = cap, d: int = day, gate: threading.Barrier = barrier) -> bool:
            gate.wait()
            return ledger.earn_capped(bonus(f"r-{d}-{n + 1}"), c)

        # When two more reviews of that day are written at once
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(review, range(2)))
        # Then exactly one is written (the balance is not compared here: moto undoes a
        # cancelled transaction by restoring a copy of the whole table, which can drop the
        # concurrent winner's ADD; DynamoDB's transactions are serializable)
        assert sorted(results) == [False, True]
