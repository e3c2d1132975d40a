"""Coupon redemptions, tracked from incoming orders' discount codes, and the coupon list.

The ingest stream's consumer (`domain/pipeline.py`) calls `on_order` after attribution
for every live change (a history import's quiet state never reaches it: the pipeline
stops at the profile; an order that also came live was redeemed then, and the import
changes nothing). For each code on the order, the issued coupon with that code
(`W#<ws>#CPN` / the code upper-cased: Patron's codes are upper case, WooCommerce sends
them lower-cased) is read by key, never searched, and then:

- a live order (counted: not cancelled nor deleted) with a net revenue (total less
  refunds) above zero redeems a coupon not redeemed yet: the order's key, the time it was
  placed (else the time it arrived), the net revenue in the workspace currency;
  `codes_redeemed` 1 and `coupon_revenue` are added to the coupon's flow statistics in
  the same write;
- a later state of the same order with another net revenue (a partial refund) moves the
  recorded revenue, the difference added to `coupon_revenue`;
- a cancelled, deleted or fully refunded order un-redeems the coupon it redeemed, and its
  counts are taken back: the code's use came to nothing;
- a coupon redeemed by another order is left as it is (the first order keeps it).

Each write is conditioned on what was read, so a replayed record, a redelivered webhook or
two states racing count once. Campaign messages carry no coupons (only flows issue them),
so campaigns' coupon counts stay zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chalicelib.domain import timemath
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.messaging.flow_definition import IssuedCoupon
from chalicelib.domain.messaging.performance import UNREGISTERED
from chalicelib.domain.messaging.ports import CouponLedger, CouponListing, WorkspaceReader
from chalicelib.domain.messaging.stats import scope_of
from chalicelib.domain.money import round_money

STATUSES = ("issued", "redeemed", "expired")


@dataclass(frozen=True)
class Redemption:
    """What one order did to one coupon: `redeemed`, `revised` or `unredeemed`."""

    code: str
    change: str
    revenue: Decimal


class CouponRedemptions:
    def __init__(self, ledger: CouponLedger, workspaces: WorkspaceReader) -> None:
        self.ledger = ledger
        self.workspaces = workspaces

    def on_order(self, change: IngestChange, now: datetime) -> list[Redemption]:
        order = change.order
        if order is None or order.imported or not order.discount_codes or not order.snapshot.is_order:
            return []
        settings = self.workspaces.settings(order.workspace_id)
        if settings is None:
            return []
        snapshot = order.snapshot
        net = snapshot.total - snapshot.refunded
        live = snapshot.counted and net > 0
        converted = settings.convert(net, snapshot.currency) if live else None
        revenue = round_money(converted if converted is not None else Decimal(0), settings.currency)
        done = []
        for code in dict.fromkeys(c.strip().upper() for c in order.discount_codes if c.strip()):
            placed = snapshot.created_at or now  # redeemed when the order was placed
            moved = self._one(order.workspace_id, code, order.key, live, revenue, placed)
            if moved is not None:
                done.append(moved)
        return done

    def _one(
        self, ws: str, code: str, order_key: str, live: bool, revenue: Decimal, now: datetime
    ) -> Redemption | None:
        coupon = self.ledger.get(ws, code)
        if coupon is None:
            return None  # a code Patron did not issue
        scope = scope_of(coupon.message_key)
        before = coupon.revenue or Decimal(0)
        if live and coupon.order_key is None:
            at = timemath.iso(now) or ""
            if self.ledger.redeem(ws, code, order_key, revenue, at, scope):
                return Redemption(code, "redeemed", revenue)
        elif live and coupon.order_key == order_key and before != revenue:
            if self.ledger.revise(ws, code, order_key, before, revenue, scope):
                return Redemption(code, "revised", revenue - before)
        elif (
            not live
            and coupon.order_key == order_key
            and self.ledger.unredeem(ws, code, order_key, before, scope)
        ):
            return Redemption(code, "unredeemed", -before)
        return None


def coupon_view(coupon: IssuedCoupon, now: str) -> dict[str, object]:
    """A coupon as `GET /coupons` and `patron coupons list` show it."""
    kind, _, rest = coupon.message_key.partition(":")
    parts = rest.split(":")
    return {
        "code": coupon.code,
        "status": coupon.status(now),
        "customer_id": coupon.customer_id or None,
        "flow": parts[0] if kind == "flow" else None,
        "campaign": parts[0] if kind == "camp" else None,
        "step": _step(parts) if kind == "flow" else None,
        "registered": coupon.registered is not False,
        "source_id": coupon.source_id,
        "issued_at": coupon.issued_at,
        "expires_at": coupon.expires_at,
        "redeemed_at": coupon.redeemed_at,
        "order_key": coupon.order_key,
        "revenue": None if coupon.revenue is None else str(coupon.revenue),
    }


def _step(parts: list[str]) -> int | None:
    """A flow message key's step (`flow:<flow>:<run>:<step>`), when it ends with one."""
    last = parts[-1] if len(parts) > 1 else ""
    return int(last) if last.isdigit() else None


class CouponQueries:
    def __init__(self, listing: CouponListing) -> None:
        self.listing = listing

    def list(
        self,
        workspace_id: str,
        now: datetime,
        status: str | None = None,
        flow: str | None = None,
        campaign: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, object]:
        if status is not None and status not in STATUSES:
            raise BadRequest(
                f"status must be one of {', '.join(STATUSES)}", [{"field": "status", "error": "invalid"}]
            )
        if flow and campaign:
            raise BadRequest("give flow or campaign, not both", [{"field": "campaign", "error": "invalid"}])
        prefix = f"flow:{flow}:" if flow else f"camp:{campaign}:" if campaign else None
        at = timemath.iso(now) or ""
        coupons, next_cursor = self.listing.page(workspace_id, status, prefix, at, limit, cursor)
        return {"coupons": [coupon_view(c, at) for c in coupons], "cursor": next_cursor}


def coupon_figures(counts: Mapping[str, int | Decimal], currency: str | None = None) -> dict[str, object]:
    """A coupon flow's figures in `flow list` and `GET /flows` (the statistics' counters)."""
    issued, redeemed = int(counts.get("codes_issued", 0)), int(counts.get("codes_redeemed", 0))
    unregistered = int(counts.get("codes_unregistered", 0))
    return {
        "codes_issued": issued,
        "codes_registered": int(counts.get("codes_registered", 0)),
        "codes_unregistered": unregistered,
        "codes_redeemed": redeemed,
        "redemption_rate": round(redeemed / issued, 4) if issued else None,
        "coupon_revenue": str(round_money(Decimal(str(counts.get("coupon_revenue", 0))), currency)),
        "codes_note": UNREGISTERED if unregistered else None,
    }
