"""A credit written on the balance that holds the customer's points: their own, or, when a
merge closed it (`into`), the open end of the chain (docs/loyalty.md#merged-profiles-one-balance).

An order's earning (domain/loyalty/ledger.py) and a bonus (domain/loyalty/bonuses.py) both
write their entry with a keyed, conditioned transaction; when it fails, the balance may
have been closed by a merge meanwhile, and the entry is written again on the survivor.
`write_followed` is that loop, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from chalicelib.domain.loyalty.merge import open_balance
from chalicelib.domain.loyalty.model import LedgerEntry
from chalicelib.domain.loyalty.ports import PointsLedger


class BalanceKeptMoving(RuntimeError):
    """Every attempt failed and found yet another balance to follow."""


def write_followed(
    ledger: PointsLedger,
    entry: LedgerEntry,
    write: Callable[[LedgerEntry], bool],
    attempts: int,
    meanwhile: Callable[[LedgerEntry], bool] | None = None,
    on_survivor: bool = False,
) -> LedgerEntry | None:
    """`entry` as written (on its customer's balance or a survivor's), or None: the open
    balance refused it (written before, over a cap), or, after a failed write,
    `meanwhile(entry)` found it written by another writer, or (`on_survivor`) the entry is
    already on the survivor's ledger. Raises BalanceKeptMoving after `attempts` writes."""
    for _ in range(attempts):
        if write(entry):
            return entry
        if meanwhile is not None and meanwhile(entry):
            return None
        ids, _ = open_balance(ledger, entry.workspace_id, entry.customer_id)
        survivor = ids[-1]
        if survivor == entry.customer_id:
            return None
        if on_survivor and ledger.entry(entry.workspace_id, survivor, entry.key) is not None:
            return None
        entry = replace(entry, customer_id=survivor)  # a merge closed the balance: its survivor
    raise BalanceKeptMoving(f"the {entry.key.kind} entry kept meeting closed balances")
