"""Business calendars: when a store's team works, in the store's own time zone.

A calendar is data (`BusinessCalendar`, a pydantic model): an IANA zone, the opening
intervals of each weekday (several a day: a lunch break), and holidays (closed all day,
or open on other hours that day). Business time is the set of instants whose wall-clock
reading in the zone falls in an opening interval of its local date, so daylight saving is
exact: on a spring-forward day an interval that does not exist on the clock counts
nothing (09:00-12:00 holds 2 hours if 02:00-03:00 is skipped inside it), and on a
fall-back day an hour that the clock shows twice counts twice.

`business_time(start, end)` measures it (exact, a timedelta; `business_seconds` in
seconds) and `add_business_time(start, seconds)` finds the instant after `start` when
that much business time has passed. Instants are timezone-aware; answers are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# No zone is more than 14 hours ahead of UTC or 12 behind: bounds on where a local date lies.
_AHEAD, _BEHIND = timedelta(hours=14), timedelta(hours=12)
_ONE_DAY = timedelta(days=1)
# A calendar with no opening in this many days has none (add_business_time stops looking).
_HORIZON_DAYS = 3700
Piece = tuple[datetime, datetime]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Interval(BaseModel):
    """An opening on the wall clock, `start` to `end` ("HH:MM", end up to "24:00")."""

    model_config = ConfigDict(frozen=True)

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("a time of day is HH:MM (00:00 to 24:00)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError(f"an interval ends after it starts ({self.start}-{self.end})")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        return _minutes(self.start), _minutes(self.end)


def _check_day(intervals: list[Interval], where: str) -> list[Interval]:
    for before, after in pairwise(intervals):
        if after.minutes[0] < before.minutes[1]:
            raise ValueError(f"{where}: intervals are ordered and do not overlap")
    return intervals


class Holiday(BaseModel):
    """A date the weekday's hours do not apply: closed (`hours` empty) or open on `hours`."""

    model_config = ConfigDict(frozen=True)

    date: date
    name: str = ""
    hours: list[Interval] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid_hours(self) -> Holiday:
        _check_day(self.hours, f"holiday {self.date}")
        return self


class BusinessCalendar(BaseModel):
    """A store's business hours: `zone` (IANA), `week` (weekday -> intervals), `holidays`."""

    model_config = ConfigDict(frozen=True)

    zone: str
    week: dict[str, list[Interval]]
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("week")
    @classmethod
    def _valid_week(cls, value: dict[str, list[Interval]]) -> dict[str, list[Interval]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"weekdays are {', '.join(WEEKDAYS)} (not {', '.join(unknown)})")
        for day, intervals in value.items():
            _check_day(intervals, day)
        if not any(value.values()):
            raise ValueError("a business calendar is open at least one interval a week")
        return value

    @field_validator("holidays")
    @classmethod
    def _one_per_date(cls, value: list[Holiday]) -> list[Holiday]:
        dates = [h.date for h in value]
        if len(set(dates)) != len(dates):
            raise ValueError("a date is listed once among the holidays")
        return value

    # -- the engine ---------------------------------------------------------------------

    def hours_on(self, day: date) -> list[Interval]:
        """The wall-clock intervals open on the local date `day` (a holiday's, or its weekday's)."""
        for holiday in self.holidays:
            if holiday.date == day:
                return holiday.hours
        return self.week.get(WEEKDAYS[day.weekday()], [])

    def _pieces_of(self, day: date) -> tuple[Piece, ...]:
        return _open_pieces(self.zone, tuple(self.hours_on(day)), day)

    def _pieces_from(self, start: datetime) -> Iterator[Piece]:
        """Open spans after `start` (clipped to it), in time order, without end."""
        start = _utc(start)
        day = start.date() - timedelta(days=2)
        pending: list[Piece] = []
        idle = 0
        while idle < _HORIZON_DAYS:
            found = [(max(s, start), e) for s, e in self._pieces_of(day) if e > start]
            pending.extend(found)
            idle = 0 if found else idle + 1
            day += _ONE_DAY
            # every instant of a later local date is at or after this bound
            bound = datetime.combine(day, time(), tzinfo=UTC) - _AHEAD
            pending.sort()
            while pending and pending[0][0] < bound:
                yield pending.pop(0)
        raise ValueError("the calendar has no business hours left")

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Business time between `start` and `end` (zero when `end` is not after `start`)."""
        start, end = _utc(start), _utc(end)
        total = timedelta(0)
        if end <= start:
            return total
        for piece_start, piece_end in self._pieces_from(start):
            if piece_start >= end:
                break
            total += min(piece_end, end) - piece_start
        return total

    def business_seconds(self, start: datetime, end: datetime) -> float:
        return self.business_time(start, end).total_seconds()

    def add_business_time(self, start: datetime, seconds: float | timedelta) -> datetime:
        """The first instant at which `seconds` of business time have passed since `start`."""
        left = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        start = _utc(start)
        if left < timedelta(0):
            raise ValueError("business time is added, not taken away")
        if left == timedelta(0):
            return start
        for piece_start, piece_end in self._pieces_from(start):
            if piece_end - piece_start >= left:
                return piece_start + left
            left -= piece_end - piece_start
        raise AssertionError("unreachable: _pieces_from ends by raising")  # pragma: no cover

    def is_open(self, at: datetime) -> bool:
        """Whether `at` is within business hours."""
        at = _utc(at)
        for piece_start, _end in self._pieces_from(at):
            return piece_start == at
        return False  # pragma: no cover


@lru_cache(maxsize=8192)
def _open_pieces(zone: str, hours: tuple[Interval, ...], day: date) -> tuple[Piece, ...]:
    """The UTC spans whose wall-clock reading in `zone` is within `hours` on local date `day`,
    in order (a value of its arguments alone, so it is cached)."""
    pieces: list[Piece] = []
    if hours:
        midnight = datetime.combine(day, time(), tzinfo=UTC)  # the wall clock read as UTC
        segments = _offset_segments(ZoneInfo(zone), midnight - _AHEAD, midnight + _ONE_DAY + _BEHIND)
        for seg_start, seg_end, offset in segments:
            for interval in hours:
                first, last = interval.minutes
                start = max(midnight + timedelta(minutes=first) - offset, seg_start)
                end = min(midnight + timedelta(minutes=last) - offset, seg_end)
                if start < end:
                    pieces.append((start, end))
    return tuple(sorted(pieces))


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business time is measured between timezone-aware instants")
    return at.astimezone(UTC)


def _offset_at(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _offset_segments(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset) each. Offsets
    are sampled hourly (no zone changes twice within an hour) and each change found to the
    second by bisection."""
    segments: list[tuple[datetime, datetime, timedelta]] = []
    seg_start, offset = start, _offset_at(zone, start)
    probe = start
    while probe < end:
        step = min(probe + timedelta(hours=1), end)
        if _offset_at(zone, step) != offset:
            low, high = probe, step  # offset at low is the old one, at high the new one
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if _offset_at(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            segments.append((seg_start, high, offset))
            seg_start, offset = high, _offset_at(zone, high)
        probe = step
    segments.append((seg_start, end, offset))
    return segments
