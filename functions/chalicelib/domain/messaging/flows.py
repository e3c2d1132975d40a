"""Automated flows: marketing sequences defined as data, run by triggers and a minute tick.

A flow (JSON under version control, loaded with `patron flow apply`) names a trigger, a
condition the customer must keep meeting, the events that end it early, and its steps:
waits and sends. A trigger *enrolls* the customer: one run item per flow and trigger key
(the checkout, the order, the year of the birthday...), created with a conditional put,
so a redelivered stream record or a replayed event enrolls nobody twice. A run waits in the
sparse due index (`F#<day>#<shard>`); the minute tick advances the runs that are due:

- each send goes through `MessagingService.send` with the key
  `flow:<flow>:<run key>:<step>`, so consent, opt-outs, suppressions, quiet hours, caps,
  credits and exactly-once hold for flows as for everything else;
- a message deferred by quiet hours or the cap moves the run's due time, nothing is lost;
- the flow's condition is checked before every send, and an order placed after the run
  began ends runs that exit on `ordered`, both when the order arrives (the ingest stream)
  and again before each send (the profile), so a customer who has ordered never gets the
  reminder.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain import segments, timemath
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.messaging.service import (
    Channel,
    Decision,
    InFlight,
    MessagingService,
    Outgoing,
    Policy,
    Purpose,
    Throttled,
    local_zone,
    policy_for,
)
from chalicelib.domain.messaging.stats import NoStats, Stats
from chalicelib.domain.models import now_utc
from chalicelib.domain.money import round_money

SHARDS = 16
LOOKBACK_DAYS = 2  # the first tick (no watermark yet) looks this far back for due runs
MAX_ATTEMPTS = 8  # a run whose step fails this often is parked as `failed` (replayable)
TRIGGERS = (
    "order.first",  # the customer's first order (welcome)
    "member.joined",  # the customer became a member (welcome)
    "order.placed",  # every order (post-purchase cross-sell); key: the order
    "checkout.started",  # a checkout not completed (abandoned checkout); key: the checkout
    "birthday",  # the customer's birthday, in their time zone; key: the year
    "segment.entered",  # the customer entered `trigger.segment` (win-back); key: the day
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


class Offer(_Strict):
    """Cross-sell: offer `offer` to a customer who bought `after` and not `offer` yet."""

    after: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)


class Send(_Strict):
    template: str = Field(pattern=_ID.pattern)
    channel: Channel = Channel.EMAIL
    over_cap: Literal["defer", "drop"] = "defer"
    when: str | None = None  # a segment condition: the step is skipped when false
    coupon: Coupon | None = None
    recommend: tuple[Offer, ...] = ()  # the step is skipped when nothing is left to offer
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
        "order.first", "member.joined", "order.placed", "checkout.started", "birthday", "segment.entered"
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
    context: dict[str, Any] = field(default_factory=dict)
    segment: str | None = None


class FlowStore(Protocol):
    def put_flow(self, workspace_id: str, item: dict[str, Any], expected_version: int | None) -> None: ...
    def get_flow(self, workspace_id: str, flow_id: str) -> dict[str, Any] | None: ...
    def list_flows(self, workspace_id: str) -> list[dict[str, Any]]: ...
    def start_run(self, run: dict[str, Any]) -> bool: ...  # False: this run exists already
    def take_reentry(
        self, workspace_id: str, customer_id: str, flow_id: str, at: str, cutoff: str
    ) -> bool: ...
    def runs(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]: ...
    def get_run(self, workspace_id: str, customer_id: str, run_id: str) -> dict[str, Any] | None: ...
    def save_run(self, run: dict[str, Any], expected_step: int, expected_due: str | None) -> bool: ...
    def due(self, bucket: str, until: str) -> list[tuple[str, str]]: ...
    def watermark(self) -> str | None: ...
    def set_watermark(self, until: str) -> None: ...


class CouponStore(Protocol):
    def issue(self, workspace_id: str, code: str, values: dict[str, Any]) -> dict[str, Any]: ...


def due_bucket(at: datetime, customer_id: str) -> str:
    shard = int(customer_id[-4:], 16) % SHARDS if re.fullmatch(r"[0-9a-f]{4}", customer_id[-4:]) else 0
    return f"F#{at:%Y-%m-%d}#{shard:02d}"


def coupon_code(salt: str, message_key: str, prefix: str) -> str:
    """Unique per message, unguessable, and the same on every retry of that message."""
    digest = hmac.new(salt.encode(), message_key.encode(), hashlib.sha256).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


def next_birthday(month_day: str, today: date) -> date:
    month, day = (int(x) for x in month_day.split("-"))
    for year in (today.year, today.year + 1):
        # 29 February in a common year: the 28th (and a day the month does not have, kept
        # before webhooks checked birthdays, its last day)
        candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= today:
            return candidate
    raise ValueError(month_day)


@dataclass
class Outcome:
    run: str
    status: str  # waiting, sent, done, exited, retry, failed
    detail: str = ""
    messages: list[str] = field(default_factory=list)  # this advance's send decisions


class FlowService:
    def __init__(
        self,
        store: FlowStore,
        messaging: MessagingService,
        profiles: Any,
        segment_service: Any,
        workspaces: Any,
        templates: Any,
        coupons: CouponStore,
        save_template: Callable[[str, str, TemplateText], Any] | None = None,
        clock: Callable[[], datetime] = now_utc,
        stats: Stats | None = None,
    ) -> None:
        self.store = store
        self.messaging = messaging
        self.profiles = profiles
        self.segments = segment_service
        self.workspaces = workspaces
        self.templates = templates
        self.coupons = coupons
        self.save_template = save_template
        self.stats = stats or NoStats()  # sent/deferred/dropped per flow (SES events add the rest)
        self.clock = clock  # a run due in the past is filed under today: the tick reads from today on

    # -- definitions ----------------------------------------------------------------
    def apply(self, workspace_id: str, body: Any) -> dict[str, Any]:
        """Save a flow definition (a new version) and the templates it carries."""
        flow = parse_flow(body)
        for template_id, text in flow.templates.items():
            if self.save_template is None:
                raise BadRequest("templates cannot be saved here")
            if not self._same_template(workspace_id, template_id, text):
                self.save_template(workspace_id, template_id, text)
        for i, step in enumerate(flow.steps):
            if step.send is None:
                continue
            try:
                self.templates.latest(workspace_id, step.send.template)
            except LookupError as exc:
                raise BadRequest(
                    f"steps.{i}.send.template: no template {step.send.template!r} in this workspace",
                    [{"field": f"steps.{i}.send.template", "error": "unknown template"}],
                ) from exc
        current = self.store.get_flow(workspace_id, flow.id)
        version = int(current["ver"]) + 1 if current else 1
        definition = flow.model_dump(mode="json", exclude={"templates"})
        if current and current.get("def") == definition:
            return _flow_view(current) | {"unchanged": True}  # applying the same file twice
        item = {"id": flow.id, "name": flow.name, "ver": version, "on": flow.enabled, "def": definition}
        item["trg"] = flow.trigger.event
        try:
            self.store.put_flow(workspace_id, item, int(current["ver"]) if current else None)
        except Conflict as exc:
            raise Conflict("the flow changed meanwhile; apply again") from exc
        return _flow_view(item)

    def _same_template(self, workspace_id: str, template_id: str, text: TemplateText) -> bool:
        try:
            current = self.templates.latest(workspace_id, template_id)
        except LookupError:
            return False
        return bool(current.version) and all(
            getattr(current, part) == getattr(text, part) for part in ("subject", "html", "text", "sms")
        )

    def get(self, workspace_id: str, flow_id: str) -> dict[str, Any]:
        item = self.store.get_flow(workspace_id, flow_id)
        if item is None:
            raise NotFound("flow not found")
        return _flow_view(item)

    def has_flows(self, workspace_id: str) -> bool:
        """Whether any flow is defined (cached): events of a workspace without flows cost nothing."""
        return bool(self.store.list_flows(workspace_id))

    def all(self, workspace_id: str) -> list[dict[str, Any]]:
        return [_flow_view(i) for i in self.store.list_flows(workspace_id)]

    def _flows(self, workspace_id: str, trigger: str) -> list[FlowDef]:
        return [
            FlowDef.model_validate(i["def"])
            for i in self.store.list_flows(workspace_id)
            if i.get("on") and i.get("trg") == trigger
        ]

    # -- triggers -------------------------------------------------------------------
    def trigger(self, event: TriggerEvent) -> list[str]:
        """Enroll the customer in every enabled flow this event starts; the runs started."""
        started = []
        for flow in self._flows(event.workspace_id, event.kind):
            if flow.trigger.segment is not None and flow.trigger.segment != event.segment:
                continue
            run_id = f"{flow.id}#{event.key}"
            if flow.reentry_days is not None:
                cutoff = timemath.shift(event.at, -timemath.span(flow.reentry_days))
                if not self.store.take_reentry(
                    event.workspace_id,
                    event.customer_id,
                    flow.id,
                    timemath.iso(event.at) or "",
                    timemath.iso(cutoff) or "",
                ):
                    continue
            stamp = timemath.iso(event.at) or ""
            run = {
                "ws": event.workspace_id,
                "cid": event.customer_id,
                "id": run_id,
                "flow": flow.id,
                "key": event.key,
                "st": "active",
                "step": 0,
                "at": stamp,
                "started": stamp,
                "due": stamp,
                "rk": due_bucket(max(event.at, self.clock()), event.customer_id),
                "ctx": event.context or None,
                "seg": event.segment,
                "bday": event.kind == "birthday" or None,
            }
            if self.store.start_run(run):
                started.append(run_id)
        return started

    def on_exit_event(
        self, workspace_id: str, customer_id: str, exit_event: str, at: datetime, key: str | None = None
    ) -> list[str]:
        """End the active runs that exit on this event (`key`: only the run of that checkout
        or segment). Returns the runs ended."""
        ended = []
        for run in self.store.runs(workspace_id, customer_id):
            if run.get("st") != "active":
                continue
            flow = self._definition(workspace_id, run["flow"])
            if flow is None or exit_event not in flow.exit_on:
                continue
            if key is not None and key not in (run.get("key"), run.get("seg")):
                continue
            if exit_event == "ordered" and (timemath.parse_iso(run.get("started")) or at) >= at:
                continue  # the order that started it, or an older one delivered late
            if self._end(run, "exited", exit_event):
                ended.append(run["id"])
        return ended

    # -- the minute tick ------------------------------------------------------------
    def tick(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        mark = timemath.parse_iso(self.store.watermark())
        start = mark if mark is not None and mark <= now else now - timedelta(days=LOOKBACK_DAYS)
        until = timemath.iso(now) or ""
        counts: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        messages: dict[str, int] = {}
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= now:
            for shard in range(SHARDS):
                for pk, sk in self.store.due(f"F#{day:%Y-%m-%d}#{shard:02d}", until):
                    if time_left is not None and time_left() < 10:
                        # the next tick goes on from here
                        return counts | {"stopped_early": 1, "errors": errors, "messages": messages}
                    _, workspace_id, _, customer_id = pk.split("#", 3)
                    run = self.store.get_run(workspace_id, customer_id, sk)
                    if run is None or run.get("st") != "active":
                        continue
                    outcome = self.advance(run, now)
                    counts[outcome.status] = counts.get(outcome.status, 0) + 1
                    for status in outcome.messages:
                        messages[status] = messages.get(status, 0) + 1
                    if outcome.status == "failed":
                        errors.append({"run": outcome.run, "error": outcome.detail.split(":")[0]})
            day += timedelta(days=1)
        self.store.set_watermark(until)
        return counts | {"errors": errors, "messages": messages}

    def advance(self, run: dict[str, Any], now: datetime) -> Outcome:
        """Take a due run as far as it goes now: through elapsed waits and sends, up to the
        next wait in the future (or the end). Saved once, conditioned on where it stood."""
        step0, due0 = int(run["step"]), run.get("due")
        decided: list[str] = []  # this advance's send decisions, for the job's metrics
        try:
            outcome = self._advance(run, now, decided)
        except (InFlight, Throttled) as exc:
            # another attempt holds the message, or the provider asked us to slow down:
            # the run stays due and the next tick retries it
            return Outcome(run["id"], "retry", type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - isolated, recorded on the run, reported
            # a failure of this run must not stop the others: it is recorded on the run,
            # reported to the job (which logs and counts it), retried with backoff, and
            # parked as `failed` after MAX_ATTEMPTS
            attempts = int(run.get("tries") or 0) + 1
            run["tries"], run["err"] = attempts, f"{type(exc).__name__}: {exc}"[:300]
            if attempts >= MAX_ATTEMPTS:
                run["st"] = "failed"
            else:
                self._schedule(run, now + timedelta(minutes=2**attempts), now)
            self.store.save_run(run, step0, due0)
            return Outcome(run["id"], "failed", run["err"])
        outcome.messages = decided
        if not self.store.save_run(run, step0, due0):
            return Outcome(run["id"], "retry", "changed meanwhile", outcome.messages)
        if outcome.status == "done" and run.get("bday"):
            self._next_birthday(run, now)
        return outcome

    def _advance(self, run: dict[str, Any], now: datetime, decided: list[str]) -> Outcome:
        ws, cid = run["ws"], run["cid"]
        flow = self._definition(ws, run["flow"])
        if flow is None:
            return self._ended(run, "exited", "flow deleted or disabled")
        settings = self.workspaces.settings(ws)
        profile = self._profile(ws, cid, run)
        policy = policy_for(settings)
        zone = local_zone(profile, policy)
        step_start = timemath.parse_iso(run.get("at")) or now
        sent = ""
        while int(run["step"]) < len(flow.steps):
            index = int(run["step"])
            step = flow.steps[index]
            if step.wait is not None:
                until = step.wait.until(step_start, zone)
                if until > now:
                    self._schedule(run, until, now)
                    return Outcome(run["id"], "waiting", timemath.iso(until) or "")
                step_start = until
                run["step"], run["at"] = index + 1, timemath.iso(until)
                continue
            assert step.send is not None
            reason = self._exit_reason(flow, run, profile, now)
            if reason:
                return self._ended(run, "exited", reason)
            decision = self._send(flow, run, index, step.send, profile, settings, policy, zone, now)
            _log(run, index, decision, now)
            decided.append(decision.status)
            if decision.status in ("sent", "deferred", "dropped"):
                self.stats.add(ws, f"flow#{flow.id}", {decision.status: 1})
            if decision.status == "deferred" and decision.until is not None:
                self._schedule(run, decision.until, now)
                return Outcome(run["id"], "waiting", decision.reason)
            sent = decision.status
            step_start = now
            run["step"], run["at"] = index + 1, timemath.iso(now)
        self._ended(run, "done", sent or "no send")
        return Outcome(run["id"], "done", sent)

    def _exit_reason(
        self, flow: FlowDef, run: dict[str, Any], profile: dict[str, Any], now: datetime
    ) -> str | None:
        started = timemath.parse_iso(run.get("started"))
        last = timemath.parse_iso(profile.get("last"))
        if "ordered" in flow.exit_on and last is not None and started is not None and last > started:
            return "ordered"
        if flow.conditions and not self._holds(run["ws"], flow.conditions, profile, now):
            return "conditions no longer met"
        return None

    def _holds(self, workspace_id: str, condition: str, profile: dict[str, Any], now: datetime) -> bool:
        if profile.get("t") != "profile":
            profile = {**profile, "o": {}}  # a guest with no orders yet: facts of an empty profile
        facts, _ = self.segments.facts(workspace_id, profile, now)
        return segments.evaluate(segments.parse(condition), facts, now).member

    def _send(
        self,
        flow: FlowDef,
        run: dict[str, Any],
        index: int,
        send: Send,
        profile: dict[str, Any],
        settings: Any,
        policy: Policy,
        zone: ZoneInfo,
        now: datetime,
    ) -> Decision:
        ws, cid = run["ws"], run["cid"]
        due = timemath.parse_iso(run.get("due")) or now
        if send.skip_if_late_hours is not None and now - due > timedelta(hours=send.skip_if_late_hours):
            return Decision("skipped", "too late")
        if send.when and not self._holds(ws, send.when, profile, now):
            return Decision("skipped", "condition false")
        key = f"flow:{flow.id}:{run['key']}:{index}"
        values = self._values(run)
        if send.recommend:
            have = set(profile.get("prods") or ()) | _bought(profile)
            offers = [o.name for o in send.recommend if o.after in have and o.offer not in have]
            if not offers:
                return Decision("skipped", "nothing to recommend")
            values["recommended_products"] = ", ".join(offers)
        if send.coupon is not None:
            values.update(self._coupon(ws, cid, key, send.coupon, settings, zone, now))
        message = Outgoing(
            ws, cid, key, send.channel, Purpose.MARKETING, send.template, values, send.over_cap
        )
        return self.messaging.send(message, profile, policy, now)

    def _values(self, run: dict[str, Any]) -> dict[str, Any]:
        """What the trigger knew; the profile's own values (name, store, last product) are
        added by `MessagingService`, and these win over them."""
        ctx = run.get("ctx") or {}
        values: dict[str, Any] = {}
        if ctx.get("products"):
            values["last_product"] = ctx["products"][0]  # what this checkout or order held
        if ctx.get("url"):
            values["checkout_url"] = ctx["url"]
        if ctx.get("total") is not None:
            total = round_money(Decimal(str(ctx["total"])), ctx.get("cur"))
            values["checkout_total"] = f"{total} {ctx.get('cur') or ''}".strip()
        if ctx.get("num"):
            values["order_number"] = ctx["num"]
        return values

    def _coupon(
        self, ws: str, cid: str, key: str, spec: Coupon, settings: Any, zone: ZoneInfo, now: datetime
    ) -> dict[str, str]:
        code = coupon_code(settings.id_salt, f"{ws}|{cid}|{key}", spec.prefix)
        stored = self.coupons.issue(
            ws,
            code,
            {
                "cid": cid,
                "mk": key,
                "pct": spec.percent_off,
                "amt": None if spec.amount_off is None else round_money(spec.amount_off, settings.currency),
                "cur": settings.currency if spec.amount_off is not None else None,
                "exp": timemath.iso(now + timedelta(hours=spec.valid_hours)),
            },
        )
        expires = timemath.parse_iso(stored.get("exp")) or now + timedelta(hours=spec.valid_hours)
        return {"coupon_code": code, "coupon_expires": f"{timemath.local(expires, zone):%Y-%m-%d %H:%M %Z}"}

    def _profile(self, ws: str, cid: str, run: dict[str, Any]) -> dict[str, Any]:
        """The customer's profile (following a merge), or for a guest the trigger's person."""
        profile = self.profiles.get(ws, cid)
        for _ in range(3):
            if profile is None or profile.get("t") != "pointer":
                break
            profile = self.profiles.get(ws, profile["into"])
        if profile is not None and profile.get("t") == "profile":
            return dict(profile)
        return dict((run.get("ctx") or {}).get("p") or {})

    def _definition(self, workspace_id: str, flow_id: str) -> FlowDef | None:
        item = self.store.get_flow(workspace_id, flow_id)
        if item is None or not item.get("on"):
            return None
        return FlowDef.model_validate(item["def"])

    def _schedule(self, run: dict[str, Any], due: datetime, now: datetime) -> None:
        run["due"], run["rk"] = timemath.iso(due), due_bucket(max(due, now), run["cid"])

    def _ended(self, run: dict[str, Any], status: str, why: str) -> Outcome:
        run["st"], run["why"] = status, why
        run["rk"] = None
        return Outcome(run["id"], status, why)

    def _end(self, run: dict[str, Any], status: str, why: str) -> bool:
        step, due = int(run["step"]), run.get("due")
        self._ended(run, status, why)
        return self.store.save_run(run, step, due)

    def _next_birthday(self, run: dict[str, Any], now: datetime) -> None:
        profile = self._profile(run["ws"], run["cid"], run)
        if profile.get("bd"):
            settings = self.workspaces.settings(run["ws"])
            self.trigger(birthday_event(run["ws"], run["cid"], profile, now + timedelta(days=1), settings))

    # -- what would happen ----------------------------------------------------------
    def dry_run(self, workspace_id: str, flow_id: str, customer_id: str, at: datetime) -> dict[str, Any]:
        """The flow's steps for this customer if triggered at `at`: when each send would go
        and whether the guardrails would let it (caps and the ledger are not touched)."""
        item = self.store.get_flow(workspace_id, flow_id)
        if item is None:
            raise NotFound("flow not found")
        flow = FlowDef.model_validate(item["def"])
        settings = self.workspaces.settings(workspace_id)
        profile = self._profile(workspace_id, customer_id, {})
        if not profile:
            raise NotFound("customer not found")
        policy = policy_for(settings)
        zone = local_zone(profile, policy)
        clock = at
        steps: list[dict[str, Any]] = []
        for index, step in enumerate(flow.steps):
            if step.wait is not None:
                clock = step.wait.until(clock, zone)
                steps.append({"step": index, "wait_until": timemath.iso(clock)})
                continue
            assert step.send is not None
            send = step.send
            verdict = self.messaging.check(
                Channel(send.channel), Purpose.MARKETING, workspace_id, customer_id, profile, policy, clock
            )
            when_ok = not send.when or self._holds(workspace_id, send.when, profile, clock)
            cond_ok = not flow.conditions or self._holds(workspace_id, flow.conditions, profile, clock)
            passes = verdict.status in ("ok", "deferred")  # quiet hours only move the send
            verdict_text = "would send" if passes else f"would be {verdict.status}"
            if not cond_ok:
                verdict_text, reason = "would exit", "conditions not met"
            elif not when_ok:
                verdict_text, reason = "would skip", "step condition false"
            else:
                reason = verdict.reason
            send_at = verdict.until if verdict.status == "deferred" and verdict.until else clock
            steps.append(
                {
                    "step": index,
                    "send_at": timemath.iso(send_at),
                    "send_at_local": f"{timemath.local(send_at, zone):%Y-%m-%d %H:%M %Z}",
                    "template": send.template,
                    "channel": send.channel.value,
                    "outcome": verdict_text,
                    "reason": reason,
                    "coupon": send.coupon is not None,
                }
            )
        return {"flow": flow.id, "customer_id": customer_id, "trigger_at": timemath.iso(at), "steps": steps}

    def runs(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's flow runs; NotFound (as every other route) when the workspace has
        neither a profile nor a run for the id (an unknown id, or another workspace's)."""
        runs = self.store.runs(workspace_id, customer_id)
        if not runs and self.profiles.get(workspace_id, customer_id) is None:
            raise NotFound("customer not found")
        return [_run_view(r) for r in runs]


