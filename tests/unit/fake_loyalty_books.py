"""The liability report's reads in memory (the LoyaltyBooks port) over the fake ledger, tier
store and tally, for unit tests and the contract suite."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.tally import PointsTally
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_points_tally import FakePointsTally
from tests.unit.fake_tiers import FakeTierStore


class FakeLoyaltyBooks:
    def __init__(
        self,
        ledger: FakePointsLedger | None = None,
        tiers: FakeTierStore | None = None,
        eraser: FakePointsTally | None = None,
    ) -> None:
        self.ledger = ledger or (eraser.ledger if eraser else FakePointsLedger())
        self.tier_store = tiers or FakeTierStore()
        self.eraser = eraser or FakePointsTally(self.ledger)
        self.batches: list[int] = []  # the ids asked for, per batch read (balances, then tiers)

    def balances_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, PointsBalance]:
        self.batches.append(len(customer_ids))
        return {
            cid: self.ledger.balance(workspace_id, cid)
            for cid in customer_ids
            if (workspace_id, cid) in self.ledger.balances
        }

    def tiers_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, str | None]:
        self.batches.append(len(customer_ids))
        states = (self.tier_store.get(workspace_id, cid) for cid in customer_ids)
        return {state.customer_id: state.tier for state in states if state is not None}

    def tally(self, workspace_id: str) -> PointsTally:
        return self.eraser.tally(workspace_id)
