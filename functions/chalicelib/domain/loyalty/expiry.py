"""Expiry by dated lots (docs/loyalty.md#expiry): each earned lot expires on its own,
`expiry_days` after the day its points became available.

The daily sweep finds the customers with a lot of a day through the ledger's lot-day
buckets (written with the credit, never a scan) and writes, per due lot, one keyed entry
(`expiry`, `<lot day>`, `expire`) in one transaction with the balance's `ADD`s. The lot
first settles the debt, as a spend does (lot -= m, debt -= m: no points change), and the
rest is expired: the entry's points are `-(lot - m)`, its `lots` `{day: -lot}`, its `debt`
`-m`, so `total == sum(lots) - debt` holds. The lot's `ADD` is conditioned on it holding
what was read, so a concurrent redemption that took from it makes the write fail and the
sweep read again: points already spent are never expired, and a lot never goes negative.
A replay finds the lot empty and writes nothing.

A visit expires every due lot of the customer, not only the bucket's: a lot given back
after its day was swept (a redemption's `restore`) or credited late (the historical
import's lot) is listed under `listing_day` (the day a sweep still to run reads) and expires
there. A lot that already has an expiry entry and holds points again (given back after it)
gets the next free key, `<lot day>#2`, `#3`...: the lot's conditioned `ADD` (not the key)
keeps two sweeps from expiring the same points.

Policy `inactivity`: the whole available balance expires `expiry_days` after the balance's
last activity (`PointsBalance.last_activity`: an earning, a bonus, an adjustment, a
redemption). The sweep visits the same lot-day buckets; a customer whose deadline has not
come is listed again under their last activity's day (so that day's sweep, N days later,
looks again); one whose deadline came gets one entry (`expiry`, `inactive:<last activity
day>`, `expire`) taking every available lot (the debt settled first), conditioned on the
last activity being still the one read: any activity since cancels it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.loyalty.lots import available_lots
from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry, PointsBalance, day_start
from chalicelib.domain.loyalty.ports import ExpiringLedger, LoyaltySettings
from chalicelib.domain.workspace_settings import LoyaltyRules

EXPIRY = "expiry"  # the entry's source; its kind is EXPIRE, its external id the lot's day
EXPIRE = "expire"
POLICIES = ("none", "lots", "inactivity")
CATCH_UP_DAYS = 3  # lot days before today's due one swept again: a missed run is caught up
# the lot or the debt moved between the read and the write: read again. Each failed write
# means another write to this balance landed meanwhile (a spend, a credit), so the sweep
# gives way to them and tries again; a customer still contended after this many is left
# to the next run (its look back covers missed days) and counted `deferred`.
ATTEMPTS = 64


def expiry_key(lot_day: date, nth: int = 1) -> EntryKey:
    """The `nth` expiry of a lot (a lot given back after its first expiry expires again)."""
    return EntryKey(EXPIRY, lot_day.isoformat() + (f"#{nth}" if nth > 1 else ""), EXPIRE)


def inactive_key(last_day: date, nth: int = 1) -> EntryKey:
    return EntryKey(EXPIRY, f"inactive:{last_day.isoformat()}" + (f"#{nth}" if nth > 1 else ""), EXPIRE)


def listing_day(lot_day: date, today: date, days: int) -> date:
    """The lot-day bucket that lists a lot of `lot_day` credited on `today` so that a sweep
    still to run visits it: its own day while not due, else the day due today (today's
    sweep, or the next runs' look back, reads it)."""
    return max(lot_day, today - timedelta(days=days))


class LotLister(Protocol):
    def mark_lot_day(self, workspace_id: str, customer_id: str, day: date) -> None: ...


def list_credited_lots(ledger: LotLister, rules: LoyaltyRules, entry: LedgerEntry, today: date) -> None:
    """Lists the customer for each lot `entry` adds to (a give-back, the historical entry)
    under its `listing_day`, before the entry's write; nothing while points do not expire."""
    if not rules.enabled or not rules.lists_lot_days:
        return
    days = {listing_day(day, today, rules.expiry_days) for day, n in entry.lots if n > 0}
    for day in sorted(days):
        ledger.mark_lot_day(entry.workspace_id, entry.customer_id, day)


@dataclass(frozen=True)
class LotExpiry:
    """What expiring a lot moves: the whole lot, the debt it settles, the points expired."""

    lot: int
    settled: int

    @property
    def points(self) -> int:
        return self.lot - self.settled


def plan_lot_expiry(lot: int, debt: int) -> LotExpiry | None:
    """A lot of `lot` points expiring with `debt` owed: the debt is settled first (as a spend
    does); None when the lot is empty (spent, reversed or expired already)."""
    if lot <= 0:
        return None
    return LotExpiry(lot=lot, settled=min(lot, max(debt, 0)))


class Contended(RuntimeError):
    """A customer's balance kept moving under the sweep: left to the next run."""


class PointsExpiry:
    def __init__(self, ledger: ExpiringLedger, workspaces: LoyaltySettings) -> None:
        self.ledger = ledger
        self.workspaces = workspaces

    def expire_all(self, workspace_ids: Iterable[str], today: date) -> dict[str, Any]:
        """The daily job: every workspace's due lots."""
        totals = {"workspaces": 0, "lots_expired": 0, "points_expired": 0}
        for workspace_id in workspace_ids:
            result = self.expire(workspace_id, today)
            if result["policy"] != "none":
                totals["workspaces"] += 1
            totals["lots_expired"] += result["lots_expired"]
            totals["points_expired"] += result["points_expired"]
        return totals

    def expire(self, workspace_id: str, today: date) -> dict[str, Any]:
        """The lots of `workspace_id` due by `today` (UTC day), expired once each."""
        settings = self.workspaces.settings(workspace_id)
        rules = settings.loyalty if settings is not None else None
        if rules is None or not rules.enabled or rules.expiry not in POLICIES[1:]:
            return {
                "policy": "none",
                "lots_expired": 0,
                "points_expired": 0,
                "settled_debt": 0,
                "deferred": 0,
            }
        due = today - timedelta(days=rules.expiry_days)
        lots = points = settled = deferred = 0
        for back in range(CATCH_UP_DAYS, -1, -1):
            lot_day = due - timedelta(days=back)
            for customer_id in self.ledger.customers_with_lot(workspace_id, lot_day):
                try:
                    if rules.expiry == "inactivity":
                        inactive = self.expire_inactive(workspace_id, customer_id, today, rules.expiry_days)
                        entries = [] if inactive is None else [inactive]
                    else:
                        entries = self.expire_due_lots(workspace_id, customer_id, lot_day, rules.expiry_days)
                except Contended:
                    deferred += 1
                    continue
                for entry in entries:
                    lots += 1
                    points -= entry.points
                    settled -= entry.debt
        return {
            "policy": rules.expiry,
            "lots_expired": lots,
            "points_expired": points,
            "settled_debt": settled,
            "deferred": deferred,
        }

    def expire_due_lots(
        self, workspace_id: str, customer_id: str, visited: date, days: int
    ) -> list[LedgerEntry]:
        """The customer's lots of `visited` and before (all due), expired now, oldest first."""
        balance = self.ledger.balance(workspace_id, customer_id)
        read: PointsBalance | None = balance
        expired = []
        for day in [*sorted(d for d, n in balance.lots.items() if d < visited and n > 0), visited]:
            entry = self.expire_lot(workspace_id, customer_id, day, days, visited, read)
            read = None  # the first lot's write moved the debt: the next reads again
            if entry is not None:
                expired.append(entry)
        return expired

    def expire_lot(
        self,
        workspace_id: str,
        customer_id: str,
        lot_day: date,
        days: int,
        visited: date | None = None,
        read: PointsBalance | None = None,
    ) -> LedgerEntry | None:
        """The expiry entry of one lot, written now; None when there is nothing to expire
        (spent, or expired before: a replay). Found under a later bucket (`visited`), it is
        dated that bucket's due day."""
        at: datetime = day_start(max(lot_day, visited or lot_day) + timedelta(days=days))
        for _ in range(ATTEMPTS):
            balance = read or self.ledger.balance(workspace_id, customer_id)
            read = None
            plan = plan_lot_expiry(balance.lots.get(lot_day, 0), balance.debt)
            if plan is None:
                return None
            nth = 1
            while self.ledger.entry(workspace_id, customer_id, expiry_key(lot_day, nth)) is not None:
                nth += 1  # expired before, and given back since
            key = expiry_key(lot_day, nth)
            entry = LedgerEntry(
                workspace_id=workspace_id,
                customer_id=customer_id,
                key=key,
                points=-plan.points,
                at=at,
                lots=((lot_day, -plan.lot),),
                debt=-plan.settled,
            )
            if self.ledger.adjust(entry):
                return entry
        raise Contended("points expiry kept conflicting with concurrent spends")

    def expire_inactive(
        self, workspace_id: str, customer_id: str, today: date, days: int
    ) -> LedgerEntry | None:
        """The customer's whole available balance, expired if `days` have passed since their
        last activity with none since; otherwise listed under that day for a later look."""
        for _ in range(ATTEMPTS):
            balance = self.ledger.balance(workspace_id, customer_id)
            last = balance.last_activity
            if last is None:
                return None
            last_day = last.astimezone(UTC).date()
            if last_day + timedelta(days=days) > today:
                self.ledger.mark_lot_day(workspace_id, customer_id, last_day)
                return None
            lots = available_lots(balance.lots, today)
            have = sum(lots.values())
            if have <= 0:
                return None  # nothing available, or expired already (a replay)
            nth, key = 1, inactive_key(last_day)
            while self.ledger.entry(workspace_id, customer_id, key) is not None:
                nth, key = nth + 1, inactive_key(last_day, nth + 1)  # points given back since
            settled = min(have, max(balance.debt, 0))
            entry = LedgerEntry(
                workspace_id=workspace_id,
                customer_id=customer_id,
                key=key,
                points=-(have - settled),
                at=day_start(last_day + timedelta(days=days)),
                lots=tuple(sorted((day, -n) for day, n in lots.items())),
                debt=-settled,
            )
            if self.ledger.expire_inactive(entry, last):
                return entry
        raise Contended("points expiry kept conflicting with concurrent writes")
