"""Points earned from live orders and reversed by their refunds and cancellation.

The ingest stream's consumer calls `on_order` with each stored state of an order and the
customer its profile write named. Every step is keyed, so any replay, in any order, adds
nothing: the earning entry is written once per order; each refund (by its id) reverses
its share of the earned points at the rate and base stored on the earning entry, moving
the entry's `refunded` and `reversed` totals with a compare-and-set in the same
transaction (so the reversals of an order never add up to more than it earned, and a
concurrent writer retries from what it reads); a cancellation reverses what is left.
A reversal takes its points from the earning's lot first, then the oldest others; what it
cannot find (spent already) is debt (domain/loyalty/lots.py).
The earning is found by its order (a pointer written with it), so a refund after the
customer's profile was merged into another still finds and reverses it.
A history import's states earn nothing (its states never reach this consumer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.ingest_images import IngestChange, OrderImage
from chalicelib.domain.loyalty.follow import BalanceKeptMoving, write_followed
from chalicelib.domain.loyalty.lots import plan_reversal
from chalicelib.domain.loyalty.merge import open_balance
from chalicelib.domain.loyalty.model import (
    CANCEL,
    EARN,
    RESTORE,
    REVERSE,
    EntryKey,
    LedgerEntry,
    PointsView,
    available_on,
    covered,
    earned_points,
    reversed_target,
)
from chalicelib.domain.loyalty.ports import LoyaltySettings, PointsLedger, TierReader
from chalicelib.domain.loyalty.rules import earning_base
from chalicelib.domain.models import OrderStatus
from chalicelib.domain.order_snapshot import OrderRefund, public_order_id
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.timemath import iso, parse_iso

PAID = {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}
ATTEMPTS = 5  # compare-and-set retries against a concurrent writer of the same order


@dataclass(frozen=True)
class PointsPage:
    view: PointsView
    total: int
    entries: list[LedgerEntry]
    cursor: str | None


def _paid_at(order: OrderImage) -> datetime | None:
    """When the order was paid: its first paid state, else its creation if it is paid."""
    for status, at in order.history:
        if status in PAID:
            when = parse_iso(at)
            if when is not None:
                return when
    snap = order.snapshot
    return snap.created_at if snap.status in PAID else None


def _cancelled_at(order: OrderImage, now: datetime) -> datetime:
    for status, at in order.history:
        if status == OrderStatus.CANCELLED and parse_iso(at) is not None:
            return parse_iso(at) or now
    return order.updated_at or now


class PointsService:
    def __init__(
        self,
        ledger: PointsLedger,
        workspaces: LoyaltySettings,
        profiles: ProfileReader | None = None,
        tiers: TierReader | None = None,
    ) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles  # the API's reads: an unknown customer is 404
        self.tiers = tiers  # the customer's tier sets the multiplier (none: 1)

    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> list[Any]:
        """The entries this state of a live order wrote (none for a replay)."""
        order = change.order
        if order is None or order.imported or order.historical or order.redacted or customer_id is None:
            return []
        settings = self.workspaces.settings(order.workspace_id)
        if settings is None or not settings.loyalty.enabled or not order.snapshot.is_order:
            return []
        snap = order.snapshot
        order_id = public_order_id(snap.source_id, snap.order_id)
        written: list[LedgerEntry] = []
        # by the order, not the customer: a profile merged since keeps the earning where it is
        earning = self.ledger.earning_of(snap.workspace_id, order_id)
        paid_at = _paid_at(order)
        if earning is None and paid_at is not None and snap.counted:  # not cancelled nor deleted
            base = earning_base(snap, settings.loyalty.earn_on)  # in the order's currency
            base_here = settings.convert(base, snap.currency)
            tiered = self.tiers is not None and settings.tiers.tiers  # no tiers: no read
            tier = self.tiers.tier_of(snap.workspace_id, customer_id) if self.tiers and tiered else None
            rate = settings.loyalty.rate(tier)
            points = earned_points(base_here, rate) if base_here is not None else 0
            if points > 0:
                entry = LedgerEntry(
                    workspace_id=snap.workspace_id,
                    customer_id=customer_id,
                    key=EntryKey("order", order_id, EARN),
                    points=points,
                    at=paid_at,
                    order_id=order_id,
                    rate=rate,
                    base=snap.total,  # refunds are shares of what was paid, whatever earn_on
                    currency=snap.currency,
                    available_on=available_on(paid_at, settings.loyalty.return_window_days),
                )
                earning = self._earn(entry, written, settings.loyalty.lists_lot_days)
        if earning is None:
            return written
        for refund in sorted(order.refunds, key=lambda r: r.refund_id):
            got, earning = self._reverse(earning, refund, None, now)
            if got is not None:
                written.append(got)
        if snap.status is OrderStatus.CANCELLED or snap.deleted:
            got, earning = self._reverse(earning, None, _cancelled_at(order, now), now)
            if got is not None:
                written.append(got)
        return written

    def _earn(self, entry: LedgerEntry, written: list[LedgerEntry], list_lots: bool) -> LedgerEntry | None:
        """The order's earning: written now (on the customer's balance, or where a merge
        moved it), or by another delivery of the order meanwhile. Its lot day is listed
        only when the workspace expires points (`list_lots`: docs/loyalty.md#expiry)."""
        found: list[LedgerEntry] = []

        def meanwhile(tried: LedgerEntry) -> bool:  # written by another delivery of the order
            earning = self.ledger.earning_of(tried.workspace_id, tried.order_id or "")
            found.extend([earning] if earning is not None else [])
            return earning is not None

        try:
            made = write_followed(
                self.ledger, entry, lambda e: self.ledger.earn(e, list_lots), ATTEMPTS, meanwhile
            )
        except BalanceKeptMoving as exc:
            raise RuntimeError(f"points earning of {entry.order_id} kept conflicting") from exc
        if made is not None:
            written.append(made)
            return made  # as stored: nothing reversed yet
        return found[0] if found else None

    def _reverse(
        self, earning: LedgerEntry, refund: OrderRefund | None, cancelled_at: datetime | None, now: datetime
    ) -> tuple[LedgerEntry | None, LedgerEntry]:
        """One refund's reversal (or the cancellation's), once (None when it was written
        before), and the earning as it now stands."""
        order_id = earning.order_id or earning.key.external_id
        key = (
            EntryKey("refund", f"{order_id}.{refund.refund_id}", REVERSE)
            if refund is not None
            else EntryKey("order", order_id, CANCEL)
        )
        at = cancelled_at or (parse_iso(refund.created_at) if refund else None) or now
        return self._settle(earning, key, at, refund.amount if refund else None, Decimal(0), refund is None)

    def on_return(
        self, workspace_id: str, order_id: str, return_id: str, amount: Decimal, approved: bool, at: datetime
    ) -> LedgerEntry | None:
        """A return approved (`approved`: its lines' `amount` of the order's total paid now
        counts as returned) or, after its approval, cancelled (given back): the entry written,
        None when there is no earning or it was written before (docs/service.md#points)."""
        earning = self.ledger.earning_of(workspace_id, order_id)
        if earning is None:
            return None
        approve = EntryKey("return", f"{order_id}.{return_id}", REVERSE)
        if approved:
            return self._settle(earning, approve, at, amount, amount, False)[0]
        # given back only after its approval was counted, once
        if self._found(earning, approve) is None:
            return None
        key = EntryKey("return", f"{order_id}.{return_id}", RESTORE)
        return self._settle(earning, key, at, amount, -amount, False)[0]

    def _found(self, earning: LedgerEntry, key: EntryKey) -> LedgerEntry | None:
        ws, cid = earning.workspace_id, earning.customer_id
        ids, _ = open_balance(self.ledger, ws, cid)
        for c in dict.fromkeys([cid, *ids]):
            found = self.ledger.entry(ws, c, key)
            if found is not None:
                return found
        return None

    def _settle(
        self,
        earning: LedgerEntry,
        key: EntryKey,
        at: datetime,
        amount: Decimal | None,
        returned: Decimal,
        cancel: bool,
    ) -> tuple[LedgerEntry | None, LedgerEntry]:
        """The entry under `key`, once: the earning's reversed points moved to the target its
        refunds (a refund's `amount`), approved returns (`returned`, signed) and
        cancellation give, by compare-and-set on the earning."""
        order_id = earning.order_id or earning.key.external_id
        ws, cid = earning.workspace_id, earning.customer_id
        is_refund = key.source == "refund"
        current: LedgerEntry | None = earning
        for _ in range(ATTEMPTS):
            if current is None:
                return None, earning
            # the earning's balance, or where merges moved it: the reversal's entry and
            # balance change go there (its earning stays, moved by compare-and-set where it is)
            if self.ledger.entry(ws, cid, key) is not None:
                return None, current
            ids, balance = open_balance(self.ledger, ws, cid)
            if any(self.ledger.entry(ws, c, key) is not None for c in ids[1:]):
                return None, current
            refunded = current.refunded + (amount or Decimal(0) if is_refund else Decimal(0))
            now_returned = max(current.returned + returned, Decimal(0))
            cancelled = current.cancelled or cancel
            target = reversed_target(
                current.points, current.base or Decimal(0), covered(refunded, now_returned), cancelled
            )
            points = target - current.reversed
            if points >= 0:
                plan = plan_reversal(balance.lots, current.available_on, points)
                lots, debt = plan.lots, plan.debt
            else:  # a give-back: the points return to the earning's lot
                lots, debt = (((current.available_on or at.date()), -points),), 0
            reversal = LedgerEntry(
                workspace_id=ws,
                customer_id=ids[-1],
                key=key,
                points=-points,
                at=at,
                order_id=order_id,
                amount=amount,
                lots=lots,
                debt=debt,
            )
            moved = replace(current, cancelled=cancelled)
            extra = {"returned": now_returned} if now_returned != current.returned else {}
            if self.ledger.reverse(moved, reversal, refunded, target, **extra):
                return reversal, replace(
                    current, refunded=refunded, reversed=target, cancelled=cancelled, returned=now_returned
                )
            current = self.ledger.entry(ws, cid, earning.key)  # a concurrent writer (or spender): read again
        raise RuntimeError(f"points reversal of {order_id} kept conflicting")

    def page(
        self, workspace_id: str, customer_id: str, today: date, limit: int = 50, cursor: str | None = None
    ) -> PointsPage:
        ids = [customer_id]
        if self.profiles is not None:  # a merged-away id reads the surviving profile's ledger
            profile = self.profiles.load(workspace_id, customer_id)
            if profile is None:
                raise NotFound("customer not found")
            customer_id, ids = profile.customer_id, profile.entry_partitions()
        balance = self.ledger.balance(workspace_id, customer_id)
        entries, next_cursor = merged_page(self.ledger, workspace_id, ids, limit, cursor)
        return PointsPage(balance.view(today), balance.total, entries, next_cursor)


MERGED_CURSOR = "E#@"  # a cursor in the n-th merged id's ledger: `E#@<n>#<its sort key>`


def merged_page(
    ledger: PointsLedger, workspace_id: str, ids: list[str], limit: int, cursor: str | None
) -> tuple[list[LedgerEntry], str | None]:
    """A page of the person's ledgers (docs/loyalty.md#merged-profiles-one-balance): the
    survivor's (`ids[0]`) in key order, then each merged id's in turn, the page filled from
    the next ledger when one ends; each entry names the id whose ledger holds it. The
    cursor: the ledger's own (the survivor's), or `E#@<n>#<the ledger's own>` (a merged id's)."""
    at, inner = 0, cursor
    if cursor is not None and cursor.startswith(MERGED_CURSOR):
        n, _, rest = cursor[len(MERGED_CURSOR) :].partition("#")
        if not n.isdigit() or not 0 < int(n) < len(ids):
            raise BadRequest("cursor is not one this API gave", [{"field": "cursor", "error": "invalid"}])
        at, inner = int(n), rest or None
    entries: list[LedgerEntry] = []
    while True:
        page, inner = ledger.entries(workspace_id, ids[at], limit - len(entries), inner)
        entries += page
        if inner is not None:
            break
        if at + 1 >= len(ids):
            return entries, None
        at += 1
        if len(entries) >= limit:
            return entries, f"{MERGED_CURSOR}{at}#"
    return entries, inner if at == 0 else f"{MERGED_CURSOR}{at}#{inner}"


def page_json(page: PointsPage) -> dict[str, Any]:
    """`GET /customers/{id}/points`: the balance and a page of the ledger."""
    return {
        "available": page.view.available,
        "pending": page.view.pending,
        "debt": page.view.debt,
        "total": page.total,
        "entries": [entry_json(e) for e in page.entries],
        "next_cursor": page.cursor,
    }


def entry_json(e: LedgerEntry) -> dict[str, Any]:
    """One ledger entry as the API shows it (a manual adjustment's `reason` and `by` too)."""
    return {
        "customer_id": e.customer_id,  # whose ledger holds it (the profile's or a merged id's)
        "source": e.key.source,
        "external_id": e.key.external_id,
        "kind": e.key.kind,
        "points": e.points,
        "at": iso(e.at),
        "order_id": e.order_id,
        "rate": None if e.rate is None else str(e.rate),
        "available_on": e.available_on.isoformat() if e.available_on else None,
        "reversed": e.reversed if e.rate is not None else None,
        "reason": e.reason,
        "by": e.actor,
        "lots": {day.isoformat(): n for day, n in e.lots},
        "debt": e.debt,
        "amount": None if e.amount is None else str(e.amount),
        "currency": e.currency,
        "code": e.code,
        "source_id": e.store_source,
    }
