"""The workspace's anonymous points tally: what erased customers' ledgers held.

Erasing a customer folds their ledger into the tally (docs/loyalty.md#erasure): each page
of entries leaves the ledger in the same all-or-nothing write that subtracts it from the
customer's balance and adds it here, so the tally plus the remaining ledgers always hold
what the ledgers held before. The tally keeps sums only: points by entry kind, the lots
by day and the debt, never a customer, an order or a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from chalicelib.domain.loyalty.model import LedgerEntry, PointsBalance, PointsView

K = TypeVar("K")


@dataclass(frozen=True)
class PointsTally:
    total: int = 0  # the sum of every folded entry's points: outstanding (may be below 0)
    by_kind: dict[str, int] = field(default_factory=dict)  # signed points per entry kind
    lots: dict[date, int] = field(default_factory=dict)  # the folded entries' lots, by day
    entries: int = 0  # entries folded
    customers: int = 0  # ledgers closed (their balance item deleted)
    debt: int = 0  # the folded entries' debt (total == sum(lots) - debt, as a balance)

    def view(self, today: date) -> PointsView:
        return PointsBalance(self.total, self.lots, self.debt).view(today)

    def earned(self) -> int:
        return self.by_kind.get("earn", 0)

    def plus(self, other: PointsTally) -> PointsTally:
        return PointsTally(
            total=self.total + other.total,
            by_kind=_merge(self.by_kind, other.by_kind),
            lots=_merge(self.lots, other.lots),
            entries=self.entries + other.entries,
            customers=self.customers + other.customers,
            debt=self.debt + other.debt,
        )


def fold(entries: Iterable[LedgerEntry]) -> PointsTally:
    """What these entries add to the tally (and take from their balance)."""
    by_kind: dict[str, int] = {}
    lots: dict[date, int] = {}
    total = count = debt = 0
    for entry in entries:
        total += entry.points
        count += 1
        debt += entry.debt
        by_kind[entry.key.kind] = by_kind.get(entry.key.kind, 0) + entry.points
        for day, n in entry.lots:  # the lots and debt the entry moved on its balance
            lots[day] = lots.get(day, 0) + n
    return PointsTally(total=total, by_kind=by_kind, lots=lots, entries=count, debt=debt)


def _merge(a: dict[K, int], b: dict[K, int]) -> dict[K, int]:
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return out
