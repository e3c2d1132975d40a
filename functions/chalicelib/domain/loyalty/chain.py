"""The chain of merges a closed balance follows (docs/loyalty.md#merged-profiles-one-balance):
from a merged-away id along `moved_to` to the open balance (merge.py, once_ever.py, and
every writer that meets a closed balance)."""

from __future__ import annotations

from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.ports import PointsLedger

HOPS = 8  # merges chained X -> S -> T ...: at most this many closed balances followed


def open_balance(
    ledger: PointsLedger, workspace_id: str, customer_id: str
) -> tuple[list[str], PointsBalance]:
    """The ids from `customer_id` along the merges that closed their balances (the last one
    open), and the open balance. One read for a customer never merged away."""
    ids = [customer_id]
    balance = ledger.balance(workspace_id, customer_id)
    while balance.moved_to is not None:
        if len(ids) > HOPS or balance.moved_to in ids:
            raise RuntimeError("the merged balances do not end in an open one")
        ids.append(balance.moved_to)
        balance = ledger.balance(workspace_id, balance.moved_to)
    return ids, balance
