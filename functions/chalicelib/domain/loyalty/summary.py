"""A customer's loyalty at a glance: the `loyalty` block of `GET /customers/{id}` and the
loyalty template variables (`points`, `points_pending`, `tier`, `tier_benefits`) of the
messages flows and campaigns send (docs/loyalty.md#everywhere-else).

It reads two items, the points balance and the tier state (one `BatchGetItem`), and only
for a workspace with loyalty on or tiers defined: anywhere else it reads nothing. A
campaign's batch of recipients reads theirs together (`template_values_of`: one batched
read of the balances and one of the tier states, through the report's LoyaltyBooks). The same
items give segments their loyalty facts, and the ledger and tier audit the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.loyalty.lots import expiry_schedule
from chalicelib.domain.loyalty.model import PointsBalance, day_start
from chalicelib.domain.loyalty.ports import (
    LoyaltyBooks,
    LoyaltyItems,
    LoyaltySettings,
    PointsLedger,
    TierStore,
)
from chalicelib.domain.loyalty.tiers import TierState
from chalicelib.domain.loyalty.views import LoyaltyEvent, LoyaltySummary, PointsSummary, TierSummary
from chalicelib.domain.segment_eval import LoyaltyFacts
from chalicelib.domain.tier_rules import Tier, TierRules
from chalicelib.domain.timemath import iso, now_utc
from chalicelib.domain.workspace_settings import WorkspaceSettings

# the template variables this module fills (domain/messaging/render.py lists them)
TEMPLATE_VARIABLES = ("points", "points_pending", "tier", "tier_benefits")


ENTRY_TYPES = {
    "earn": "points_earned",
    "cancel": "points_reversed",
    "reverse": "points_reversed",
    "redeem": "points_redeemed",
    "restore": "points_restored",  # a redemption the store could not make, given back
    "adjustment": "points_adjusted",
    "bonus": "points_bonus",
    "expire": "points_expired",
    "expiry": "points_expired",
    "duplicate": "points_reversed",  # a merged id's once-ever bonus taken back (merge)
}
EXPIRING_SOON = timedelta(days=30)  # the profile's `expiring_within_30`
TIMELINE_PAGES = 2  # ledger pages of 100 read for the timeline (the newest 100 shown)
TIMELINE_ENTRIES = 100


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _schedule(
    settings: WorkspaceSettings | None, balance: PointsBalance, day: date
) -> tuple[tuple[date, int], ...]:
    """When the available points expire under the workspace's policy (none while loyalty is off)."""
    if settings is None or not settings.loyalty.enabled:
        return ()
    return expiry_schedule(balance, day, settings.loyalty.expiry, settings.loyalty.expiry_days)


def benefits_text(tier: Tier | None) -> str:
    """A tier's benefits in a few words for a message: `2x points, free shipping, 10% off`."""
    if tier is None:
        return ""
    parts = []
    if tier.multiplier != 1:
        parts.append(f"{tier.multiplier.normalize():f}x points")
    if tier.free_shipping:
        parts.append("free shipping")
    if tier.discount_percent > 0:
        parts.append(f"{tier.discount_percent.normalize():f}% off")
    return ", ".join(parts)


def loyalty_values(
    settings: WorkspaceSettings, balance: PointsBalance, tier_name: str | None, day: date
) -> dict[str, Any]:
    """`points`, `points_pending` and, for a tier the workspace defines, `tier` and
    `tier_benefits` (an empty value left out: a template's default shows)."""
    view = balance.view(day)
    values: dict[str, Any] = {"points": str(view.available), "points_pending": str(view.pending)}
    tier = settings.tiers.tier(tier_name) if settings.tiers.tiers and tier_name else None
    if tier is not None and tier_name:
        values["tier"] = tier_name
        values["tier_benefits"] = benefits_text(tier)
    return {k: v for k, v in values.items() if v != ""}


