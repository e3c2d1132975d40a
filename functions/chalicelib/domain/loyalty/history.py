"""A history import's points, by the workspace's import policy (docs/loyalty.md, "Historical
orders from an import").

An order an import stored past payment is *historical* (`OrderImage.historical`): it never
earns live, even when its webhooks follow. With the policy "none" (the default) it earns
nothing. With "historical", the import's end-of-run recompute gives each touched customer
one ledger entry, ("import", "historical", "earn"):

- points = floor(the sum of the customer's historical paid orders' net earning base (the
  total as paid less its refunds, in the workspace currency; cancelled and deleted orders
  count nothing) x the current rate);
- dated at the latest of those orders' payments, available at once (no pending lot, its lot
  the day of that payment, which expires as any lot: listed for the expiry sweep, under
  the day due today when it is older than the expiry's days), and quiet: a ledger item
  reaches no flow, message or segment (the CRM stream's consumer reads profiles only).

The entry is computed from all of the customer's historical orders as stored, not from
one run's rows: re-running or resuming an import writes nothing new, and a later import
that brings more orders (or a refund of an imported order) moves the one entry to the new
sum, by compare-and-set on the points read, with the balance's `ADD` of the difference in
the same transaction. A customer into whom other profiles were merged counts their orders
too, less the historical points the merged ids' own entries hold (the merge moved those into
this balance: docs/loyalty.md#merged-profiles-one-balance), so none is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.ingest_images import OrderImage
from chalicelib.domain.loyalty.expiry import list_credited_lots
from chalicelib.domain.loyalty.ledger import _paid_at as paid_at
from chalicelib.domain.loyalty.lots import Plan, credit_day, plan_reversal
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry, earned_points
from chalicelib.domain.loyalty.ports import (
    ExpiringLedger,
    HistoricalLedger,
    HistoricalOrders,
    LoyaltySettings,
)
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.order_snapshot import split_public_order_id
from chalicelib.domain.ports import MovedEntries, ProfilePages
from chalicelib.domain.workspace_settings import WorkspaceSettings

HISTORICAL = EntryKey("import", "historical", EARN)
PAGE = 100
ATTEMPTS = 5  # compare-and-set retries against a concurrent run of the same recompute


class HistoryProfiles(ProfilePages, MovedEntries, Protocol):
    """What the recompute reads of the touched customers (the profile store)."""


class HistoricalPoints:
    def __init__(
        self,
        ledger: ExpiringLedger,
        history: HistoricalLedger,
        orders: HistoricalOrders,
        profiles: HistoryProfiles,
        workspaces: LoyaltySettings,
    ) -> None:
        self.ledger = ledger
        self.history = history
        self.orders = orders
        self.profiles = profiles
        self.workspaces = workspaces

    def apply(self, workspace_id: str, customer_ids: Sequence[str], now: datetime) -> dict[str, Any]:
        """Each touched customer's historical entry brought to their historical orders."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or settings.loyalty.import_policy != "historical":
            return {"policy": "none", "entries_written": 0}
        ids = list(dict.fromkeys(customer_ids))
        written = 0
        for start in range(0, len(ids), PAGE):
            live = self.profiles.load_many(workspace_id, ids[start : start + PAGE])
            for profile in dict((p.customer_id, p) for p in live.values()).values():
                written += self._customer(settings, profile, now)
        return {"policy": "historical", "entries_written": written}

    def target(
        self, settings: WorkspaceSettings, customer_id: str, orders: list[OrderImage], rate: Decimal
    ) -> LedgerEntry | None:
        """The customer's historical entry as their historical orders make it at `rate`
        (None: they have none)."""
        base, latest = Decimal(0), None
        for order in orders:
            snap, at = order.snapshot, paid_at(order)
            if not order.historical or not snap.counted or at is None:
                continue
            net = settings.convert(max(snap.total - snap.refunded, Decimal(0)), snap.currency)
            if net is None:
                continue  # no rate for its currency: it earns nothing, as a live order
            base += net
            latest = at if latest is None else max(latest, at)
        if latest is None:
            return None
        return LedgerEntry(
            workspace_id=settings.workspace_id,
            customer_id=customer_id,
            key=HISTORICAL,
            points=earned_points(base, rate),
            at=latest,
            rate=rate,
            base=base,
            currency=settings.currency,
        )

    def _customer(self, settings: WorkspaceSettings, profile: CustomerProfile, now: datetime) -> int:
        ws = settings.workspace_id
        order_ids = [k for k in all_entries(self.profiles, ws, profile) if split_public_order_id(k)]
        orders = self.orders.order_images_of(ws, order_ids)
        # the historical points of ids merged into this one: a merge moves them into this
        # balance (domain/loyalty/merge.py), and this entry counts their orders too
        moved_in = sum(
            e.points
            for x in profile.merged_ids or ()
            if (e := self.ledger.entry(ws, x, HISTORICAL)) is not None
        )
        for _ in range(ATTEMPTS):
            stored = self.ledger.entry(ws, profile.customer_id, HISTORICAL)
            # the rate the entry first earned at, never a later rule's
            rate = stored.rate if stored is not None and stored.rate is not None else settings.loyalty.rate()
            entry = self.target(settings, profile.customer_id, orders, rate)
            if entry is None and stored is not None:  # every historical order since cancelled
                entry = replace(stored, points=0, base=Decimal(0))
            if entry is not None and moved_in:
                entry = replace(entry, points=entry.points - moved_in)
            if entry is None or (stored is not None and _same(stored, entry)):
                return 0
            if stored is None and entry.points == 0:
                return 0  # nothing to earn yet: no entry
            entry, change = self._moved(stored, entry)
            # its lot expires as any: listed where a sweep still to run reads it
            list_credited_lots(self.ledger, settings.loyalty, change, now.date())
            if self.history.set_historical(stored, entry, change):
                return 1
        raise RuntimeError("the historical points entry kept changing")

    def _moved(self, stored: LedgerEntry | None, entry: LedgerEntry) -> tuple[LedgerEntry, LedgerEntry]:
        """The entry with the lots and debt it holds in all, and the change to write now: a
        rise adds to the entry's own lot (available at once: the day of its first date); a
        fall takes that lot first, then the oldest, the rest is debt (as a reversal)."""
        day = credit_day(stored or entry)
        delta = entry.points - (stored.points if stored is not None else 0)
        if delta >= 0:
            plan = Plan(((day, delta),) if delta else (), 0)
        else:
            balance = self.ledger.balance(entry.workspace_id, entry.customer_id)
            plan = plan_reversal(balance.lots, day, -delta)
        held: dict[Any, int] = dict(stored.lots) if stored is not None else {}
        for lot, n in plan.lots:
            held[lot] = held.get(lot, 0) + n
        total = replace(
            entry,
            lots=tuple(sorted((d, n) for d, n in held.items() if n)),
            debt=(stored.debt if stored is not None else 0) + plan.debt,
        )
        return total, replace(entry, points=delta, lots=plan.lots, debt=plan.debt)


def _same(stored: LedgerEntry, entry: LedgerEntry) -> bool:
    return (stored.points, stored.base, stored.at) == (entry.points, entry.base, entry.at)
