"""Segment evaluation: a profile's facts, a parsed condition (domain/segments.py) and "now"
in; membership and the next time the answer can change by the passage of time alone out.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.segments import (
    FIELDS,
    LOYALTY_FIELDS,
    MEASURES,
    TICKET_FIELDS,
    And,
    Call,
    Compare,
    Condition,
    Not,
    fields_used,
)
from chalicelib.domain.timemath import later, span

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Facts:
    """What a profile says, for evaluation: plain values, sets, and timestamps."""

    values: dict[str, Any]
    products: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    times: dict[str, datetime | None] | None = None  # last_order_at, first_order_at, created_at
    # model scores as they will be n whole days from today with no new order
    projection: Callable[[int], dict[str, Any]] | None = None
    # when pending points become available (the points fields change by time alone then)
    points_changes: tuple[datetime, ...] = ()
    expiring: tuple[tuple[date, int], ...] = ()  # (the day they expire, available points)
    complaints: tuple[datetime, ...] = ()  # when the latest complaints were opened, newest first


@dataclass(frozen=True)
class LoyaltyFacts:
    """A customer's loyalty as segments see it (domain/loyalty/summary.py reads it)."""

    balance: int = 0  # available today
    pending: int = 0
    tier: str | None = None
    tier_since: datetime | None = None
    points_changes: tuple[datetime, ...] = ()  # the starts of the days pending lots become available
    expiring: tuple[tuple[date, int], ...] = ()  # (the day they expire, points): lots.expiry_schedule


def with_loyalty(facts: Facts, loyalty: LoyaltyFacts) -> Facts:
    values = {
        **facts.values,
        "points_balance": Decimal(loyalty.balance),
        "points_pending": Decimal(loyalty.pending),
        "tier": loyalty.tier or "",
    }
    times = {**(facts.times or {}), "tier_since": loyalty.tier_since if loyalty.tier else None}
    return replace(
        facts, values=values, times=times, points_changes=loyalty.points_changes, expiring=loyalty.expiring
    )


def with_tickets(
    facts: Facts,
    open_tickets: int,
    open_complaints: int,
    last_csat: int | None,
    last_ticket_at: datetime | None,
    complaints: tuple[datetime, ...],
) -> Facts:
    """The customer's ticket facts (domain/service/facts.py's summary) added."""
    values = {
        **facts.values,
        "open_tickets": Decimal(open_tickets),
        "open_complaints": Decimal(open_complaints),
        "last_csat": None if last_csat is None else Decimal(last_csat),
    }
    times = {**(facts.times or {}), "last_ticket_at": last_ticket_at}
    return replace(facts, values=values, times=times, complaints=complaints)


def uses_loyalty(condition: Condition) -> bool:
    """Whether the condition reads facts kept beside the profile: loyalty's (points, tier)
    or the ticket facts (one read each, only then)."""
    return bool(fields_used(condition) & (LOYALTY_FIELDS | MEASURES | TICKET_FIELDS))


def uses_tickets(condition: Condition) -> bool:
    return bool(fields_used(condition) & TICKET_FIELDS)


def _complaints(condition: Call, facts: Facts, now: datetime, flips: list[datetime]) -> bool:
    """Complaints opened in the last N days (N x 24 hours before now, exclusive); the answer
    can flip when one of them ages out, rechecked then."""
    days = timedelta(days=int(condition.args[0]))
    flips.extend(at + days for at in facts.complaints)
    value = Decimal(sum(1 for at in facts.complaints if at > now - days))
    return _compare(condition.op or "=", value, condition.value)


def _expiring(condition: Call, facts: Facts, now: datetime, flips: list[datetime]) -> bool:
    """Available points (at most the balance) expiring by today + days; rechecked as each enters."""
    days = timedelta(days=int(condition.args[0]))
    within = sum(n for day, n in facts.expiring if day <= now.astimezone(UTC).date() + days)
    flips.extend([datetime.combine(d - days, time(0), tzinfo=UTC) for d, _ in facts.expiring])
    flips.extend(facts.points_changes)
    value = Decimal(min(within, facts.values.get("points_balance", 0)))
    return _compare(condition.op or "=", value, condition.value)


