"""Once-per-person bonuses across a merge (docs/loyalty.md#merged-profiles-one-balance).

The automatic bonuses are once per person: `first_order` and `enrolment` ever, `birthday`
once a year (`birthday:<year>`); the entry ("bonus", action, "bonus") is written at most
once in a ledger. Two profiles merged are one person, so after X's balance moved to S
(domain/loyalty/merge.py) each bonus of X is settled by key, append-only, on S's balance
(the open end of X's merges):

- X holds the bonus and S none: S gets a *claim*, the same key with 0 points (`amount`:
  the bonus's points it stands for, `reason`: `merge:X`), so S's later first order,
  enrolment or birthday that year finds the key and credits nothing (the points came
  with X's balance);
- both hold it: X's points are taken back on S by one keyed entry
  ("merge", "<X>.<action>", "duplicate"), planned as a reversal (the bonus's lot first,
  then the oldest; what was spent already is debt);
- a claim of X's from an earlier merge counts as X holding the bonus.

Each write is conditional (a new key on an open balance, every lot it takes holding
enough): a bonus credited to S concurrently wins or loses the key against the claim, and
the loser reads again. A replay finds its claim or its reversal and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chalicelib.domain.loyalty.chain import open_balance
from chalicelib.domain.loyalty.lots import plan_reversal
from chalicelib.domain.loyalty.model import MERGE, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.ports import MergeLedger
from chalicelib.domain.loyalty.rules import BONUS

PAGE = 100  # the merged id's ledger, read a page at a time
DUPLICATE = "duplicate"  # the kind of the entry taking a merged id's duplicate bonus back
CLAIM = "merge:"  # a claim's `reason`: the merged id whose bonus it stands for
ATTEMPTS = 5


def claim_points(entry: LedgerEntry) -> int:
    """The bonus points a once-ever entry stands for: its own, or a claim's `amount`."""
    return entry.points if entry.points else int(entry.amount or 0)


def duplicate_key(merged_id: str, action: str) -> EntryKey:
    return EntryKey(MERGE, f"{merged_id}.{action}", DUPLICATE)


class OnceEverBonuses:
    def __init__(self, ledger: MergeLedger) -> None:
        self.ledger = ledger

    def settle(self, workspace_id: str, merged_id: str, now: datetime) -> list[LedgerEntry]:
        """The claims and reversals written for `merged_id`'s once-per-person bonuses (none
        on a replay, or when its balance is not closed into another). Its ledger is read a
        page at a time (closed: it takes no new entry); its automatic bonuses are the entries
        ("bonus", <action>, "bonus"): `first_order`, `enrolment`, `birthday:<year>`."""
        held: list[LedgerEntry] = []
        cursor: str | None = None
        while True:
            page, cursor = self.ledger.entries(workspace_id, merged_id, PAGE, cursor)
            held += [e for e in page if e.key.source == BONUS and e.key.kind == BONUS and claim_points(e)]
            if cursor is None:
                break
        written: list[LedgerEntry] = []
        for entry in held:
            done = self._settle(workspace_id, merged_id, entry, now)
            if done is not None:
                written.append(done)
        return written

    def _settle(
        self, workspace_id: str, merged_id: str, held: LedgerEntry, now: datetime
    ) -> LedgerEntry | None:
        key, action, points = held.key, held.key.external_id, claim_points(held)
        for _ in range(ATTEMPTS):
            ids, balance = open_balance(self.ledger, workspace_id, merged_id)
            target = ids[-1]
            if target == merged_id:
                return None  # not merged away (yet): nothing to settle
            theirs = self.ledger.entry(workspace_id, target, key)
            if theirs is None:
                claim = LedgerEntry(
                    workspace_id=workspace_id,
                    customer_id=target,
                    key=key,
                    points=0,
                    at=now,
                    amount=Decimal(points),
                    reason=CLAIM + merged_id,
                )
                if self.ledger.adjust(claim, False):
                    return claim
                continue  # the survivor's own bonus won the key, or its balance moved on
            if self._settled(workspace_id, ids[1:], key, merged_id, action, theirs):
                return None  # this merge's claim or reversal, written before
            own = held.lots[0][0] if held.lots else None
            plan = plan_reversal(balance.lots, own, points)
            reversal = LedgerEntry(
                workspace_id=workspace_id,
                customer_id=target,
                key=duplicate_key(merged_id, action),
                points=-points,
                at=now,
                lots=plan.lots,
                debt=plan.debt,
                reason=f"{action} bonus twice for one person",
            )
            if self.ledger.adjust(reversal, False):
                return reversal
        raise RuntimeError("the survivor's balance kept changing; the stream retries the record")

    def _settled(
        self,
        workspace_id: str,
        chain: list[str],
        key: EntryKey,
        merged_id: str,
        action: str,
        theirs: LedgerEntry,
    ) -> bool:
        """`merged_id`'s claim or duplicate's reversal is in a ledger along its chain of
        merges (the survivor's, or one it was merged into since)."""
        if theirs.reason == CLAIM + merged_id:
            return True
        dup = duplicate_key(merged_id, action)
        for cid in chain:
            if self.ledger.entry(workspace_id, cid, dup) is not None:
                return True
            found = self.ledger.entry(workspace_id, cid, key) if cid != chain[-1] else theirs
            if found is not None and found.reason == CLAIM + merged_id:
                return True
        return False