class LoyaltySummaries:
    def __init__(
        self,
        ledger: PointsLedger,
        tiers: TierStore,
        workspaces: LoyaltySettings,
        clock: Callable[[], datetime] = now_utc,
        items: LoyaltyItems | None = None,
        books: LoyaltyBooks | None = None,
    ) -> None:
        self.items = items  # both items in one read (else one GetItem each)
        self.books = books  # many customers' items in batches (a campaign's recipients)
        self.ledger = ledger
        self.tiers = tiers
        self.workspaces = workspaces
        self.clock = clock  # the day pending lots are read against (injected in tests)

    def summary(
        self, workspace_id: str, customer_id: str, today: date | None = None
    ) -> LoyaltySummary | None:
        """The customer's points and tier; None when the workspace has neither loyalty on nor
        tiers (nothing read)."""
        return self._read(workspace_id, customer_id, today)[1]

    def _read(
        self, workspace_id: str, customer_id: str, today: date | None
    ) -> tuple[TierRules | None, LoyaltySummary | None]:
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not (settings.loyalty.enabled or settings.tiers.tiers):
            return None, None
        day = today or self.clock().astimezone(UTC).date()
        balance, state = self._items(workspace_id, customer_id, bool(settings.tiers.tiers))
        view = balance.view(day)
        ahead = sorted(d for d, n in balance.lots.items() if d > day and n > 0)
        expiring = _schedule(settings, balance, day)
        points = PointsSummary(
            available=view.available,
            pending=view.pending,
            debt=view.debt,
            next_available_on=ahead[0].isoformat() if ahead else None,
            expiring_within_30=min(view.available, sum(n for d, n in expiring if d <= day + EXPIRING_SOON)),
            next_expiry_on=expiring[0][0].isoformat() if expiring else None,
        )
        if not settings.tiers.tiers:
            return settings.tiers, LoyaltySummary(points=points)
        name = state.tier if state else None
        tier = settings.tiers.tier(name)
        return settings.tiers, LoyaltySummary(
            points=points,
            tier=TierSummary(
                name=name if tier else None,
                since=_stamp(state.since) if state and tier else None,
                benefits=tier.benefits() if tier else {},
            ),
        )

    def template_values(self, workspace_id: str, customer_id: str) -> dict[str, Any]:
        """`points`, `points_pending`, `tier`, `tier_benefits` for a message (empty when the
        workspace has no loyalty: a template's defaults show)."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not (settings.loyalty.enabled or settings.tiers.tiers):
            return {}
        balance, state = self._items(workspace_id, customer_id, bool(settings.tiers.tiers))
        return loyalty_values(settings, balance, state.tier if state else None, self._today())

    def template_values_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """`template_values` of each customer, their balances read in one batch (and their
        tier states in another, when the workspace has tiers; pages of 100 keys); nothing
        read without loyalty. Without the batch reader: one customer at a time."""
        ids = list(dict.fromkeys(customer_ids))
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not (settings.loyalty.enabled or settings.tiers.tiers) or not ids:
            return {cid: {} for cid in ids}
        if self.books is None:
            return {cid: self.template_values(workspace_id, cid) for cid in ids}
        balances = self.books.balances_of(workspace_id, ids)
        tiers = self.books.tiers_of(workspace_id, ids) if settings.tiers.tiers else {}
        day = self._today()
        return {
            cid: loyalty_values(settings, balances.get(cid, PointsBalance()), tiers.get(cid), day)
            for cid in ids
        }

    def _today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def _items(
        self, workspace_id: str, customer_id: str, with_tier: bool
    ) -> tuple[PointsBalance, TierState | None]:
        if self.items is not None:
            return self.items.balance_and_tier(workspace_id, customer_id, with_tier)
        balance = self.ledger.balance(workspace_id, customer_id)
        return balance, self.tiers.get(workspace_id, customer_id) if with_tier else None

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str] = ()
    ) -> list[LoyaltyEvent]:
        """The customer's ledger entries (and those of the ids merged into it, each naming
        the id whose ledger holds it) and tier changes, newest first (at most 100 entries of
        the first 200 in key order of each ledger: a Query page or two each, and one Query
        of the tier audit); nothing read in a workspace without loyalty or tiers."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not (settings.loyalty.enabled or settings.tiers.tiers):
            return []
        events: list[LoyaltyEvent] = []
        for cid in dict.fromkeys([customer_id, *merged_ids]):
            cursor: str | None = None
            for _ in range(TIMELINE_PAGES):
                page, cursor = self.ledger.entries(workspace_id, cid, TIMELINE_ENTRIES, cursor)
                events += [
                    LoyaltyEvent(
                        at=iso(e.at) or "",
                        type=ENTRY_TYPES.get(e.key.kind, f"points_{e.key.kind}"),
                        points=e.points,
                        order_id=e.order_id,
                        customer_id=e.customer_id,
                    )
                    for e in page
                ]
                if cursor is None:
                    break
        events = sorted(events, key=lambda e: e.at, reverse=True)[:TIMELINE_ENTRIES]
        if settings.tiers.tiers:
            events += [
                LoyaltyEvent(at=iso(c.at) or "", type="tier_changed", tier_from=c.before, tier_to=c.after)
                for c in self.tiers.changes(workspace_id, customer_id)
            ]
        return sorted(events, key=lambda e: e.at, reverse=True)

    def loyalty_facts(self, workspace_id: str, customer_id: str, at: datetime) -> LoyaltyFacts:
        """What segments see (`points_balance`, `points_pending`, `tier`, `tier_since_days`,
        `points_expiring_within(days)`: when the available points expire) at `at`, and the
        days pending lots become available (rechecks): the balance item, and the tier state
        when the workspace has tiers."""
        settings = self.workspaces.settings(workspace_id)
        day = at.astimezone(UTC).date()
        balance, state = self._items(workspace_id, customer_id, bool(settings and settings.tiers.tiers))
        view = balance.view(day)
        return LoyaltyFacts(
            balance=view.available,
            pending=view.pending,
            tier=state.tier if state else None,
            tier_since=state.since if state else None,
            points_changes=tuple(day_start(d) for d, n in sorted(balance.lots.items()) if d > day and n > 0),
            expiring=_schedule(settings, balance, day),
        )
