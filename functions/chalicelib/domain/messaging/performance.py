"""The messaging report: each campaign's and flow's counters, with the rates derived.

Rates are computed when read, from the counters (`stats.py`), never stored:

- open rate, click rate, unsubscribe rate: per delivered message;
- bounce rate: per sent message (per delivered + bounced while nothing is counted sent);
- revenue: attributed orders' totals in the workspace currency (`attribution.py`);
- redemption rate: coupons redeemed per coupon issued (`coupons.py`), with their orders'
  net revenue (`coupon_revenue`); `codes_note` says when some codes were sent that the
  store does not know (its source has no Admin API credentials).

A rate whose denominator is 0 is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.errors import NotFound
from chalicelib.domain.messaging.ports import StatsReader, WorkspaceReader
from chalicelib.domain.money import round_money

MONEY = ("revenue", "coupon_revenue")
UNREGISTERED = "codes not registered in the store"  # a source without Admin API credentials


class ScopeStats(BaseModel):
    scope: str
    kind: str  # campaign or flow
    id: str
    variant: str | None = None
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    deferred: int = 0
    dropped: int = 0
    orders: int = 0
    revenue: str = "0.00"
    codes_issued: int = 0
    codes_registered: int = 0
    codes_unregistered: int = 0
    codes_redeemed: int = 0
    coupon_revenue: str = "0.00"
    redemption_rate: float | None = None
    codes_note: str | None = None  # UNREGISTERED when some codes exist only in Patron
    open_rate: float | None = None
    click_rate: float | None = None
    bounce_rate: float | None = None
    unsubscribe_rate: float | None = None

    @classmethod
    def of(cls, scope: str, counters: Mapping[str, Any], currency: str | None = None) -> ScopeStats:
        base, _, variant = scope.partition("#v#")
        kind, _, name = base.partition("#")
        n = {k: int(counters.get(k) or 0) for k in cls.model_fields if k in counters and k not in MONEY}

        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        delivered, sent = n.get("delivered", 0), n.get("sent", 0)
        bounced = n.get("bounced", 0)
        return cls(
            scope=scope,
            kind={"camp": "campaign", "flow": "flow"}.get(kind, kind),
            id=name,
            variant=variant or None,
            **n,
            revenue=str(round_money(Decimal(str(counters.get("revenue") or 0)), currency)),
            coupon_revenue=str(round_money(Decimal(str(counters.get("coupon_revenue") or 0)), currency)),
            redemption_rate=rate(n.get("codes_redeemed", 0), n.get("codes_issued", 0)),
            codes_note=UNREGISTERED if n.get("codes_unregistered") else None,
            open_rate=rate(n.get("opened", 0), delivered),
            click_rate=rate(n.get("clicked", 0), delivered),
            bounce_rate=rate(bounced, sent or delivered + bounced),
            unsubscribe_rate=rate(n.get("unsubscribed", 0), delivered),
        )


class Results(BaseModel):
    """One campaign's or flow's results, as `GET /campaigns/{id}` and `GET /flows/{id}` give
    them: the totals and each A/B variant's, with the rates and rounded money of
    `GET /messaging/stats` (attributed `orders` and `revenue` within the attribution window)."""

    currency: str | None
    total: ScopeStats
    variants: list[ScopeStats]


def results(
    scope: str,
    totals: Mapping[str, Any] | None,
    variants: Mapping[str, Mapping[str, Any] | None],
    currency: str | None,
) -> dict[str, Any]:
    """`scope`'s counters and its variants' (`<scope>#v#<id>`) as Results, in JSON form
    (the views they join are plain dicts)."""
    return Results(
        currency=currency,
        total=ScopeStats.of(scope, totals or {}, currency),
        variants=[ScopeStats.of(f"{scope}#v#{v}", found or {}, currency) for v, found in variants.items()],
    ).model_dump(mode="json")


def workspace_results(
    workspaces: WorkspaceReader,
    workspace_id: str,
    scope: str,
    totals: Mapping[str, Any] | None,
    variants: Mapping[str, Mapping[str, Any] | None],
) -> dict[str, Any]:
    """`results` in the workspace's currency (its settings: one cached read)."""
    settings = workspaces.settings(workspace_id)
    return results(scope, totals, variants, settings.currency if settings is not None else None)


class StatsReport(BaseModel):
    currency: str
    scopes: list[ScopeStats]


class MessagingStatsService:
    def __init__(self, reader: StatsReader, workspaces: WorkspaceReader) -> None:
        self.reader = reader
        self.workspaces = workspaces

    def report(self, workspace_id: str, scope: str | None = None) -> StatsReport:
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise NotFound("workspace not found")
        if scope:
            counters = self.reader.get(workspace_id, scope)
            if counters is None:
                raise NotFound(f"no statistics for {scope}")
            found = {scope: counters}
        else:
            found = self.reader.all(workspace_id)
        return StatsReport(
            currency=settings.currency,
            scopes=[
                ScopeStats.of(name, counters, settings.currency) for name, counters in sorted(found.items())
            ],
        )
