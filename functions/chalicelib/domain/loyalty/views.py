"""The loyalty block of a customer's profile and its timeline events, as the Admin API
shows them (domain/loyalty/summary.py fills them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PointsSummary(BaseModel):
    available: int  # spendable today (pending lots and debt left out)
    pending: int  # earned, still inside the return window
    debt: int  # reversed after being spent: blocks redemption until earned back
    next_available_on: str | None = None  # the day the next pending points become available
    expiring_within_30: int = 0  # available points expiring in the next 30 days (by the policy)
    next_expiry_on: str | None = None  # the day the next available points expire (None: never)


class TierSummary(BaseModel):
    name: str | None  # None: no tier (below the lowest)
    since: str | None = None  # when the current tier was entered
    benefits: dict[str, Any] = {}  # points_multiplier, free_shipping, discount_percent


class LoyaltyEvent(BaseModel):
    """A ledger entry or a tier change, as the profile's timeline shows it."""

    at: str
    type: str  # points_earned, points_reversed, points_redeemed, points_adjusted, points_bonus, ...
    points: int | None = None  # signed
    order_id: str | None = None
    tier_from: str | None = None
    tier_to: str | None = None
    customer_id: str | None = None  # a ledger entry: whose ledger holds it (a merged id's, or the profile's)


class LoyaltySummary(BaseModel):
    points: PointsSummary
    tier: TierSummary | None = None  # None: the workspace has no tiers
