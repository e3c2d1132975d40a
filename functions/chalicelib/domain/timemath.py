"""Date arithmetic that is total: it never raises, whatever time a stored item holds.

Webhooks refuse dates outside a window (chalicelib.parsers.dates), but items stored
before that check, or written by hand, may hold any time Python can represent: year
9999, year 1, epoch 0. Adding days to them, converting them to a customer's zone or
reading an epoch number back must not raise: a time past the end of the calendar is a
time that never comes (None) or its last instant, a conversion to a local zone that
cannot be made keeps the time in UTC, and one back to UTC is held at the calendar's end.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
LONGEST = timedelta.max
ONE_DAY = timedelta(days=1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def span(days: float) -> timedelta:
    """`days` as a timedelta, held at timedelta.max or .min (never an OverflowError); NaN is 0."""
    if math.isnan(days):
        return timedelta(0)
    if abs(days) >= LONGEST.days:
        return LONGEST if days > 0 else timedelta.min
    return ONE_DAY * days  # as `DAY * days` always computed it, to the microsecond


def later(at: datetime, delta: timedelta) -> datetime | None:
    """`at + delta`, or None when that is past the end (or before the start) of the calendar."""
    try:
        return at + delta
    except OverflowError:
        return None


def shift(at: datetime, delta: timedelta) -> datetime:
    """`at + delta`, held at the calendar's first or last instant."""
    moved = later(at, delta)
    if moved is not None:
        return moved
    return LATEST if delta > timedelta(0) else EARLIEST


def local(at: datetime, zone: tzinfo | None) -> datetime:
    """`at` in `zone`; `at` as it is when the zone would take it off the calendar."""
    try:
        return at.astimezone(zone)
    except (OverflowError, ValueError):
        return at


def back(at: datetime, zone: tzinfo | None) -> datetime:
    """A local time back in `zone` (UTC, usually), held at the calendar's first or last
    instant when it is off the calendar there."""
    try:
        return at.astimezone(zone)
    except (OverflowError, ValueError):
        return LATEST if at.year > 1 else EARLIEST


def from_epoch(seconds: float) -> datetime:
    """A stored epoch-seconds number as a UTC time, held at the calendar's ends."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        return LATEST if seconds > 0 else EARLIEST


def iso(value: datetime | None) -> str | None:
    """Fixed-width UTC text ('2026-11-20T15:15:30.000000Z'): sorts in time order."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
