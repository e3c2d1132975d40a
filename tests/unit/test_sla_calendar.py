"""Business calendars (chalicelib.domain.service.calendar): weekends, a lunch break,
holidays, and daylight saving in America/New_York and Europe/Paris (Asia/Tokyo has none),
with the calendars of events/service/calendars.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.service.calendar import BusinessCalendar, Interval

CALENDARS = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "service" / "calendars.json").read_text()
)
HOUR = 3600


def calendar(name: str) -> BusinessCalendar:
    return BusinessCalendar.model_validate(CALENDARS[name])


def local(zone: str, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)  # type: ignore[misc]


NY, PARIS, TOKYO = "America/New_York", "Europe/Paris", "Asia/Tokyo"


def test_a_weekend_is_skipped():
    # Given the New York store (Monday to Friday, 09:00-17:00) and Friday 16:00
    store = calendar("new_york_store")
    friday = local(NY, 2026, 12, 4, 16)

    # When two business hours are added
    due = store.add_business_time(friday, 2 * HOUR)

    # Then the second hour is Monday's first: due Monday 10:00, and that span holds two hours
    assert due == local(NY, 2026, 12, 7, 10)
    assert store.business_seconds(friday, due) == 2 * HOUR
    assert store.business_seconds(local(NY, 2026, 12, 5, 0), local(NY, 2026, 12, 7, 0)) == 0


def test_the_lunch_break_does_not_count():
    # Given the Paris boutique (10:00-12:30 and 14:00-19:00) on a Tuesday
    boutique = calendar("paris_boutique")

    # When an hour is added at noon, and the whole day measured
    due = boutique.add_business_time(local(PARIS, 2026, 12, 8, 12), HOUR)
    day = boutique.business_seconds(local(PARIS, 2026, 12, 8, 0), local(PARIS, 2026, 12, 9, 0))

    # Then half an hour before lunch and half after: 14:30; the day holds 7.5 hours
    assert due == local(PARIS, 2026, 12, 8, 14, 30)
    assert day == 7.5 * HOUR
    assert boutique.is_open(local(PARIS, 2026, 12, 8, 11)) is True
    assert boutique.is_open(local(PARIS, 2026, 12, 8, 13)) is False
    assert boutique.is_open(local(PARIS, 2026, 12, 8, 14)) is True


def test_a_holiday_closes_and_a_half_day_shortens():
    # Given the New York store, Christmas Eve (a Thursday) open 09:00-13:00, Christmas closed
    store = calendar("new_york_store")

    # When three hours are added on Christmas Eve at 11:00
    due = store.add_business_time(local(NY, 2026, 12, 24, 11), 3 * HOUR)

    # Then two hours that day, none on Christmas nor the weekend, the third on Monday 28th
    assert due == local(NY, 2026, 12, 28, 10)
    assert store.business_seconds(local(NY, 2026, 12, 24, 0), local(NY, 2026, 12, 26, 0)) == 4 * HOUR


@pytest.mark.parametrize(
    ("name", "zone", "day", "hours"),
    [
        # the night desk, 00:00-06:00 each day: 02:00-03:00 skipped in March, shown twice in November
        ("new_york_night_desk", NY, (2026, 3, 8), 5),
        ("new_york_night_desk", NY, (2026, 3, 7), 6),
        ("new_york_night_desk", NY, (2026, 11, 1), 7),
        # the boutique's Sunday window, 01:00-04:00: 02:00-03:00 skipped in March, shown twice in October
        ("paris_boutique", PARIS, (2026, 3, 29), 2),
        ("paris_boutique", PARIS, (2026, 10, 25), 4),
        ("paris_boutique", PARIS, (2026, 11, 1), 3),
    ],
)
def test_daylight_saving_days_hold_the_hours_the_clock_really_shows(name, zone, day, hours):
    # Given a calendar open across the hour daylight saving moves
    desk = calendar(name)
    start = local(zone, *day, 0)
    end = local(zone, *day, 23, 59)

    # When the day is measured
    measured = desk.business_seconds(start, end)

    # Then the skipped hour counts nothing and the repeated hour counts twice
    assert measured == hours * HOUR


def test_adding_across_spring_forward_and_fall_back():
    # Given the night desk at 00:00 on New York's spring-forward and fall-back nights
    desk = calendar("new_york_night_desk")

    # When four business hours are added each night
    spring = desk.add_business_time(local(NY, 2026, 3, 8, 0), 4 * HOUR)
    fall = desk.add_business_time(local(NY, 2026, 11, 1, 0), 4 * HOUR)

    # Then in March the clock reads 05:00 (it skipped 02:00), in November 03:00 (01:00 came twice)
    assert spring == local(NY, 2026, 3, 8, 5)
    assert fall == local(NY, 2026, 11, 1, 3)
    # and an hour after 01:30 (the first one) in November is the second 01:30
    assert desk.add_business_time(local(NY, 2026, 11, 1, 1, 30), HOUR) == local(
        NY, 2026, 11, 1, 1, 30, fold=1
    )


def test_an_opening_inside_the_skipped_hour_starts_when_the_clock_resumes():
    # Given a calendar opening at 02:30 on New York's spring-forward Sunday (02:30 never shows)
    desk = BusinessCalendar.model_validate(
        {"zone": NY, "week": {"sun": [{"start": "02:30", "end": "04:00"}]}}
    )

    # When that Sunday is measured, and the first business instant after midnight found
    measured = desk.business_seconds(local(NY, 2026, 3, 8, 0), local(NY, 2026, 3, 9, 0))
    opens = desk.add_business_time(local(NY, 2026, 3, 8, 0), 1)

    # Then the desk is open from 03:00 EDT (07:00 UTC) to 04:00: one hour
    assert measured == HOUR
    assert opens == datetime(2026, 3, 8, 7, 0, 1, tzinfo=UTC)


def test_a_zone_without_daylight_saving_keeps_every_week_alike():
    # Given the Tokyo office (09:00-18:00, lunch 12:00-13:00, weekdays; Asia/Tokyo has no DST)
    office = calendar("tokyo_office")

    # When a March week and a November week are measured
    march = office.business_seconds(local(TOKYO, 2026, 3, 2, 0), local(TOKYO, 2026, 3, 9, 0))
    november = office.business_seconds(local(TOKYO, 2026, 10, 26, 0), local(TOKYO, 2026, 11, 2, 0))

    # Then both hold 40 hours
    assert march == november == 40 * HOUR


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"zone": NY, "week": {"mon": [{"start": "12:00", "end": "09:00"}]}}, "ends after it starts"),
        (
            {
                "zone": NY,
                "week": {"mon": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "17:00"}]},
            },
            "do not overlap",
        ),
        (
            {
                "zone": NY,
                "week": {"mon": [{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}]},
            },
            "ordered",
        ),
        (
            {"zone": "Mars/Olympus", "week": {"mon": [{"start": "09:00", "end": "17:00"}]}},
            "unknown time zone",
        ),
        ({"zone": NY, "week": {"monday": [{"start": "09:00", "end": "17:00"}]}}, "weekdays are"),
        ({"zone": NY, "week": {"mon": []}}, "at least one interval"),
        ({"zone": NY, "week": {"mon": [{"start": "9:00", "end": "17:00"}]}}, "HH:MM"),
        (
            {
                "zone": NY,
                "week": {"mon": [{"start": "09:00", "end": "17:00"}]},
                "holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25"}],
            },
            "listed once",
        ),
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused(data, message):
    # Given calendar data with one mistake
    # When it is validated
    with pytest.raises(ValidationError) as refused:
        BusinessCalendar.model_validate(data)

    # Then the refusal says what is wrong
    assert message in str(refused.value)


def test_an_interval_may_end_at_midnight():
    # Given a day open 18:00-24:00
    late = BusinessCalendar.model_validate(
        {"zone": PARIS, "week": {"fri": [{"start": "18:00", "end": "24:00"}]}}
    )

    # When that Friday is measured
    # Then it holds six hours
    assert late.business_seconds(local(PARIS, 2026, 12, 4, 0), local(PARIS, 2026, 12, 5, 6)) == 6 * HOUR


def test_naive_times_are_refused():
    # Given the store's calendar
    store = calendar("new_york_store")

    # When a time without a zone is measured from
    # Then it is refused
    with pytest.raises(ValueError, match="timezone-aware"):
        store.business_seconds(datetime(2026, 12, 7, 9), datetime(2026, 12, 7, 10, tzinfo=UTC))


# -- properties over the year 2026, its daylight-saving days included ---------------------

NAMES = ("new_york_store", "new_york_night_desk", "paris_boutique", "tokyo_office")
BUILT = {name: calendar(name) for name in NAMES}
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
spans = st.integers(min_value=0, max_value=60 * HOUR)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(NAMES), start=instants, seconds=spans)
def test_adding_then_measuring_gives_back_the_seconds(name, start, seconds):
    # Given a calendar, an instant and a number of business seconds
    desk = BUILT[name]

    # When they are added, and the business time from the start to the answer measured
    due = desk.add_business_time(start, seconds)

    # Then it is exactly that many seconds, and the answer is the first such instant
    assert desk.business_time(start, due) == timedelta(seconds=seconds)
    if seconds:
        assert desk.business_time(start, due - timedelta(microseconds=1)) < timedelta(seconds=seconds)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(NAMES), points=st.lists(instants, min_size=3, max_size=3))
def test_business_time_adds_up_over_splits_and_grows_with_the_span(name, points):
    # Given a calendar and three ordered instants a <= b <= c
    desk = BUILT[name]
    a, b, c = sorted(points)

    # When a-c, a-b and b-c are measured
    whole, first, second = desk.business_time(a, c), desk.business_time(a, b), desk.business_time(b, c)

    # Then the parts add up to the whole, and a longer span never holds less
    assert whole == first + second
    assert first <= whole and second <= whole
    assert desk.business_time(a, c) <= c - a


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(NAMES), start=instants, seconds=st.lists(spans, min_size=2, max_size=2))
def test_adding_more_business_time_never_ends_earlier(name, start, seconds):
    # Given a calendar, an instant and two amounts of business time
    desk = BUILT[name]
    less, more = sorted(seconds)

    # When each is added
    # Then the larger ends no earlier, and adding in two steps equals adding at once
    assert desk.add_business_time(start, less) <= desk.add_business_time(start, more)
    assert desk.add_business_time(desk.add_business_time(start, less), more - less) == desk.add_business_time(
        start, more
    )


def test_a_copy_with_other_hours_measures_its_own_hours():
    # Given the Tokyo office, measured once (its days are remembered)
    office = calendar("tokyo_office")
    day = (local(TOKYO, 2026, 12, 7, 0), local(TOKYO, 2026, 12, 8, 0))
    assert office.business_seconds(*day) == 8 * HOUR

    # When a copy opens Mondays 09:00-10:00 only, and Christmas is added as a holiday
    short = office.model_copy(update={"week": {"mon": [Interval(start="09:00", end="10:00")]}})
    closed = BusinessCalendar.model_validate({**office.model_dump(), "holidays": [{"date": "2026-12-07"}]})

    # Then each measures its own hours, not the remembered ones
    assert short.business_seconds(*day) == HOUR
    assert closed.business_seconds(*day) == 0
    assert office.business_seconds(*day) == 8 * HOUR
