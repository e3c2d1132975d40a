"""Many redeemers on one balance, on moto (threads as Lambda instances): every redemption is
a transaction conditioned on the lots it takes, so the balance is never overdrawn, no lot
goes below zero, and the balance is the sum of the ledger."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.points_ledger import DynamoPointsLedger
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import Conflict
from chalicelib.domain.loyalty.adjust import PointsRefused
from chalicelib.domain.loyalty.model import REDEEM, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from tests.contract import moto_stage
from tests.integration.test_contract_points_ledger import atomic_transactions
from tests.unit.points_orders import CID, WS, Settings, on

__all__ = ["atomic_transactions", "moto_stage"]  # the fixtures this module uses
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LOTS = {date(2026, 10, 1): 900, date(2026, 11, 1): 700, date(2026, 12, 1): 600, date(2026, 12, 20): 800}


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return CustomerProfile(WS, CID)  # (a redemption also reads its merged ids)


def test_eight_concurrent_redeemers_never_overdraw_one_balance(moto_stage, atomic_transactions):
    # Given 2,200 available points in three lots and 800 pending, redeemed as store credit
    ledger = DynamoPointsLedger(moto_stage.crm)
    for n, (day, points) in enumerate(LOTS.items()):
        credit = LedgerEntry(
            WS, CID, EntryKey("manual", f"c{n}", "adjustment"), points, NOW, lots=((day, points),)
        )
        assert ledger.adjust(credit)
    rules = Settings(replace(on(), redeem_as="store_credit", redeem_min_points=1))
    service = PointsRedemptions(ledger, rules, Profiles())  # type: ignore[arg-type]
    barrier = threading.Barrier(8)

    def redeemer(worker: int) -> list[int]:
        barrier.wait()
        done = []
        for n in range(12):
            points = 50 + 37 * ((worker * 12 + n) % 7)
            try:
                entry = service.redeem(WS, CID, RedeemIn(points=points), f"w{worker}-{n}", NOW)
            except (PointsRefused, Conflict):
                continue
            done.append(-entry.points)
        return done

    # When 8 redeemers ask for 96 redemptions (more than the balance holds) at once
    with ThreadPoolExecutor(8) as pool:
        redeemed = [p for got in pool.map(redeemer, range(8)) for p in got]
    # Then the total redeemed is at most the 2,200 available, and the pending lot is untouched
    balance = ledger.balance(WS, CID)
    entries, cursor = ledger.entries(WS, CID, 500, None)
    assert cursor is None and len(redeemed) >= 5
    assert sum(redeemed) <= 2200 and balance.total == 3000 - sum(redeemed)
    assert balance.lots.get(date(2026, 12, 20)) == 800
    # And no lot is below zero, the balance is the sum of the ledger and of its lots' changes
    assert min(balance.lots.values()) >= 0 and balance.debt == 0
    assert balance.total == sum(e.points for e in entries) == sum(balance.lots.values())
    by_day: dict[date, int] = {}
    for e in entries:
        for day, n in e.lots:
            by_day[day] = by_day.get(day, 0) + n
    assert {d: n for d, n in by_day.items() if n} == balance.lots
    # And each redemption written is one entry, with its money value
    spent = [e for e in entries if e.key.kind == REDEEM]
    assert sorted(-e.points for e in spent) == sorted(redeemed)
    assert all(e.amount == Decimal(-e.points) / 100 for e in spent)
