"""The admin API's own request and response models: the query strings the handlers read, and the
answers that wrap domain views (a list, a privacy request's receipt). The handlers return these,
so the OpenAPI document (handlers/openapi.py) states what they send. Imported by the handlers
that use them, inside the handler (cold start, handlers/__init__.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from chalicelib.domain.analytics_views import LifecycleFunnel, RfmGrid, Trends
from chalicelib.domain.enrolment import MembershipView
from chalicelib.domain.messaging.performance import Results
from chalicelib.domain.messaging.templates import TemplateView
from chalicelib.domain.segment_service import SegmentView
from chalicelib.handlers.loyalty_models import LoyaltySection


class PageQuery(BaseModel):
    limit: int | None = Field(None, ge=1, description="Items on a page (kept within the route's bounds)")
    cursor: str | None = Field(None, description="The `next_cursor` of the page before (URL-encoded)")


class DateRangeQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(
        None, alias="from", description="First day, ISO date or time (UTC unless offset)"
    )
    to: str | None = Field(None, description="Day after the last, ISO date or time (UTC unless offset)")


class ScopeQuery(BaseModel):
    scope: str | None = Field(None, max_length=200, description="`camp#ID`, `flow#ID` or `...#v#VARIANT`")


class CouponQuery(PageQuery):
    status: Literal["issued", "redeemed", "expired"] | None = None
    flow: str | None = Field(None, description="A flow's id")
    campaign: str | None = Field(None, description="A campaign's id")


class SegmentIn(BaseModel):
    name: str
    definition: str = Field(description="The segment language (docs/segments.md)")


class PreviewIn(BaseModel):
    customer_id: str
    values: dict[str, Any] = Field(default_factory=dict, description="Extra template values")


class FlowDryRunIn(BaseModel):
    customer_id: str
    at: str | None = Field(None, description="ISO time with its offset (default: now)")


class CustomerListQuery(PageQuery):
    """`GET /customers`: `email` (exact; then the others are ignored) or one of `q`, `segment`,
    `tier`, `tag` (docs/data-model.md#the-customer-list)."""

    email: str | None = Field(None, max_length=320, description="An exact email address")
    q: str | None = Field(None, max_length=100, description="A name, email or phone prefix")
    segment: str | None = Field(None, max_length=200, description="A segment id: its members")
    tier: str | None = Field(None, max_length=100, description="A tier name: its members")
    tag: str | None = Field(None, max_length=100, description="A tag: the customers with it (any case)")


class PrivacyAccepted(BaseModel):
    request_id: str
    state: Literal["accepted"] = "accepted"


class SegmentList(BaseModel):
    segments: list[SegmentView]


class TemplateList(BaseModel):
    templates: list[TemplateView]


class _Answer(BaseModel):
    """An answer read from a domain dict: a key the model does not state is refused (a 500 in
    the tests), so the documented schema stays what the route sends."""

    model_config = ConfigDict(extra="forbid")


class LedgerEntryOut(_Answer):
    """One points ledger entry (domain/loyalty/ledger.py's entry_json)."""

    customer_id: str = Field(description="Whose ledger holds it: the customer's, or an id merged into them")
    source: str
    external_id: str
    kind: str
    points: int
    at: str | None
    order_id: str | None
    rate: str | None = Field(description="Points per unit of the workspace currency, a decimal string")
    available_on: str | None = Field(description="ISO day the points become available")
    reversed: int | None = Field(description="An earning's points reversed since (refunds, cancellations)")
    reason: str | None
    by: str | None
    lots: dict[str, int] = Field(description="Points by the ISO day they become available")
    debt: int
    amount: str | None = Field(description="A redemption's money value, a decimal string")
    currency: str | None
    code: str | None
    source_id: str | None


class PointsPageOut(_Answer):
    available: int
    pending: int
    debt: int
    total: int = Field(description="The ledger's sum")
    entries: list[LedgerEntryOut]
    next_cursor: str | None


class MembershipAuditEntry(_Answer):
    kind: str
    at: str
    channel: str
    by: str
    number: str | None
    reason: str | None


class MembershipAuditPage(_Answer):
    customer_id: str
    membership: MembershipView
    entries: list[MembershipAuditEntry]
    next_cursor: str | None


class SegmentMembersPage(_Answer):
    customers: list[str]
    cursor: str | None


class Unsubscribed(_Answer):
    status: Literal["unsubscribed"]
    channel: str


class TierBenefits(_Answer):
    points_multiplier: str = Field(description="A decimal string")
    free_shipping: bool
    discount_percent: str = Field(description="A decimal string")


class TierProgress(_Answer):
    next_tier: str
    needed: str = Field(description="Qualifying value still needed, a decimal string")
    value: str = Field(description="The qualifying value now, a decimal string")


class TierViewOut(_Answer):
    """A customer's tier (domain/loyalty/tier_service.py's view_json)."""

    tier: str | None
    since: str | None
    benefits: TierBenefits | None
    value: str = Field(description="The qualifying value, a decimal string")
    measure: str
    below_keep_since: str | None = Field(description="ISO day the value fell below the keep threshold")
    held_until: str | None = Field(description="ISO day a manual move holds the tier until")
    progress: TierProgress | None


class CouponOut(_Answer):
    """A coupon a flow or campaign issued (domain/messaging/coupons.py's coupon_view)."""

    code: str
    status: Literal["issued", "redeemed", "expired"]
    customer_id: str | None
    flow: str | None
    campaign: str | None
    step: int | None
    registered: bool = Field(description="False: its source has no Admin API, the code exists only here")
    source_id: str | None
    issued_at: str | None
    expires_at: str
    redeemed_at: str | None
    order_key: str | None
    revenue: str | None = Field(description="The redeeming order's net revenue, a decimal string")


class CouponPage(_Answer):
    coupons: list[CouponOut]
    cursor: str | None


class FlowOut(_Answer):
    """A flow as stored (domain/messaging/flows.py's _flow_view): its definition as applied."""

    flow_id: str
    name: str
    version: int
    enabled: bool
    trigger: Any = Field(description="The definition's trigger")
    definition: dict[str, Any] = Field(description="The flow definition (docs/messaging.md#flows)")


class FlowDetail(FlowOut):
    """One flow with its results (`GET /flows/{id}`)."""

    results: Results = Field(
        description="Totals and each A/B variant's, rated and rounded as /messaging/stats"
    )


class FlowRunOut(_Answer):
    run_id: str
    flow_id: str
    status: str = Field(description="active, done, exited or failed")
    step: int = Field(description="The next step to take")
    due: str | None
    started: str | None
    reason: str | None = Field(description="Why it ended")
    log: list[dict[str, Any]] = Field(description="The last send decisions")
    tries: int = Field(description="Failed attempts of the current step so far")
    error: str | None = Field(description="The last failure")


class CustomerRuns(_Answer):
    customer_id: str
    runs: list[FlowRunOut]


Figure = int | str  # a counter, or a decimal string for money (revenue)


class CampaignVariantOut(_Answer):
    id: str
    template_id: str


class AbDecision(_Answer):
    outcome: Literal["winner", "no_winner"]
    winner: str | None
    reason: str | None
    leader: str | None = Field(description="The best rate, significant or not")
    p_value: float | None = Field(description="Bonferroni-corrected, the largest over the comparisons")
    rule: str
    samples: dict[str, dict[str, Figure]]


class CampaignProgress(_Answer):
    """A campaign and where it stands (domain/messaging/campaigns.py's progress)."""

    campaign_id: str
    name: str
    status: Literal["draft", "scheduled", "sending", "paused", "cancelled", "sent"]
    phase: str = Field(description="all (no test), test, wait (for the decision), rest, done")
    segment_id: str
    channel: Literal["email", "sms"]
    product: str | None
    variants: list[CampaignVariantOut]
    test_share: float | None
    winner_metric: Literal["clicks", "revenue"]
    winner: str | None
    min_sample_per_variant: int | None
    decision: AbDecision | None
    send_at: str | None
    decide_at: str | None
    enqueued: int
    skipped: int = Field(description="No consent or no address, seen when enqueuing")
    sent: int
    deferred: int
    dropped: int
    duplicates: int
    failed: int
    cancelled: int
    remaining: int
    stats: dict[str, Figure]
    variant_stats: dict[str, dict[str, Figure]]
    results: Results = Field(
        description="Totals and each A/B variant's, rated and rounded as /messaging/stats"
    )


class BackfillDone(_Answer):
    state: Literal["complete"]


class BackfillRunning(_Answer):
    state: Literal["queued", "running"]
    processed: int = Field(description="Profiles evaluated so far")


class StoredSegmentDetail(_Answer, SegmentView):
    """A stored segment (its view) with its size, a sample and its backfill (domain/membership.py)."""

    builtin: Literal[False]
    backfill: BackfillDone | BackfillRunning
    size: int
    sample: list[str] = Field(description="Up to 10 members' customer ids")


class BuiltinSegmentDetail(_Answer):
    """A built-in segment (`lifecycle:at_risk`, `rfm:champions`, `account:guest`...)."""

    segment_id: str
    builtin: Literal[True]
    size: int
    sample: list[str] = Field(description="Up to 10 members' customer ids")


class SegmentDetail(RootModel[StoredSegmentDetail | BuiltinSegmentDetail]):
    pass


class FlowUnchanged(FlowOut):
    unchanged: Literal[True] = Field(description="The same definition was applied again: no new version")


class FlowApplied(RootModel[FlowOut | FlowUnchanged]):
    pass


class CouponFlowOut(FlowOut):
    """A flow that issues coupons, with its codes' figures (domain/messaging/coupons.py)."""

    codes_issued: int
    codes_registered: int
    codes_unregistered: int = Field(description="Codes its source's store does not know (no Admin API)")
    codes_redeemed: int
    redemption_rate: float | None
    coupon_revenue: str = Field(description="The redeeming orders' net revenue, a decimal string")
    codes_note: str | None


class FlowList(_Answer):
    flows: list[FlowOut | CouponFlowOut]


class DryRunWait(_Answer):
    step: int
    wait_until: str | None


class DryRunSend(_Answer):
    step: int
    send_at: str | None
    send_at_local: str = Field(description="In the customer's zone, `YYYY-MM-DD HH:MM ZONE`")
    template: str
    channel: Literal["email", "sms"]
    outcome: str = Field(description="`would send`, `would be <status>`, `would exit` or `would skip`")
    reason: str | None
    coupon: bool


class FlowDryRun(_Answer):
    """What a flow would do for a customer (domain/messaging/flows.py's dry_run)."""

    flow: str
    customer_id: str
    trigger_at: str | None
    steps: list[DryRunWait | DryRunSend]


Money = str  # a decimal string, rounded to the currency's minor units


class Period(_Answer):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    from_: str = Field(alias="from")
    to: str


class Kpis(_Answer):
    customers: int
    buyers: int
    active_customers: int
    orders: int
    revenue: Money
    refunds: Money
    net_revenue: Money
    average_order_value: Money | None
    orders_per_active_customer: float | None
    repeat_purchase_rate: float | None
    churn_rate: float | None
    unconverted_orders: int = Field(description="Orders in a currency without a rate: left out of money")


class MembersVsGuests(_Answer):
    members: Kpis
    guests: Kpis


class Cohort(_Answer):
    customers: int
    retention: list[float] = Field(description="Share ordering k months after their first month, k = 0...")


class ChurnProduct(_Answer):
    product: str
    last_order_of_lost_customers: int
    buyers: int
    share: float
    title: str | None
    url: str | None


class ChurnPoints(_Answer):
    lost_customers: int
    after_orders: dict[str, int] = Field(description="Lost customers by their orders count (`5+`)")
    after_products: list[ChurnProduct]


class CurrencyWarning(_Answer):
    kind: Literal["unconverted_currency"]
    currency: str
    orders: int
    amount: Money
    message: str
    command: str


class Report(_Answer):
    """The workspace report (domain/workspace_analytics.py's build_report)."""

    period: Period
    kpis: Kpis
    members_vs_guests: MembersVsGuests
    cohort_retention: dict[str, Cohort] = Field(description="By first-order month, `YYYY-MM`")
    days_between_orders: dict[str, int] = Field(description="Consecutive orders' gaps by bucket of days")
    churn_points: ChurnPoints
    warnings: list[CurrencyWarning]
    trends: Trends
    rfm_grid: RfmGrid
    lifecycle_funnel: LifecycleFunnel


class ReportWithLoyalty(Report):
    loyalty: LoyaltySection = Field(description="The loyalty section, as GET /analytics/loyalty answers it")


class WorkspaceReport(RootModel[Report | ReportWithLoyalty]):
    pass
