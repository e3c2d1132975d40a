"""A flow's definition: the model a flow file is validated against, and what starts a run.

A flow (JSON under version control, loaded with `patron flow apply`) names a trigger, a
condition the customer must keep meeting, the events that end it early, and its steps:
waits and sends. The engine (flow_engine.py) steps the runs; the service (flows.py)
saves definitions, enrolls customers and answers the API.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain import segments, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.model import Channel, RunContext, policy_for
from chalicelib.domain.messaging.service import local_zone

TRIGGERS = (
    "order.first",  # the customer's first order (welcome)
    "member.joined",  # the customer became a member (welcome)
    "order.placed",  # every order (post-purchase cross-sell); key: the order
    "checkout.started",  # a checkout not completed (abandoned checkout); key: the checkout
    "birthday",  # the customer's birthday, in their time zone; key: the year
    "segment.entered",  # the customer entered `trigger.segment` (win-back); key: the day
    "tier.changed",  # the customer's loyalty tier changed (domain/loyalty/flow_events.py); key: its version
    "points.earned",  # loyalty points earned by an order or an action's bonus; key: the ledger entry
    "points.redeemed",  # points redeemed for a code or store credit; key: the ledger entry
    "points.reversed",  # points taken back by a refund or cancellation; key: the ledger entry
    "points.available",  # a lot of pending points became available (expiry on); key: "<lot day>:available"
    "points.expiring",  # a lot of points expires in 30 or 7 days; key: "<lot day>:30" / ":7"
)
EXITS = ("ordered", "checkout.completed", "segment.exited")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wait(_Strict):
    minutes: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0, le=366)
    until_local: str | None = None  # then on to the next HH:MM in the customer's time zone

    @field_validator("until_local")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError("until_local must be HH:MM (24 h)")
        return value

    def until(self, start: datetime, zone: ZoneInfo) -> datetime:
        """When the wait ends; held at the calendar's last instant (a run started from a
        time stamped in year 9999 waits for ever rather than failing)."""
        try:
            delta = timedelta(days=self.days, hours=self.hours, minutes=self.minutes)
        except OverflowError:
            delta = timemath.LONGEST
        at = timemath.shift(start, delta)
        if self.until_local is None:
            return at
        hour, minute = (int(x) for x in self.until_local.split(":"))
        local = timemath.local(at, zone)
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target < local:
            target = timemath.shift(target, timedelta(days=1))
        return timemath.back(target, start.tzinfo)


class Coupon(_Strict):
    """A unique code per message, kept with its expiry (`W#<ws>#CPN`)."""

    percent_off: Decimal | None = Field(default=None, gt=0, le=100)
    amount_off: Decimal | None = Field(default=None, gt=0)
    valid_hours: int = Field(default=48, ge=1, le=24 * 90)
    prefix: str = Field(default="", max_length=12, pattern=r"^[A-Z0-9]*$")

    @model_validator(mode="after")
    def _one_value(self) -> Coupon:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("a coupon has either percent_off or amount_off")
        return self


@dataclass(frozen=True)
class IssuedCoupon:
    """A coupon issued to a customer for one message (`message_key`): either a percentage
    or an amount (in `currency`) off, until `expires_at`."""

    code: str
    customer_id: str
    message_key: str
    expires_at: str
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    currency: str | None = None
    issued_at: str | None = None
    source_id: str | None = None  # the source whose store the code is created in
    store_id: str | None = None  # the store's id of the code once created ("exists": it had it)
    registered: bool | None = None  # False: its source has no Admin API, the code exists only here
    order_key: str | None = None  # redeemed: the stored order's key that carried the code
    redeemed_at: str | None = None
    revenue: Decimal | None = None  # the order's net revenue, in the workspace currency

    def status(self, now: str) -> str:
        """`redeemed`, else `expired` once `expires_at` is past (`now`: an ISO time), else `issued`."""
        if self.order_key:
            return "redeemed"
        return "expired" if self.expires_at <= now else "issued"


@dataclass(frozen=True)
class StoreCode:
    """A discount code the store's Admin API created (or already had: `existed`)."""

    store_id: str | None  # Shopify's discount node gid, WooCommerce's coupon id
    existed: bool = False


class Offer(_Strict):
    """Cross-sell: offer `offer` to a customer who bought `after` and not `offer` yet."""

    after: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)


class RecommendationsStep(_Strict):
    """A send's recommended products (`{{ recommendations }}` and the like), asked of the
    recommender for the run's customer: up to `limit`, for `placement` (None: the send's
    channel's), never the trigger's own products. The send's `recommend` pairs that match
    come first (reason `override`); the step is skipped when fewer than `min` are left."""

    placement: str | None = Field(default=None, pattern=_ID.pattern)
    limit: int = Field(default=4, ge=1, le=6)
    min: int = Field(default=1, ge=1, le=6)

    @model_validator(mode="after")
    def _min_within_limit(self) -> RecommendationsStep:
        if self.min > self.limit:
            raise ValueError("min cannot be more than limit")
        return self


