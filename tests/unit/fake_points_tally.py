"""The anonymous points tally in memory (the LedgerEraser port) over the fake ledger, for
unit tests and the contract suite."""

from __future__ import annotations

from chalicelib.domain.loyalty.model import EARN
from chalicelib.domain.loyalty.tally import PointsTally, fold
from tests.unit.fake_points import FakePointsLedger

PAGE = 40


class Crash(Exception):
    """An erasure stopped half-way (a Lambda timing out between two pages)."""


class FakePointsTally:
    def __init__(self, ledger: FakePointsLedger | None = None) -> None:
        self.ledger = ledger or FakePointsLedger()
        self.tallies: dict[str, PointsTally] = {}
        self.pages_before_crash: int | None = None  # crash before writing the page after these

    def tally(self, workspace_id: str) -> PointsTally:
        return self.tallies.get(workspace_id, PointsTally())

    def fold(self, workspace_id: str, customer_id: str) -> int:
        folded = 0
        while True:
            page, _ = self.ledger.entries(workspace_id, customer_id, PAGE, None)
            if not page:
                break
            if self.pages_before_crash is not None:
                if self.pages_before_crash == 0:
                    self.pages_before_crash = None  # once: the retry runs to the end
                    raise Crash()
                self.pages_before_crash -= 1
            with self.ledger.lock:  # one page, all or nothing
                ledger = self.ledger.ledgers[(workspace_id, customer_id)]
                for entry in page:
                    del ledger[entry.key]
                    if entry.key.kind == EARN and entry.order_id:
                        self.ledger.earnings.pop((workspace_id, entry.order_id), None)
                    total, lots, debt = self.ledger.balances[(workspace_id, customer_id)]
                    lots = dict(lots)
                    for day, n in entry.lots:
                        lots[day] = lots.get(day, 0) - n
                    self.ledger.balances[(workspace_id, customer_id)] = (
                        total - entry.points,
                        lots,
                        debt - entry.debt,
                    )
                self.tallies[workspace_id] = self.tally(workspace_id).plus(fold(page))
                folded += len(page)
        balance = self.ledger.balances.get((workspace_id, customer_id))
        if balance is not None and balance[0] == 0:
            del self.ledger.balances[(workspace_id, customer_id)]
            self.ledger.ledgers.pop((workspace_id, customer_id), None)
            self.tallies[workspace_id] = self.tally(workspace_id).plus(PointsTally(customers=1))
        return folded
