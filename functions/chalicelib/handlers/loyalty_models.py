"""The API's answer models of loyalty's figures (issue 16: every answer typed in the document).

`LoyaltySection` is `GET /analytics/loyalty`'s answer and the report's `loyalty` section
(domain/loyalty/liability.py's `Liability.section`): points are integers, money decimal
strings rounded to the currency's minor units. Like api_models' answers, a key a model does
not state is refused, so the document stays what the route sends.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Money = str  # a decimal string, rounded to the currency's minor units


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PointFigures(_Answer):
    available: int
    pending: int
    debt: int
    expiring_30d: int = Field(description="Points whose lots expire within 30 days")
    outstanding: int


class MoneyFigures(_Answer):
    """The same figures at the redemption value of a point."""

    available: Money
    pending: Money
    debt: Money
    expiring_30d: Money
    outstanding: Money


class PointsLiability(_Answer):
    points: PointFigures
    money: MoneyFigures
    customers: int


class LiabilityParts(_Answer):
    customers: PointsLiability = Field(description="The live customers' balances")
    erased: PointsLiability = Field(description="Erased customers' balances, folded into the anonymous tally")
    total: PointsLiability


class TierGroup(_Answer):
    customers: int
    orders: int
    revenue: Money
    orders_per_customer: float | None


class ByTier(_Answer):
    members: dict[str, TierGroup] = Field(description="Members by tier name")
    non_members: dict[str, TierGroup] = Field(description="Non-members by tier name")


class LoyaltySection(_Answer):
    """The points liability and members by tier (docs/analytics.md#loyalty)."""

    as_of: str = Field(description="The day the figures are for, `YYYY-MM-DD` (UTC)")
    redeem_value_per_point: Money
    currency: str | None
    lot_expiry_days: int | None = Field(description="Days a lot of points lives, when points expire by lot")
    liability: LiabilityParts
    by_tier: ByTier


class Movers(_Answer):
    count: int
    sample: list[str] = Field(description="Up to 10 of their customer ids, sorted")


class TierPreview(_Answer):
    """Who proposed tier rules would move (domain/loyalty/tiers.py's `preview`)."""

    up: Movers = Field(description="Up at once: their value enters a higher tier")
    down: Movers = Field(description="Down at the next evaluations after grace")


class PointsTally(_Answer):
    orders: int
    order_points: int
    bonus_points: int
    points: int


class DryRunResult(_Answer):
    """Proposed points rules against recent orders (domain/loyalty/dry_run.py)."""

    customers: int = Field(description="Customers whose orders were read")
    since: str = Field(description="The start of the orders read, ISO time")
    current: PointsTally
    proposed: PointsTally
    difference: int = Field(description="Proposed points minus current points")
