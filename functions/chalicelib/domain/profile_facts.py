"""A stored profile as the segment language sees it: its facts, with computed scores.

Kept apart from `scoring` (pure RFM and lifecycle math) and from `segments` (the
language), which both stay leaves: this module reads a profile and feeds them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from chalicelib.domain.profile_model import bought, order_channels, order_sources
from chalicelib.domain.scoring import Rfm, Stage
from chalicelib.domain.segments import Facts
from chalicelib.domain.timemath import parse_iso


def facts_from_profile(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values of a stored profile item, by segment field name."""

    def number(key: str) -> Decimal | None:
        value = item.get(key)
        return None if value is None else Decimal(value)

    consent = {
        k: (item.get(a) or {}).get("s", "unknown")
        for k, a in (("email_consent", "ce"), ("sms_consent", "cs"))
    }
    return {
        "orders_count": Decimal(item.get("n", 0)),
        "total_spent": number("spent") or Decimal(0),
        "total_refunded": number("refd") or Decimal(0),
        "net_spent": number("net") or Decimal(0),
        "average_order_value": number("aov"),
        "average_days_between_orders": number("gap"),
        "is_member": bool(item.get("m")),
        **consent,
    }


def profile_facts(
    item: dict[str, Any],
    rfm_scores: Rfm | None = None,
    stage: Stage | None = None,
    model: dict[str, Decimal] | None = None,
    projection: Callable[[int], dict[str, Any]] | None = None,
) -> Facts:
    """The segment-language view of a stored profile, with its computed scores."""
    values = facts_from_profile(item)
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
        products=frozenset(bought(item, "p")),
        categories=frozenset(bought(item, "k")),
        sources=frozenset(order_sources(item)),
        channels=frozenset(order_channels(item)),
        times={
            "last_order_at": parse_iso(item.get("last")),
            "first_order_at": parse_iso(item.get("first")),
            "created_at": parse_iso(item.get("ca")),
        },
        projection=projection,
    )
