"""The points ledger in memory (the PointsLedger port), for unit tests and the contract suite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from chalicelib.domain.loyalty.lots import with_credit_lot
from chalicelib.domain.loyalty.model import (
    EARN,
    GIVEN_BACK,
    MADE,
    PENDING,
    EntryKey,
    LedgerEntry,
    PointsBalance,
    is_activity,
)
from chalicelib.domain.loyalty.rules import CapCounter


class FakePointsLedger:
    def __init__(self) -> None:
        # (ws, cid) -> {key: entry}; (ws, cid) -> (total, {day: lot}, debt)
        self.ledgers: dict[tuple[str, str], dict[EntryKey, LedgerEntry]] = {}
        self.balances: dict[tuple[str, str], tuple[int, dict[date, int], int]] = {}  # total, lots, debt
        self.earnings: dict[tuple[str, str], str] = {}  # (ws, order id) -> the customer holding it
        self.into: dict[tuple[str, str], str] = {}  # a merge closed the balance: moved to this id
        self.lock = threading.Lock()
        self.lot_days: dict[tuple[str, date], set[str]] = {}  # (ws, lot day) -> customers credited
        self.last_activity: dict[tuple[str, str], datetime] = {}  # the balance's `la`

    def _add(self, entry: LedgerEntry) -> bool:
        """The balance's ADDs, each taken lot and settled debt conditioned (as the adapter)."""
        total, lots, debt = self.balances.get((entry.workspace_id, entry.customer_id), (0, {}, 0))
        if (entry.workspace_id, entry.customer_id) in self.into:
            return False
        if any(n < 0 and lots.get(day, 0) < -n for day, n in entry.lots) or debt < -entry.debt:
            return False
        lots = dict(lots)
        for day, n in entry.lots:
            lots[day] = lots.get(day, 0) + n
        self.balances[(entry.workspace_id, entry.customer_id)] = (
            total + entry.points,
            lots,
            debt + entry.debt,
        )
        if is_activity(entry):
            self.last_activity[(entry.workspace_id, entry.customer_id)] = entry.at
        return True

    def _list(self, entry: LedgerEntry, list_lots: bool) -> None:
        """The lot-day buckets of the lots a credit adds to (as the adapter: not for a transfer)."""
        for day, n in entry.lots if list_lots else ():
            if n > 0:
                self.mark_lot_day(entry.workspace_id, entry.customer_id, day)

    def mark_lot_day(self, workspace_id: str, customer_id: str, day: date) -> None:
        self.lot_days.setdefault((workspace_id, day), set()).add(customer_id)

    def expire_inactive(self, entry: LedgerEntry, last_activity: datetime) -> bool:
        with self.lock:
            if self.last_activity.get((entry.workspace_id, entry.customer_id)) != last_activity:
                return False
            ledger = self.ledgers.setdefault((entry.workspace_id, entry.customer_id), {})
            if entry.key in ledger or not self._add(entry):
                return False
            ledger[entry.key] = entry
            return True

    def customers_with_lot(self, workspace_id: str, lot_day: date) -> Iterator[str]:
        yield from sorted(self.lot_days.get((workspace_id, lot_day), set()))

    def entry(self, workspace_id: str, customer_id: str, key: EntryKey) -> LedgerEntry | None:
        return self.ledgers.get((workspace_id, customer_id), {}).get(key)

    def earning_of(self, workspace_id: str, order_id: str) -> LedgerEntry | None:
        customer_id = self.earnings.get((workspace_id, order_id))
        return (
            None
            if customer_id is None
            else self.entry(workspace_id, customer_id, EntryKey("order", order_id, EARN))
        )

    def earn(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        entry = with_credit_lot(entry)
        self._list(entry, list_lots)
        with self.lock:
            ledger = self.ledgers.setdefault((entry.workspace_id, entry.customer_id), {})
            if entry.key in ledger or not self._add(entry):
                return False
            ledger[entry.key] = entry
            if entry.key.kind == EARN and entry.order_id:
                self.earnings[(entry.workspace_id, entry.order_id)] = entry.customer_id
            return True

    def reverse(
        self,
        earning: LedgerEntry,
        reversal: LedgerEntry,
        refunded: Decimal,
        reversed_points: int,
        returned: Decimal | None = None,
    ) -> bool:
        with self.lock:
            ledger = self.ledgers.setdefault((earning.workspace_id, earning.customer_id), {})
            # the reversal's own ledger: the earning's, or a merge's survivor's
            into = self.ledgers.setdefault((reversal.workspace_id, reversal.customer_id), {})
            stored = ledger.get(earning.key)
            if stored is None or reversal.key in into:
                return False
            if stored.refunded != earning.refunded or stored.reversed != earning.reversed:
                return False
            if stored.returned != earning.returned:
                return False
            if reversal.points and not self._add(reversal):
                return False
            ledger[earning.key] = replace(
                stored,
                refunded=refunded,
                reversed=reversed_points,
                cancelled=earning.cancelled,
                returned=earning.returned if returned is None else returned,
            )
            into[reversal.key] = reversal
            return True

    def adjust(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        entry = with_credit_lot(entry)
        self._list(entry, list_lots)
        with self.lock:  # the contract's concurrent spends: one check-and-write at a time
            ledger = self.ledgers.setdefault((entry.workspace_id, entry.customer_id), {})
            if entry.key in ledger or not self._add(entry):
                return False
            ledger[entry.key] = entry
            return True

    def _settle(self, entry: LedgerEntry, state: str) -> bool:
        ledger = self.ledgers.get((entry.workspace_id, entry.customer_id), {})
        stored = ledger.get(entry.key)
        if stored is None or stored.state not in (None, PENDING):
            return False
        ledger[entry.key] = replace(stored, state=state)
        return True

    def confirm(self, entry: LedgerEntry) -> bool:
        with self.lock:
            return self._settle(entry, MADE)

    def give_back(self, entry: LedgerEntry, back: LedgerEntry) -> bool:
        back = with_credit_lot(back)
        with self.lock:  # all or nothing, as the adapter's transaction
            ledger = self.ledgers.setdefault((back.workspace_id, back.customer_id), {})
            stored = self.ledgers.get((entry.workspace_id, entry.customer_id), {}).get(entry.key)
            if stored is None or stored.state not in (None, PENDING) or back.key in ledger:
                return False
            if not self._add(back):
                return False
            ledger[back.key] = back
            return self._settle(entry, GIVEN_BACK)

    def balance(self, workspace_id: str, customer_id: str) -> PointsBalance:
        total, lots, debt = self.balances.get((workspace_id, customer_id), (0, {}, 0))
        return PointsBalance(
            total=total,
            lots={d: n for d, n in lots.items() if n},
            debt=debt,
            last_activity=self.last_activity.get((workspace_id, customer_id)),
            moved_to=self.into.get((workspace_id, customer_id)),
            recorded=(workspace_id, customer_id) in self.balances,
        )

    def transfer(self, out: LedgerEntry, into: LedgerEntry, read: PointsBalance) -> bool:
        with self.lock:
            gone, kept = (out.workspace_id, out.customer_id), (into.workspace_id, into.customer_id)
            total, lots, debt = self.balances.get(gone, (0, {}, 0))
            exact = (total, {d: n for d, n in lots.items() if n}, debt) == (read.total, read.lots, read.debt)
            ledger, survivor = self.ledgers.setdefault(gone, {}), self.ledgers.setdefault(kept, {})
            if not exact or gone in self.into or kept in self.into:
                return False
            if out.key in ledger or into.key in survivor:
                return False
            self._add(out)
            self._add(into)
            self.into[gone] = into.customer_id
            ledger[out.key], survivor[into.key] = out, into
            return True

    def close(self, workspace_id: str, customer_id: str, into: str) -> bool:
        with self.lock:
            if (workspace_id, customer_id) in self.balances:
                return False
            self.balances[(workspace_id, customer_id)] = (0, {}, 0)
            self.into[(workspace_id, customer_id)] = into
            return True

    def entries(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        def sk(key: EntryKey) -> str:
            return f"E#{key.source}#{key.external_id}#{key.kind}"

        ordered = sorted(self.ledgers.get((workspace_id, customer_id), {}).values(), key=lambda e: sk(e.key))
        after = [e for e in ordered if cursor is None or sk(e.key) > cursor]
        page = after[:limit]
        return page, (sk(page[-1].key) if len(after) > limit else None)

    _cap_lock = threading.Lock()  # its own (earn may take self.lock): check, count and write at once

    def earn_capped(self, entry: LedgerEntry, cap: CapCounter, list_lots: bool = True) -> bool:
        with self._cap_lock:
            counts: dict[tuple[str, str, str, str], int] = self.__dict__.setdefault("cap_counts", {})
            counted = (entry.workspace_id, entry.customer_id, cap.action, cap.period_key)
            if self.entry(entry.workspace_id, entry.customer_id, entry.key) is not None:
                return False
            if counts.get(counted, 0) >= cap.max:
                return False
            if not self.earn(entry, list_lots):  # (a closed balance: nothing written, nothing counted)
                return False
            counts[counted] = counts.get(counted, 0) + 1
            return True
