"""A customer's points balance and tier state in one `BatchGetItem` (the profile's
`loyalty` block, templates, segments: docs/data-model.md#points-ledger). The items'
layouts are the ledger's and the tier store's (`balance_from_item`, `state_from_item`)."""

from __future__ import annotations

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.points_ledger import BALANCE_SK, balance_from_item, ledger_pk
from chalicelib.adapters.tier_store import STATE_PREFIX, state_from_item, states_pk
from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.tiers import TierState


class DynamoLoyaltyItems:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def balance_and_tier(
        self, workspace_id: str, customer_id: str, with_tier: bool
    ) -> tuple[PointsBalance, TierState | None]:
        balance_key = (ledger_pk(workspace_id, customer_id), BALANCE_SK)
        tier_key = (states_pk(workspace_id), STATE_PREFIX + customer_id)
        found = self.t.batch_get([balance_key, tier_key] if with_tier else [balance_key])
        by_pk = {str(item["pk"]): item for item in found}
        tier = by_pk.get(tier_key[0]) if with_tier else None
        return balance_from_item(by_pk.get(balance_key[0])), state_from_item(tier) if tier else None
