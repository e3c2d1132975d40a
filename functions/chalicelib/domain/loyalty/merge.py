"""Merged profiles' ledgers become one balance (docs/loyalty.md#merged-profiles-one-balance).

When a profile X is merged into S (S's profile lists X in `merged_ids`), the CRM stream's
profile consumer calls `LedgerMerges.on_profile`: for a newly merged id without a balance
item, a conditional put of an empty, closed one (so a stale write for X follows to S); for
each newly merged id with a balance item, one transaction writes X's entry (`merge`, S,
`transfer_out`: minus its total, its lots and debt), empties X's balance and closes it
(`moved_to` = S; conditioned on every lot and the debt being exactly as read), and writes
S's entry (`merge`, X, `transfer_in`) with the same total, lots (the same days: pending
stays pending) and debt on S's balance. A replay finds X closed and does nothing; a lost
race (X's balance moved) reads again. When the workspace expires points, S is first listed
under each moved lot's day (`mark_lot_day`, idempotent), so the sweep of that day finds the
lot on S's balance. Then X's once-ever bonuses are settled on S (once_ever.py).

X's entries stay where they were written: an order's pointer still finds its earning in
X. Every later write to X's balance fails on its closure, and the writer follows
`moved_to` (`open_balance`): an earning or a spend lands on S; a reversal of an earning in
X moves that earning by compare-and-set in X and writes its entry and balance change on S,
planned on S's lots. The tiers read the entries of S and of every id merged into it.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.chain import HOPS, open_balance
from chalicelib.domain.loyalty.model import (
    MERGE,
    TRANSFER_IN,
    TRANSFER_OUT,
    EntryKey,
    LedgerEntry,
)
from chalicelib.domain.loyalty.once_ever import OnceEverBonuses
from chalicelib.domain.loyalty.ports import LoyaltySettings, MergeLedger

__all__ = ["HOPS", "LedgerMerges", "open_balance"]  # (open_balance, HOPS: from chain.py, as before)

ATTEMPTS = 5  # the merged-away balance moved between the read and the transfer: read again


class LedgerMerges:
    def __init__(self, ledger: MergeLedger, workspaces: LoyaltySettings | None = None) -> None:
        self.ledger = ledger
        self.workspaces = workspaces  # the expiry policy: list the survivor under moved lots

    def _expires(self, workspace_id: str) -> bool:
        settings = self.workspaces.settings(workspace_id) if self.workspaces is not None else None
        return settings is not None and settings.loyalty.lists_lot_days

    def on_profile(
        self, before: CustomerProfile | None, after: CustomerProfile, now: datetime
    ) -> list[LedgerEntry]:
        """The CRM stream's hook: the transfers of the ids newly merged into `after`, then
        their once-ever bonuses settled (domain/loyalty/once_ever.py); none for a change that
        merged nothing: no read."""
        known = set(before.merged_ids or ()) if before is not None else set()
        new = [x for x in dict.fromkeys(after.merged_ids or ()) if x not in known and x != after.customer_id]
        moved = [self.transfer(after.workspace_id, x, after.customer_id, now) for x in new]
        settled = [e for x in new for e in OnceEverBonuses(self.ledger).settle(after.workspace_id, x, now)]
        return [entry for entry in moved if entry is not None] + settled

    def transfer(
        self, workspace_id: str, merged_id: str, survivor_id: str, now: datetime
    ) -> LedgerEntry | None:
        """Moves `merged_id`'s balance to the survivor (or where the survivor's own balance
        moved since): the survivor's `transfer_in` entry, or None when there is nothing to
        move (no balance item: one is put, empty and closed) or it was moved before."""
        for _ in range(ATTEMPTS):
            read = self.ledger.balance(workspace_id, merged_id)
            if read.moved_to is not None:
                return None
            ids, _ = open_balance(self.ledger, workspace_id, survivor_id)
            target = ids[-1]
            if target == merged_id:
                return None  # (the survivor's balance was moved into this id: nothing to join)
            if not read.recorded:  # nothing to move: closed all the same, so stale writes follow
                if self.ledger.close(workspace_id, merged_id, target):
                    return None
                continue  # a balance appeared meanwhile (a stale write): move it
            lots = tuple(sorted((day, n) for day, n in read.lots.items() if n))
            out = LedgerEntry(
                workspace_id=workspace_id,
                customer_id=merged_id,
                key=EntryKey(MERGE, target, TRANSFER_OUT),
                points=-read.total,
                at=now,
                lots=tuple((day, -n) for day, n in lots),
                debt=-read.debt,
            )
            into = LedgerEntry(
                workspace_id=workspace_id,
                customer_id=target,
                key=EntryKey(MERGE, merged_id, TRANSFER_IN),
                points=read.total,
                at=now,
                lots=lots,
                debt=read.debt,
            )
            if self._expires(workspace_id):  # before the transaction, as a credit's buckets
                for day, n in lots:
                    if n > 0:
                        self.ledger.mark_lot_day(workspace_id, target, day)
            if self.ledger.transfer(out, into, read):
                return into
        raise RuntimeError("the merged-away balance kept changing; the stream retries the record")
