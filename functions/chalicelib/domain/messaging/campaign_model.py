"""A campaign's input (what the API and the CLI accept), the campaign as the domain
holds it, its queued batches, and its audience split."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.messaging.abtest import MIN_SAMPLE, Decision, Metric

_VARIANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,20}$")

Status = Literal["draft", "scheduled", "sending", "paused", "cancelled", "sent"]


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=20, pattern=_VARIANT_ID.pattern)
    template_id: str = Field(min_length=1, max_length=100)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    segment_id: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "sms"] = "email"
    variants: list[VariantIn] = Field(min_length=1, max_length=5)
    test_share: float | None = Field(default=None, gt=0, lt=1)
    winner_metric: Literal["clicks", "revenue"] = "clicks"
    decide_after_hours: float = Field(default=4, ge=0, le=24 * 14)
    min_sample_per_variant: int = Field(default=MIN_SAMPLE, ge=1, le=10_000_000)
    send_at: AwareDatetime | None = None
    over_cap: Literal["defer", "drop"] = "defer"
    # the featured product, `SOURCE_ID.PRODUCT_ID`: fills {{ product.* }} for every recipient
    product: str | None = Field(default=None, max_length=300, pattern=r"^[^.\s]+\.\S+$")

    @model_validator(mode="after")
    def _variants(self) -> CampaignIn:
        ids = [v.id for v in self.variants]
        if len(set(ids)) != len(ids):
            raise ValueError("variant ids must be unique")
        if self.test_share is not None and len(ids) < 2:
            raise ValueError("test_share needs at least two variants")
        return self


def stable_share(campaign_id: str, customer_id: str) -> float:
    """A customer's place in [0, 1) for this campaign: the same on every run and retry."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def campaign_scope(campaign_id: str) -> str:
    """The campaign's statistics scope (its variants' are below it)."""
    return f"camp#{campaign_id}"


def variant_scope(campaign_id: str, variant: str) -> str:
    return f"camp#{campaign_id}#v#{variant}"


Recipient = tuple[str, str]  # (customer id, variant id)


@dataclass(frozen=True)
class CampaignVariant:
    id: str
    template_id: str


@dataclass(frozen=True)
class FeaturedProduct:
    """A campaign's product (`ref` = `SOURCE_ID.PRODUCT_ID`) as the catalogue had it when the
    campaign was created."""

    ref: str
    title: str
    url: str | None = None
    image: str | None = None

    def values(self) -> dict[str, str]:
        """The template values `product.title`, `product.url`, `product.image` it has."""
        found = {"product.title": self.title, "product.url": self.url, "product.image": self.image}
        return {k: v for k, v in found.items() if v}


@dataclass
class Campaign:
    """A campaign: what it sends to whom, where it stands (status, phase, the member cursor
    and the recipients carried to the next page), its counters and its A/B state."""

    id: str
    workspace_id: str
    name: str
    segment_id: str
    channel: Literal["email", "sms"]
    variants: list[CampaignVariant]
    winner_metric: Metric
    decide_after_hours: Decimal
    over_cap: Literal["defer", "drop"]
    status: Status = "draft"
    phase: str = "all"  # all (no test), test, wait (for the decision), rest, done
    test_share: Decimal | None = None
    min_sample_per_variant: int | None = None  # None: MIN_SAMPLE (campaigns older than it)
    send_at: datetime | None = None
    created_at: datetime | None = None
    enqueued: int = 0
    skipped: int = 0
    duplicates: int = 0
    failed: int = 0
    cancelled: int = 0
    cursor: str | None = None
    carry: list[Recipient] = field(default_factory=list)
    winner: str | None = None
    decision: Decision | None = None
    decide_at: datetime | None = None
    finished_at: datetime | None = None
    product: FeaturedProduct | None = None

    @property
    def min_sample(self) -> int:
        return MIN_SAMPLE if self.min_sample_per_variant is None else self.min_sample_per_variant


@dataclass(frozen=True)
class CampaignBatch:
    """Up to a batch of recipients of one campaign: a queue message, a paused campaign's
    parked batch, or a batch held until it is due."""

    workspace_id: str
    campaign_id: str
    batch_id: str
    recipients: list[Recipient]