class Send(_Strict):
    template: str = Field(pattern=_ID.pattern)
    channel: Channel = Channel.EMAIL
    over_cap: Literal["defer", "drop"] = "defer"
    when: str | None = None  # a segment condition: the step is skipped when false
    coupon: Coupon | None = None
    # hand-written pairs; alone, the step is skipped when nothing is left to offer; with
    # `recommendations`, those that match come first (overrides)
    recommend: tuple[Offer, ...] = ()
    recommendations: RecommendationsStep | None = None
    skip_if_late_hours: int | None = Field(default=None, ge=1)  # e.g. a birthday a day late

    @field_validator("when")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        return _checked_condition(value, "when")


class Step(_Strict):
    wait: Wait | None = None
    send: Send | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        if (self.wait is None) == (self.send is None):
            raise ValueError("a step is either a wait or a send")
        return self


class Trigger(_Strict):
    event: Literal[
        "order.first",
        "member.joined",
        "order.placed",
        "checkout.started",
        "birthday",
        "segment.entered",
        "tier.changed",
        "points.earned",
        "points.redeemed",
        "points.reversed",
        "points.available",
        "points.expiring",
    ]
    segment: str | None = None  # for segment.entered

    @model_validator(mode="after")
    def _segment(self) -> Trigger:
        if (self.event == "segment.entered") != (self.segment is not None):
            raise ValueError("segment is required for segment.entered, and only there")
        return self


class TemplateText(_Strict):
    name: str = Field(min_length=1, max_length=120)
    subject: str = ""
    html: str = ""
    text: str = ""
    sms: str = ""


class FlowDef(_Strict):
    id: str = Field(pattern=_ID.pattern)
    name: str = Field(min_length=1, max_length=120)
    enabled: bool = True
    trigger: Trigger
    conditions: str | None = None  # must hold at every send, else the run exits
    exit_on: tuple[Literal["ordered", "checkout.completed", "segment.exited"], ...] = ()
    reentry_days: int | None = Field(default=None, ge=1)  # at most one run per this many days
    steps: tuple[Step, ...] = Field(min_length=1, max_length=20)
    templates: dict[str, TemplateText] = Field(default_factory=dict)  # saved by `patron flow apply`

    @field_validator("conditions")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        return _checked_condition(value, "conditions")

    @model_validator(mode="after")
    def _sends(self) -> FlowDef:
        if not any(s.send for s in self.steps):
            raise ValueError("a flow needs at least one send step")
        return self


def _checked_condition(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return segments.to_text(segments.parse(value))
    except segments.SegmentSyntaxError as exc:
        raise ValueError(f"{name}: {exc.message}") from exc


@dataclass(frozen=True)
class StoredFlow:
    """A flow as saved: its version, whether it is on, its trigger event, and the definition
    as applied (JSON, what the API shows); `flow` is that definition validated."""

    id: str
    name: str
    version: int
    enabled: bool
    trigger: str | None
    definition: dict[str, Any]
    updated_at: str | None = None

    @cached_property
    def flow(self) -> FlowDef:
        return FlowDef.model_validate(self.definition)


def parse_flow(body: Any) -> FlowDef:
    try:
        return FlowDef.model_validate(body)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]) or "flow", "error": e["msg"]} for e in exc.errors()
        ]
        raise BadRequest("invalid flow", details) from exc


@dataclass(frozen=True)
class TriggerEvent:
    kind: str
    workspace_id: str
    customer_id: str
    key: str  # one run per flow and key: the order, the checkout, the year, the day
    at: datetime  # when it happened (a run's clock starts here)
    context: RunContext | None = None
    segment: str | None = None


def next_birthday(month_day: str, today: date) -> date:
    month, day = (int(x) for x in month_day.split("-"))
    for year in (today.year, today.year + 1):
        # 29 February in a common year: the 28th (and a day the month does not have, kept
        # before webhooks checked birthdays, its last day)
        candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= today:
            return candidate
    raise ValueError(month_day)


def birthday_event(
    workspace_id: str, customer_id: str, profile: CustomerProfile, now: datetime, settings: Any = None
) -> TriggerEvent:
    """The next birthday (today included), starting at local midnight (the workspace's
    default zone when the profile's own is unknown)."""
    zone = local_zone(profile, policy_for(settings))
    day = next_birthday(str(profile.birthday), now.astimezone(zone).date())
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(now.tzinfo)
    return TriggerEvent("birthday", workspace_id, customer_id, str(day.year), midnight)
