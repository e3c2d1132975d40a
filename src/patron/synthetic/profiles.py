"""Synthetic customers for tests and benchmarks: profile items as the order pipeline stores them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.profile_items import profile_item as stored_profile
from chalicelib.domain.customer_profile import OrderEntry
from chalicelib.domain.profiles import Profile, WorkspaceSettings


def profile_item(
    settings: WorkspaceSettings, customer_id: str, rng: random.Random, now: datetime
) -> dict[str, Any]:
    """A customer with orders over up to two years: a first order, then repeat orders at a
    customer-specific rate until they stop buying (some never come back). Aggregates are
    derived from the order entries by the pipeline's own code."""
    profile = Profile.new(settings.workspace_id, customer_id, now)
    first = rng.uniform(20, 700)
    rate = rng.choice([0.0, 0.0, 0.01, 0.03, 0.08])  # orders per day while the customer is active
    life = rng.expovariate(1 / 200)
    days = [first]
    day = first
    while rate and (day := day - rng.expovariate(rate)) > max(0.0, first - life):
        days.append(day)
    for k, ago in enumerate(days):
        at = now - timedelta(days=ago)
        profile.state.orders[f"src_x.{k}"] = OrderEntry(
            1, placed_at=int(at.timestamp()), amount=Decimal(rng.randint(20, 90))
        )
    profile.recompute(settings)
    return stored_profile(profile.state)
