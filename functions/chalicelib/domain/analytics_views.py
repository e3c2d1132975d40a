"""Response models of the analytics the console reads (docs/analytics.md): the report's
`trends`, `rfm_grid` and `lifecycle_funnel`, a segment's daily sizes, and the ops health.
Money is Decimal rounded to the workspace currency's minor units (a string in JSON)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel


class TrendBucket(BaseModel):
    label: str  # "2026-03" (a month) or "2026-W10" (an ISO week)
    start: datetime  # inclusive, cut at the period's start
    end: datetime  # exclusive, cut at the period's end
    revenue: Decimal  # converted orders placed in the bucket, gross
    net_revenue: Decimal  # less those orders' refunds
    orders: int
    average_order_value: Decimal | None  # revenue / converted orders; None without one
    new_buyers: int  # first counted order ever in this bucket
    returning_buyers: int  # ordered in this bucket, first order in an earlier one
    active_members: int  # members (accounts) who ordered in this bucket
    unconverted_orders: int  # orders without a rate: counted, not in money


class Trends(BaseModel):
    grain: str  # "month", or "week" for a period under 90 days
    buckets: list[TrendBucket]


class RfmCell(BaseModel):
    r_score: int
    f_score: int
    customers: int
    revenue: Decimal  # the cell's customers' net spend (RFM's monetary), all time
    share: float  # of the scored customers
    definition: str  # the segment-language text whose members are the cell's customers


class RfmGrid(BaseModel):
    as_of: datetime  # scored now, with the workspace's stored edges, like the segments
    scored: bool  # False until the nightly job has stored the workspace's RFM edges
    customers: int  # customers with an order, scored
    cells: list[RfmCell]  # 25 cells, R 5..1 by F 1..5 (empty without edges)


class LifecycleStage(BaseModel):
    stage: str
    customers: int
    share: float | None  # of all customers
    segment: str  # the built-in segment id: lifecycle:<stage>


class FunnelStep(BaseModel):
    step: str
    customers: int
    conversion: float | None  # from the step before (None for the first or after an empty one)
    of_customers: float | None  # from the first step
    definition: str  # the segment-language text whose members are this step's customers


class LifecycleFunnel(BaseModel):
    as_of: datetime
    stages: list[LifecycleStage]  # prospect, new, active, at_risk, lapsed, churned
    steps: list[FunnelStep]  # customers, buyers, repeat_buyers, active_repeat_buyers


class SizePoint(BaseModel):
    day: date
    size: int


class SegmentSizes(BaseModel):
    segment_id: str
    points: list[SizePoint]  # one per day the job recorded, oldest first


class QueueDepth(BaseModel):
    queue: str
    messages: int


class UnconvertedCurrency(BaseModel):
    currency: str
    orders: int
    amount: Decimal  # in that currency, gross
    command: str


class OpsHealth(BaseModel):
    quarantine_open: int  # the workspace's quarantined deliveries not replayed yet
    dead_letters: list[QueueDepth]  # messages waiting on the stack's dead-letter queues
    unconverted_currencies: list[UnconvertedCurrency]
