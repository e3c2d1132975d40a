"""The points rules' dry-run: proposed rules applied to a workspace's recent orders, beside
the current rules, writing nothing (docs/loyalty.md#dry-run).

It reads what the nightly job reads (the customer walk through the lifecycle member lists,
no scan), at most `max_customers` profiles, and each profile's recent orders as the profile
keeps them (the most recent few, in the workspace currency). An order's points are
`floor(amount x rate)` as `PointsService` earns them (tier multipliers are 1 here); the
`first_order` bonus is counted once per customer with a counted order. It writes nothing:
no ledger, no rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.model import earned_points
from chalicelib.domain.loyalty.ports import LoyaltySettings
from chalicelib.domain.loyalty.rules import FIRST_ORDER, check_bonuses
from chalicelib.domain.workspace_settings import LoyaltyRules

MAX_CUSTOMERS = 1000


class Customers(Protocol):
    def customers_of(self, workspace_id: str, size: int = ...) -> Any:
        """The workspace's live profiles, page by page (chalicelib.domain.walk.CustomerWalk)."""
        ...


@dataclass(frozen=True)
class Tally:
    orders: int = 0
    order_points: int = 0
    bonus_points: int = 0

    def json(self) -> dict[str, int]:
        total = self.order_points + self.bonus_points
        return {
            "orders": self.orders,
            "order_points": self.order_points,
            "bonus_points": self.bonus_points,
            "points": total,
        }


def tally(rules: LoyaltyRules, profiles: list[CustomerProfile], since: datetime) -> Tally:
    """The points `rules` would give the profiles' counted orders placed since `since`."""
    if not rules.enabled:
        return Tally()
    orders = points = bonuses = 0
    rate = rules.rate()
    for profile in profiles:
        counted = [
            e
            for e in profile.orders.values()
            if e.counted and e.amount is not None and (e.placed_at or 0) >= since.timestamp()
        ]
        orders += len(counted)
        points += sum(earned_points(e.amount, rate) for e in counted if e.amount is not None)
        if counted:
            bonuses += rules.bonuses.get(FIRST_ORDER, 0)
    return Tally(orders, points, bonuses)


class LoyaltyDryRun:
    def __init__(self, customers: Customers, workspaces: LoyaltySettings) -> None:
        self.customers = customers
        self.workspaces = workspaces

    def run(
        self,
        workspace_id: str,
        proposed: LoyaltyRules,
        now: datetime,
        days: int = 30,
        max_customers: int = 200,
    ) -> dict[str, Any]:
        """Points the current and the proposed rules give the recent orders (read only)."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise NotFound("workspace not found")
        profiles: list[CustomerProfile] = []
        for profile in self.customers.customers_of(workspace_id):
            if len(profiles) >= min(max_customers, MAX_CUSTOMERS):
                break
            profiles.append(profile)
        since = now - timedelta(days=days)
        current, after = tally(settings.loyalty, profiles, since), tally(proposed, profiles, since)
        return {
            "customers": len(profiles),
            "since": since.isoformat(),
            "current": current.json(),
            "proposed": after.json(),
            "difference": after.json()["points"] - current.json()["points"],
        }


class DryRunIn(BaseModel):
    """The body of `POST /workspace/loyalty/dry-run`: the rules to change (the others as
    they are), how far back and how many customers."""

    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool | None = None
    points_per_unit: Decimal | None = Field(default=None, gt=0, le=1000, allow_inf_nan=False)
    bonuses: dict[str, StrictInt] | None = None
    days: StrictInt = Field(default=30, ge=1, le=365)
    customers: StrictInt = Field(default=200, ge=1, le=MAX_CUSTOMERS)
    at: AwareDatetime | None = None

    def proposed(self, rules: LoyaltyRules) -> LoyaltyRules:
        """The current rules with this body's changes (RulesError: a bonus is not valid)."""
        return replace(
            rules,
            enabled=rules.enabled if self.enabled is None else self.enabled,
            points_per_unit=rules.points_per_unit if self.points_per_unit is None else self.points_per_unit,
            bonuses=rules.bonuses if self.bonuses is None else check_bonuses(self.bonuses),
        )
