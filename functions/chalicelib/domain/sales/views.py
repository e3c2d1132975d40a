"""The pipeline's request and answer models (the API's and the CLI's; docs/sales.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.sales.model import Opportunity, OpportunityEvent
from chalicelib.domain.sales.settings import Rule, Stage, Target
from chalicelib.domain.timemath import iso


class OpportunityIn(BaseModel):
    """`POST /opportunities`: an opportunity for a customer (by id, or by email or phone
    resolved as tickets resolve them), in the first stage unless `stage` is given."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, min_length=3, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    stage: str | None = Field(default=None, min_length=1, max_length=40)
    value: Decimal = Field(default=Decimal(0), ge=0)
    currency: str | None = Field(
        default=None, min_length=3, max_length=3, description="default: the workspace's"
    )
    expected_close: date | None = None
    notes: str = Field(default="", max_length=10_000)


class FromTicketIn(BaseModel):
    """`POST /tickets/{id}/opportunity`: an opportunity from a pre-sale ticket (its customer)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200, description="default: the subject")
    owner: str | None = Field(default=None, min_length=1, max_length=100, description="default: the assignee")
    value: Decimal = Field(default=Decimal(0), ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    expected_close: date | None = None


class OpportunityPatch(BaseModel):
    """`PATCH /opportunities/{id}`: each field given is one event (`owner: null` unassigns)."""

    model_config = ConfigDict(extra="forbid")

    stage: str | None = Field(default=None, min_length=1, max_length=40)
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    value: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    expected_close: date | None = None
    note: str | None = Field(default=None, min_length=1, max_length=10_000)


class OpportunityQuery(BaseModel):
    """`GET /opportunities`: the workspace's opportunities, newest first."""

    stage: str | None = Field(None, max_length=40, description="Only those in this stage")
    owner: str | None = Field(None, max_length=100, description="Only this owner's")
    stale: Literal["true", "false"] | None = Field(None, description="`true`: only the stale ones")


class OpportunityEventView(BaseModel):
    kind: str
    at: str
    by: str
    data: dict[str, Any]


class OpportunityView(BaseModel):
    id: str
    customer_id: str
    title: str
    owner: str | None
    stage: str
    outcome: str
    value: str
    currency: str
    expected_close: str | None
    source: str
    ticket_id: str | None
    created_at: str
    updated_at: str
    closed_at: str | None
    stale: bool
    order_id: str | None
    actual_value: str | None
    difference: str | None


class OpportunityDetail(OpportunityView):
    events: list[OpportunityEventView]


class OpportunityList(BaseModel):
    opportunities: list[OpportunityView]


class StagesView(BaseModel):
    stages: list[Stage]
    stale_days: int


class TargetsView(BaseModel):
    targets: list[Target]


class RulesView(BaseModel):
    rules: list[Rule]


class StageFigures(BaseModel):
    stage: str
    probability: str
    outcome: str
    count: int
    value: str
    weighted: str


class OwnerFigures(BaseModel):
    owner: str
    won: str
    won_count: int
    target: str | None
    share: str | None = Field(description="won / target, 4 places (null without a target)")


class PipelineView(BaseModel):
    """`GET /pipeline`: per stage the opportunities' count, value and weighted forecast
    (value x probability), in the workspace currency; per owner the value won in the period
    against their target."""

    currency: str
    period: str
    zone: str = Field("UTC", description="the store's time zone the period's bounds are read in")
    stages: list[StageFigures]
    forecast: str = Field(description="the open stages' weighted value")
    owners: list[OwnerFigures]
    unconverted: int = Field(description="opportunities in a currency without a rate: not counted")
    stale: int


class PipelineQuery(BaseModel):
    period: str | None = Field(
        None, description="`YYYY-MM` or `YYYY-Qn` in the store's time zone (default: this month there)"
    )


def event_view(event: OpportunityEvent) -> OpportunityEventView:
    return OpportunityEventView(
        kind=event.kind.value, at=iso(event.at) or "", by=event.by, data=dict(event.data)
    )


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def opportunity_fields(o: Opportunity, stale: bool) -> dict[str, Any]:
    return {
        "id": o.id,
        "customer_id": o.customer_id,
        "title": o.title,
        "owner": o.owner,
        "stage": o.stage,
        "outcome": o.outcome.value,
        "value": str(o.value),
        "currency": o.currency,
        "expected_close": o.expected_close.isoformat() if o.expected_close else None,
        "source": o.source,
        "ticket_id": o.ticket_id,
        "created_at": iso(o.created_at) or "",
        "updated_at": iso(o.updated_at) or "",
        "closed_at": iso(o.closed_at),
        "stale": stale,
        "order_id": o.order_id,
        "actual_value": _money(o.actual_value),
        "difference": _money(o.difference),
    }