def birthday_event(
    workspace_id: str, customer_id: str, profile: dict[str, Any], now: datetime, settings: Any = None
) -> TriggerEvent:
    """The next birthday (today included), starting at local midnight (the workspace's
    default zone when the profile's own is unknown)."""
    zone = local_zone(profile, policy_for(settings))
    day = next_birthday(str(profile["bd"]), now.astimezone(zone).date())
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(now.tzinfo)
    return TriggerEvent("birthday", workspace_id, customer_id, str(day.year), midnight)


def _bought(profile: dict[str, Any]) -> set[str]:
    from chalicelib.domain.profiles import bought

    return set(bought(profile, "p"))


def _log(run: dict[str, Any], index: int, decision: Decision, now: datetime) -> None:
    entry = {"step": index, "status": decision.status, "at": timemath.iso(now)}
    if decision.reason:
        entry["reason"] = decision.reason
    run["log"] = [*(run.get("log") or [])[-19:], entry]


def _flow_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "flow_id": item["id"],
        "name": item["name"],
        "version": int(item["ver"]),
        "enabled": bool(item.get("on")),
        "trigger": item["def"]["trigger"],
        "definition": item["def"],
    }


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run["id"],
        "flow_id": run["flow"],
        "status": run["st"],
        "step": int(run["step"]),
        "due": run.get("due") if run.get("st") == "active" else None,
        "started": run.get("started"),
        "reason": run.get("why"),
        "log": run.get("log") or [],
    }
