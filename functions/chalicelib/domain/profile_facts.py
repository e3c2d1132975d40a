"""A profile as the segment language sees it: its facts, with computed scores (RFM and
lifecycle from the profile's figures).

Kept apart from `scoring` (pure RFM and lifecycle math) and from `segments` (the
language), which both stay leaves: this module reads a profile and feeds them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.scoring import DAY, Rfm, RfmEdges, Stage, lifecycle, rfm
from chalicelib.domain.segment_eval import Facts


def facts_from_profile(profile: CustomerProfile) -> dict[str, Any]:
    """Plain values of a profile, by segment field name."""
    figures = profile.figures
    consent = {
        f"{channel}_consent": found.state if (found := profile.consent(channel)) is not None else "unknown"
        for channel in ("email", "sms")
    }
    return {
        "orders_count": Decimal(figures.orders or 0),
        "total_spent": figures.spent or Decimal(0),
        "total_refunded": figures.refunded or Decimal(0),
        "net_spent": figures.net or Decimal(0),
        "average_order_value": figures.average_order_value,
        "average_days_between_orders": figures.average_gap_days,
        "is_member": profile.is_member,
        **consent,
    }


def profile_facts(
    profile: CustomerProfile,
    rfm_scores: Rfm | None = None,
    stage: Stage | None = None,
    model: dict[str, Decimal] | None = None,
    projection: Callable[[int], dict[str, Any]] | None = None,
) -> Facts:
    """The segment-language view of a profile, with its computed scores."""
    values = facts_from_profile(profile)
    if rfm_scores is not None:
        values.update(
            r_score=Decimal(rfm_scores.r),
            f_score=Decimal(rfm_scores.f),
            m_score=Decimal(rfm_scores.m),
            rfm_group=rfm_scores.group,
        )
    if stage is not None:
        values["lifecycle"] = stage.stage
    values.update(model or {})
    return Facts(
        values=values,
        products=frozenset(profile.products_bought()),
        categories=frozenset(profile.categories_bought()),
        sources=frozenset(profile.order_sources()),
        channels=frozenset(profile.order_channels()),
        times={
            "last_order_at": profile.last_order,
            "first_order_at": profile.first_order,
            "created_at": profile.created,
        },
        projection=projection,
    )


def score_profile(
    profile: CustomerProfile, edges: RfmEdges | None, store_rhythm_days: float | None, now: datetime
) -> tuple[Rfm | None, Stage]:
    """RFM (when the workspace has edges and the customer has orders) and lifecycle, now."""
    orders = profile.orders_count
    last = profile.last_order
    stage = lifecycle(orders, last, profile.average_gap, store_rhythm_days, now)
    scores = None
    if edges is not None and orders > 0 and last is not None:
        days = float((now - last) // DAY)
        scores = rfm(days, orders, float(profile.figures.net or 0), edges)
    return scores, stage
