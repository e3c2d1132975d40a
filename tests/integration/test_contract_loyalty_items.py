"""The LoyaltyItems port's contract: a customer's balance and tier state read together, as
the ledger and the tier store wrote them; run against the unit tests' fake and the
DynamoDB adapter on moto (one `BatchGetItem`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.adapters.loyalty_items import DynamoLoyaltyItems
from chalicelib.adapters.points_ledger import DynamoPointsLedger
from chalicelib.adapters.tier_store import DynamoTierStore
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.tiers import TierState
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_loyalty_items import FakeLoyaltyItems
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore

WS, CID = "ws_1", "c_1"
PAID = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _fake() -> tuple:
    ledger, tiers = FakePointsLedger(), FakeTierStore()
    return ledger, tiers, FakeLoyaltyItems(ledger, tiers)


def _on_moto(stage: MotoStage) -> tuple:
    return DynamoPointsLedger(stage.crm), DynamoTierStore(stage.crm), DynamoLoyaltyItems(stage.crm)


stores = port_fixture(_fake, _on_moto)
__all__ = ["moto_stage"]  # the fixture the moto side asks for


def test_the_balance_and_the_tier_state_are_read_together(stores):
    ledger, tiers, items = stores
    # Given nothing for the customer yet
    # When both are read, Then an empty balance and no state
    empty, none = items.balance_and_tier(WS, CID, True)
    assert (empty.total, empty.lots, empty.debt, none) == (0, {}, 0, None)
    # Given an earning of 122 points pending until 3 December, and a silver state
    earning = LedgerEntry(
        WS,
        CID,
        EntryKey("order", "s1.1001", EARN),
        122,
        PAID,
        order_id="s1.1001",
        available_on=date(2026, 12, 3),
    )
    assert ledger.earn(earning)
    assert tiers.save(TierState(WS, CID, "silver", PAID, Decimal(122)), None)
    # When both are read, and the balance alone
    balance, state = items.balance_and_tier(WS, CID, True)
    alone, no_state = items.balance_and_tier(WS, CID, False)
    # Then they are what the ledger and the tier store hold
    assert (balance.total, balance.lots, balance.debt) == (122, {date(2026, 12, 3): 122}, 0)
    assert balance == ledger.balance(WS, CID) == alone
    assert state == tiers.get(WS, CID) and state is not None and state.tier == "silver"
    assert no_state is None
