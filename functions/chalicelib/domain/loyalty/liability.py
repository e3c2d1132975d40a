"""The analytics report's `loyalty` section: the points liability and members by tier
(docs/analytics.md#loyalty).

Built during the report's one walk of the workspace (domain/walk.py): each page of
profiles brings its customers' balance items and tier states in one batch read each, never
a scan. Figures are points (whole numbers) and their money value at the redemption rate
(`LoyaltyRules.redeem_value_per_point`), rounded to the workspace currency's minor units.
The erased customers' anonymous tally (domain/loyalty/tally.py) is shown beside the live
ledgers and counted in the totals, so the books add up: total outstanding == the sum of
every live balance's `total` + the tally's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.lots import expiring_within
from chalicelib.domain.loyalty.model import PointsBalance, PointsView
from chalicelib.domain.loyalty.tally import PointsTally
from chalicelib.domain.money import round_money
from chalicelib.domain.workspace_settings import LoyaltyRules

EXPIRING_DAYS = 30  # "expiring within 30 days"
NO_TIER = "none"


@dataclass
class Points:
    """Sums of points in one part of the books."""

    available: int = 0
    pending: int = 0
    debt: int = 0
    expiring_30d: int = 0
    outstanding: int = 0  # the sum of the balances' totals (== available + pending - debt)
    customers: int = 0  # with a balance item (or, for the tally, ledgers closed)

    def add(self, view: PointsView, total: int, expiring: int) -> None:
        """A balance's view; its lots' expiring points, never more than it has available
        (a debt is settled from the lots before they can expire)."""
        expiring = min(expiring, view.available)
        self.available += view.available
        self.pending += view.pending
        self.debt += view.debt
        self.expiring_30d += expiring
        self.outstanding += total

    def plus(self, other: Points) -> Points:
        return Points(
            self.available + other.available,
            self.pending + other.pending,
            self.debt + other.debt,
            self.expiring_30d + other.expiring_30d,
            self.outstanding + other.outstanding,
            self.customers + other.customers,
        )

    def shown(self, per_point: Decimal, currency: str | None) -> dict[str, Any]:
        def money(n: int) -> str:
            return str(round_money(Decimal(n) * per_point, currency))

        figures = {
            "available": self.available,
            "pending": self.pending,
            "debt": self.debt,
            "expiring_30d": self.expiring_30d,
            "outstanding": self.outstanding,
        }
        return {
            "points": figures,
            "money": {name: money(n) for name, n in figures.items()},
            "customers": self.customers,
        }


@dataclass
class _Group:
    customers: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)  # net of refunds, counted orders of the period with a rate


@dataclass
class Liability:
    """The accumulator the report's walk feeds, a page at a time."""

    today: date  # pending or available, as of this day (the report's end)
    start: datetime
    end: datetime
    lot_days: int | None  # each lot expires this many days after its day (None: no lot expiry)
    live: Points = field(default_factory=Points)
    groups: dict[tuple[bool, str], _Group] = field(default_factory=dict)

    def add_page(
        self,
        profiles: Sequence[CustomerProfile],
        balances: Mapping[str, PointsBalance],
        tiers: Mapping[str, str | None],
    ) -> None:
        for profile in profiles:
            balance = balances.get(profile.customer_id)
            if balance is not None:
                self.live.customers += 1
                self.live.add(balance.view(self.today), balance.total, self._expiring(balance.lots))
            group = self.groups.setdefault(
                (profile.is_member, tiers.get(profile.customer_id) or NO_TIER), _Group()
            )
            group.customers += 1
            for entry in profile.orders.values():
                if not entry.counted or entry.placed_at is None:
                    continue
                if not self.start <= timemath.from_epoch(entry.placed_at) < self.end:
                    continue
                group.orders += 1
                if entry.amount is not None:
                    group.revenue += entry.amount - (entry.refunded or Decimal(0))

    def _expiring(self, lots: Mapping[date, int]) -> int:
        if self.lot_days is None:
            return 0
        return expiring_within(lots, self.today, EXPIRING_DAYS, self.lot_days)

    def section(self, rules: LoyaltyRules, currency: str | None, tally: PointsTally) -> dict[str, Any]:
        erased = Points(customers=tally.customers)
        erased.add(tally.view(self.today), tally.total, self._expiring(tally.lots))
        per_point = rules.redeem_value_per_point
        return {
            "as_of": self.today.isoformat(),
            "redeem_value_per_point": str(per_point),
            "currency": currency,
            "lot_expiry_days": self.lot_days,
            "liability": {
                "customers": self.live.shown(per_point, currency),
                "erased": erased.shown(per_point, currency),
                "total": self.live.plus(erased).shown(per_point, currency),
            },
            "by_tier": self._by_tier(currency),
        }

    def _by_tier(self, currency: str | None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {"members": {}, "non_members": {}}
        for (member, tier), group in sorted(self.groups.items(), key=lambda kv: (not kv[0][0], kv[0][1])):
            out["members" if member else "non_members"][tier] = {
                "customers": group.customers,
                "orders": group.orders,
                "revenue": str(round_money(group.revenue, currency)),
                "orders_per_customer": round(group.orders / group.customers, 4) if group.customers else None,
            }
        return out


def lot_days(rules: LoyaltyRules) -> int | None:
    """Days after which each lot expires, when the workspace expires points by lots
    (`expiry` "lots", `expiry_days`); None otherwise (no expiry, or by inactivity: its
    deadline is the customer's last activity, not a lot's day)."""
    return rules.expiry_days if rules.expiry == "lots" and rules.expiry_days > 0 else None
