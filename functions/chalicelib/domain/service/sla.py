"""Service level agreements computed from a ticket's event log (docs/service.md).

A workspace's policies are ordered; the first whose filter (kinds, priorities, channels,
customer tiers; an empty list matches anything) fits the ticket applies, with its targets
(first reply, next reply, resolution: business minutes) and its business calendar. Nothing
is stored but the log: `sla_state(log, policies, now)` re-chooses the policy from the facts
as of `now` (a change of priority or kind re-evaluates every target from the ticket's
creation, so a target can become breached at once) and replays the log up to `now`.

The clock runs while the ticket is open (and on hold, unless the policy pauses on hold); it
pauses while pending, solved or closed. First reply: from creation to the first public reply
by the team. Next reply: from a customer's message after a team reply to the team's next
public reply (each such wait is one target). Resolution: from creation to solved or closed;
a reopened ticket's resolution clock resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.service.calendar import BusinessCalendar

Kind = Literal["pre_sale", "order_issue", "complaint", "suggestion", "return_request"]
PriorityName = Literal["low", "normal", "high", "urgent"]
TargetName = Literal["first_reply", "next_reply", "resolution"]
Status = Literal["met", "breached", "running", "paused"]
Period = Literal["day", "week", "month"]
CUSTOMER = "customer"  # the `by` of the customer's own messages
SHARE = Decimal("0.0001")


class LogEvent(Protocol):
    """What the engine reads of a ticket event (the service's TicketEvent has these)."""

    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def by(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Event:
    """A log event as plain data (fixtures, tests)."""

    kind: str
    at: datetime
    by: str = "agent"
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketFacts:
    """What a policy filter looks at, as of one instant."""

    kind: str
    priority: str
    channel: str
    tier: str | None = None


# -- policies as data ---------------------------------------------------------------------


class SlaFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    kinds: list[Kind] = Field(default_factory=list)
    priorities: list[PriorityName] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)

    def matches(self, facts: TicketFacts) -> bool:
        return all(
            not allowed or value in allowed
            for allowed, value in (
                (self.kinds, facts.kind),
                (self.priorities, facts.priority),
                (self.channels, facts.channel),
                (self.tiers, facts.tier),
            )
        )


class SlaTargets(BaseModel):
    """Business minutes allowed for each target (None: not measured)."""

    model_config = ConfigDict(frozen=True)

    first_reply: int | None = Field(default=None, ge=1)
    next_reply: int | None = Field(default=None, ge=1)
    resolution: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_at_least(self) -> SlaTargets:
        if self.first_reply is None and self.next_reply is None and self.resolution is None:
            raise ValueError("a policy has at least one target")
        return self


class SlaPolicy(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = ""
    filter: SlaFilter = Field(default_factory=SlaFilter)
    targets: SlaTargets
    calendar: BusinessCalendar
    pause_on_hold: bool = False


class SlaPolicies(BaseModel):
    """A workspace's policies, in order (the first matching applies)."""

    policies: list[SlaPolicy]
    # Near breach: this share of a target's time used (for the scheduled check's warnings).
    near_breach_share: Decimal = Field(default=Decimal("0.8"), gt=0, lt=1)

    @field_validator("policies")
    @classmethod
    def _unique_ids(cls, value: list[SlaPolicy]) -> list[SlaPolicy]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("each policy has its own id")
        return value

    def choose(self, facts: TicketFacts) -> SlaPolicy | None:
        return next((p for p in self.policies if p.filter.matches(facts)), None)


# -- the state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetState:
    target: TargetName
    minutes: int
    started_at: datetime
    status: Status
    used: timedelta  # business time counted, up to the stop or `now`
    due_at: datetime | None  # when it breaches (or breached); None while paused before it
    stopped_at: datetime | None = None  # the reply or resolution that ended it
    breached_at: datetime | None = None
    near_breach: bool = False


@dataclass(frozen=True)
class SlaState:
    policy_id: str | None
    facts: TicketFacts
    targets: tuple[TargetState, ...] = ()

    def alerts(self) -> list[tuple[TargetName, Literal["breach", "near_breach"]]]:
        """The targets still open that are breached or near breach (the scheduled check's)."""
        found: list[tuple[TargetName, Literal["breach", "near_breach"]]] = []
        for t in self.targets:
            if t.stopped_at is None and t.status == "breached":
                found.append((t.target, "breach"))
            elif t.near_breach:
                found.append((t.target, "near_breach"))
        return found


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("SLA instants are timezone-aware")
    return at.astimezone(UTC)


def _ordered(log: Iterable[LogEvent], now: datetime) -> list[LogEvent]:
    events = sorted((e for e in log if _utc(e.at) <= now), key=lambda e: _utc(e.at))
    if not events or events[0].kind != "created":
        raise ValueError("a ticket's log begins with `created` (before `now`)")
    return events


def _data(event: LogEvent) -> Mapping[str, Any]:
    return event.data or {}


def facts_at(log: Iterable[LogEvent], now: datetime, tier: str | None = None) -> TicketFacts:
    """The ticket's kind, priority and channel as of `now` (the last change before it wins)."""
    events = _ordered(log, _utc(now))
    created = _data(events[0])
    kind, priority = str(created.get("kind") or ""), str(created.get("priority") or "normal")
    for event in events[1:]:
        if event.kind == "priority_changed":
            priority = str(_data(event)["to"])
        elif event.kind == "kind_changed":
            kind = str(_data(event)["to"])
    return TicketFacts(kind=kind, priority=priority, channel=str(created.get("channel") or ""), tier=tier)


def _running(
    events: Sequence[LogEvent], now: datetime, pause_on_hold: bool
) -> tuple[list[tuple[datetime, datetime]], bool]:
    """The spans (up to `now`) in which the clock runs: open, and on hold unless it pauses;
    and whether it runs at `now` (a span ending at `now` may be one a pause just ended)."""
    running = {"open"} if pause_on_hold else {"open", "on_hold"}
    spans: list[tuple[datetime, datetime]] = []
    status, since = "open", _utc(events[0].at)
    for event in events[1:]:
        if event.kind != "status_changed":
            continue
        at = _utc(event.at)
        if status in running and at > since:
            spans.append((since, at))
        status, since = str(_data(event)["to"]), at
    runs_now = status in running and now >= since  # running from this very instant too
    if runs_now:
        spans.append((since, now))
    return spans, runs_now


def _measure(
    target: TargetName,
    minutes: int,
    start: datetime,
    stop: datetime | None,
    spans: Sequence[tuple[datetime, datetime]],
    runs_now: bool,
    calendar: BusinessCalendar,
    now: datetime,
    share: Decimal,
) -> TargetState:
    """One target: the business time the clock ran from `start` to `stop` (or `now`)."""
    allowed, end = timedelta(minutes=minutes), stop or now
    used, breached_at = timedelta(0), None
    for span_start, span_end in spans:
        s, e = max(span_start, start), min(span_end, end)
        if s >= e:
            continue
        piece = calendar.business_time(s, e)
        if breached_at is None and used + piece >= allowed:
            breached_at = calendar.add_business_time(s, allowed - used)
        used += piece
    if stop is not None:
        met = used <= allowed
        return TargetState(
            target,
            minutes,
            start,
            "met" if met else "breached",
            used,
            breached_at,
            stop,
            None if met else breached_at,
        )
    if breached_at is not None:
        return TargetState(target, minutes, start, "breached", used, breached_at, None, breached_at)
    clock_runs = runs_now and bool(spans) and spans[-1][1] >= start  # at its very start too
    due = calendar.add_business_time(now, allowed - used) if clock_runs else None
    near = clock_runs and used >= allowed * float(share)  # a paused clock warns nobody
    return TargetState(
        target, minutes, start, "running" if clock_runs else "paused", used, due, near_breach=near
    )


def _reply_waits(
    events: Sequence[LogEvent],
) -> tuple[datetime | None, list[tuple[datetime, datetime | None]]]:
    """The first team reply, and each wait for the next one (a customer's message after a
    team reply, to the team's following public reply, or None while unanswered)."""
    first: datetime | None = None
    waits: list[tuple[datetime, datetime | None]] = []
    for event in events:
        if event.kind != "public_reply":
            continue
        at = _utc(event.at)
        if event.by != CUSTOMER:
            if first is None:
                first = at
            elif waits and waits[-1][1] is None:
                waits[-1] = (waits[-1][0], at)
        elif first is not None and (not waits or waits[-1][1] is not None):
            waits.append((at, None))
    return first, waits


def _resolved_at(events: Sequence[LogEvent]) -> datetime | None:
    """When the ticket became solved or closed, if it is now (a reopening clears it)."""
    resolved: datetime | None = None
    for event in events:
        if event.kind == "status_changed":
            to = str(_data(event)["to"])
            resolved = (resolved or _utc(event.at)) if to in ("solved", "closed") else None
    return resolved


def sla_state(
    log: Iterable[LogEvent], policies: SlaPolicies, now: datetime, tier: str | None = None
) -> SlaState:
    """Every target's state as of `now`, under the policy the ticket's facts then choose."""
    now = _utc(now)
    events = _ordered(log, now)
    facts = facts_at(events, now, tier)
    policy = policies.choose(facts)
    if policy is None:
        return SlaState(None, facts)
    created = _utc(events[0].at)
    spans, runs_now = _running(events, now, policy.pause_on_hold)
    share, calendar, targets = policies.near_breach_share, policy.calendar, policy.targets
    states: list[TargetState] = []
    first, waits = _reply_waits(events)
    if targets.first_reply is not None:
        states.append(
            _measure(
                "first_reply", targets.first_reply, created, first, spans, runs_now, calendar, now, share
            )
        )
    if targets.next_reply is not None:
        for start, stop in waits:
            states.append(
                _measure("next_reply", targets.next_reply, start, stop, spans, runs_now, calendar, now, share)
            )
    if targets.resolution is not None:
        resolved = _resolved_at(events)
        states.append(
            _measure(
                "resolution", targets.resolution, created, resolved, spans, runs_now, calendar, now, share
            )
        )
    return SlaState(policy.id, facts, tuple(states))


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketLog:
    events: Sequence[LogEvent]
    tier: str | None = None


@dataclass(frozen=True)
class ReportRow:
    policy_id: str
    period: date  # the period's first day, in the policy calendar's zone
    target: TargetName
    met: int
    breached: int

    @property
    def share_met(self) -> Decimal:
        return (Decimal(self.met) / Decimal(self.met + self.breached)).quantize(SHARE, rounding=ROUND_HALF_UP)


def _period_of(day: date, period: Period) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def sla_report(
    tickets: Iterable[TicketLog],
    policies: SlaPolicies,
    now: datetime,
    period: Period = "month",
    since: datetime | None = None,
) -> list[ReportRow]:
    """Targets met and breached per policy, period and target, over many tickets' logs. A
    target counts in the period of its outcome (the reply or resolution that met it, or the
    instant it breached), in the policy calendar's zone; targets still undecided do not count."""
    now = _utc(now)
    start = _utc(since) if since is not None else None
    zones = {p.id: p.calendar.zone for p in policies.policies}
    counts: dict[tuple[str, date, TargetName], list[int]] = {}
    for ticket in tickets:
        state = sla_state(ticket.events, policies, now, ticket.tier)
        if state.policy_id is None:
            continue
        for t in state.targets:
            decided = t.stopped_at if t.status == "met" else t.breached_at
            if decided is None or (start is not None and decided < start):
                continue
            local_day = decided.astimezone(ZoneInfo(zones[state.policy_id])).date()
            key = (state.policy_id, _period_of(local_day, period), t.target)
            counts.setdefault(key, [0, 0])[0 if t.status == "met" else 1] += 1
    return [ReportRow(p, d, t, met, breached) for (p, d, t), (met, breached) in sorted(counts.items())]
