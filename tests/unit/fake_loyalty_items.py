"""A customer's balance and tier state read together, over the ledger's and tiers' fakes
(the LoyaltyItems port)."""

from __future__ import annotations

from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.tiers import TierState
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore


class FakeLoyaltyItems:
    def __init__(self, ledger: FakePointsLedger, tiers: FakeTierStore) -> None:
        self.ledger = ledger
        self.tiers = tiers
        self.reads = 0

    def balance_and_tier(
        self, workspace_id: str, customer_id: str, with_tier: bool
    ) -> tuple[PointsBalance, TierState | None]:
        self.reads += 1
        balance = self.ledger.balance(workspace_id, customer_id)
        return balance, self.tiers.get(workspace_id, customer_id) if with_tier else None