DECAY_HORIZON_DAYS = 180  # a model-score condition is rechecked at least this often


def _decay_flip(condition: Compare, facts: Facts, now: datetime, current: bool) -> datetime:
    """The start of the first UTC day on which a model-score comparison flips.

    Model scores only fall while no order comes, so the answer flips at most once:
    bisect the days ahead. Past the horizon, ask for a recheck at the horizon anyway.
    """
    project = facts.projection
    assert project is not None
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def flipped(days: int) -> bool:
        return _compare(condition.op, project(days).get(condition.field), condition.value) != current

    if not flipped(DECAY_HORIZON_DAYS):
        return today + DAY * DECAY_HORIZON_DAYS
    low, high = 0, DECAY_HORIZON_DAYS  # not flipped at low, flipped at high
    while high - low > 1:
        middle = (low + high) // 2
        if flipped(middle):
            high = middle
        else:
            low = middle
    return today + DAY * high


def _days(facts: Facts, field: str, now: datetime) -> tuple[Decimal | None, datetime | None]:
    since = FIELDS[field].since
    stamp = (facts.times or {}).get(since or "")
    if stamp is None:
        return None, None
    return Decimal((now - stamp) // DAY), stamp


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None:
        return op == "!="  # a missing value equals nothing
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


@dataclass(frozen=True)
class Verdict:
    member: bool
    next_check: datetime | None  # the earliest time the answer can flip by time alone


def evaluate(condition: Condition, facts: Facts, now: datetime) -> Verdict:
    """Evaluate a tree for one profile, and when its answer may next change by itself."""
    flips: list[datetime] = []
    member = _eval(condition, facts, now, flips)
    future = [f for f in flips if f > now]
    return Verdict(member, min(future) if future else None)


def _eval(condition: Condition, facts: Facts, now: datetime, flips: list[datetime]) -> bool:
    if isinstance(condition, Compare):
        spec = FIELDS[condition.field]
        if spec.decays:
            result = _compare(condition.op, facts.values.get(condition.field), condition.value)
            if facts.projection is not None and facts.values.get(condition.field) is not None:
                flips.append(_decay_flip(condition, facts, now, result))
            return result
        if spec.since is None:
            if spec.loyalty:
                flips.extend(facts.points_changes)  # pending points become available by time
            return _compare(condition.op, facts.values.get(condition.field), condition.value)
        days, stamp = _days(facts, condition.field, now)
        if stamp is not None:
            assert isinstance(condition.value, Decimal)
            # whole days grow by one each day: the comparison can flip when days reaches the
            # bound or the bound + 1
            bound = int(condition.value.to_integral_value(rounding="ROUND_FLOOR"))
            # (a flip past the end of the calendar never comes)
            flips.extend(t for k in (bound, bound + 1) if k >= 0 and (t := later(stamp, span(k))) is not None)
        return _compare(condition.op, days, condition.value)
    if isinstance(condition, Call) and condition.function == "complaints_in_last_days":
        return _complaints(condition, facts, now, flips)
    if isinstance(condition, Call) and condition.op is not None:
        return _expiring(condition, facts, now, flips)
    if isinstance(condition, Call):
        pool = {
            "bought_product": facts.products,
            "bought_category": facts.categories,
            "bought_from_source": facts.sources,
            "used_channel": facts.channels,
        }[condition.function]
        return any(arg in pool for arg in condition.args)
    if isinstance(condition, Not):
        return not _eval(condition.item, facts, now, flips)
    if isinstance(condition, And):
        results = [_eval(item, facts, now, flips) for item in condition.items]
        return all(results)
    results = [_eval(item, facts, now, flips) for item in condition.items]
    return any(results)
