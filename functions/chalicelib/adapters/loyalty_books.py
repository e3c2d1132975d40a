"""The points liability's reads for the analytics report (the LoyaltyBooks port;
docs/data-model.md#the-liability-report-reads-balances-and-tiers-in-batches).

A page of customer ids becomes one `BatchGetItem` of their balance items
(`W#<ws>#PTS#<cid>` / `BAL`) and one of their tier states (`W#<ws>#TIER` / `C#<cid>`),
eventually consistent (a report, not a decision); the tally is one `GetItem`.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.points_ledger import BALANCE_SK, balance_from_item, balance_owner, ledger_pk
from chalicelib.adapters.points_tally import TALLY_SK, tally_from_item, tally_pk
from chalicelib.adapters.tier_store import STATE_PREFIX, state_from_item, states_pk
from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.tally import PointsTally


class DynamoLoyaltyBooks:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def balances_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, PointsBalance]:
        keys = [(ledger_pk(workspace_id, cid), BALANCE_SK) for cid in customer_ids]
        items = self.t.batch_get(keys, consistent=False) if keys else []
        return {balance_owner(item)[1]: balance_from_item(item) for item in items}

    def tiers_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, str | None]:
        keys = [(states_pk(workspace_id), STATE_PREFIX + cid) for cid in customer_ids]
        items = self.t.batch_get(keys, consistent=False) if keys else []
        states = [state_from_item(item) for item in items]
        return {state.customer_id: state.tier for state in states}

    def tally(self, workspace_id: str) -> PointsTally:
        return tally_from_item(self.t.get(tally_pk(workspace_id), TALLY_SK))
