"""Every computation that takes a date is total over what can be stored: year 9999, year 1
and epoch 0 (items stored before webhooks checked dates, or written by hand) never raise.

Property tests draw stored times from the whole calendar and "now" from a plausible range;
a few examples pin the cases the issue reported (they raised before)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import records
from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.domain import predict, profile_facts, scoring, segment_eval, segments, timemath
from chalicelib.domain import workspace_analytics as report
from chalicelib.domain.messaging.flow_definition import Wait, next_birthday
from chalicelib.domain.messaging.model import Policy
from chalicelib.domain.messaging.service import quiet_until
from chalicelib.domain.models import Platform
from chalicelib.domain.profiles import Profile, WorkspaceSettings
from tests.unit.fakes import order_item

UTC_ANY = st.datetimes(timezones=st.just(UTC))  # year 1 to year 9999
NOW = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
YEAR_9999 = datetime(9999, 12, 31, 9, 59, 59, tzinfo=UTC)  # '9999-12-31T23:59:59+14:00' in UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW_FIXED = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ZONES = st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris", "Asia/Kolkata"])
DAYS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
EDGES = st.tuples(DAYS, DAYS, DAYS, DAYS).map(lambda t: tuple(sorted(t)))
FIRST_EPOCH = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
LAST_EPOCH = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


# -- lifecycle and RFM ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    orders=st.integers(min_value=0, max_value=10_000),
    last=UTC_ANY,
    own=st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False),
    store=st.none() | st.floats(min_value=0.01, max_value=1e9, allow_nan=False),
    now=NOW,
)
@example(orders=1, last=YEAR_9999, own=None, store=None, now=NOW_FIXED)  # raised OverflowError
@example(orders=3, last=YEAR_9999, own=30.0, store=60.0, now=NOW_FIXED)
def test_lifecycle_is_total_and_a_stage_for_any_last_order(orders, last, own, store, now):
    # When the stage is computed for any stored last order
    stage = scoring.lifecycle(orders, last, own, store, now)
    # Then it is one of the stages, and its next change (if any) is in the future
    assert stage.stage in segments.LIFECYCLE_STAGES
    assert stage.next_change is None or stage.next_change > now or stage.next_change > last


@settings(max_examples=300, deadline=None)
@given(last=UTC_ANY, recency=EDGES, now=NOW)
@example(last=YEAR_9999, recency=(10.0, 30.0, 90.0, 180.0), now=NOW_FIXED)  # raised OverflowError
def test_rfm_next_change_is_total(last, recency, now):
    edges = scoring.RfmEdges(recency, (1, 2, 3, 4), (10, 20, 30, 40))
    # When the next recency change is asked for any stored last order and any edges
    change = scoring.rfm_next_change(last, edges, now)
    # Then it is a future time or never
    assert change is None or change > now


@settings(max_examples=200, deadline=None)
@given(last=UTC_ANY, now=NOW, orders=st.integers(min_value=1, max_value=50))
@example(last=YEAR_9999, now=NOW_FIXED, orders=1)
def test_score_profile_is_total_for_any_stored_last_order(last, now, orders):
    # Given a stored profile whose last order is at any time
    item = {"n": orders, "last": timemath.iso(last), "net": Decimal("10"), "gap": Decimal("30")}
    edges = scoring.RfmEdges((10, 30, 90, 180), (1, 2, 3, 4), (10, 20, 30, 40))
    # When it is scored
    rfm, stage = profile_facts.score_profile(
        profile_of({"ws": "ws_1", "cid": "c_1", **item}), edges, 60.0, now
    )
    # Then it has scores and a stage
    assert rfm is not None and 1 <= rfm.r <= 5
    assert stage.stage in segments.LIFECYCLE_STAGES


# -- segment conditions on days since -----------------------------------------------------------

DAY_CONDITIONS = st.sampled_from(
    ["last_order_days > 30", "last_order_days <= 7", "first_order_days >= 365", "customer_days < 10"]
)


@settings(max_examples=200, deadline=None)
@given(stamp=UTC_ANY, now=NOW, text=DAY_CONDITIONS, bound=st.integers(min_value=0, max_value=10**15))
@example(stamp=YEAR_9999, now=NOW_FIXED, text="last_order_days > 30", bound=30)  # raised OverflowError
def test_a_days_since_condition_is_total_for_any_stamp_and_bound(stamp, now, text, bound):
    # Given a condition on whole days since a stored time, with any bound
    condition = segments.parse(text.rsplit(" ", 1)[0] + f" {bound}")
    facts = segment_eval.Facts(
        values={}, times={"last_order_at": stamp, "first_order_at": stamp, "created_at": stamp}
    )
    # When it is evaluated
    verdict = segment_eval.evaluate(condition, facts, now)
    # Then there is an answer, and a recheck time only in the future
    assert isinstance(verdict.member, bool)
    assert verdict.next_check is None or verdict.next_check > now


# -- model inputs (BG/NBD summary and scores) ----------------------------------------------------

EPOCHS = st.integers(min_value=FIRST_EPOCH, max_value=LAST_EPOCH)
PARAMS = st.builds(
    predict.ModelParams,
    method=st.sampled_from(["bgnbd+gamma_gamma", "heuristic"]),
    reason=st.just(""),
    customers=st.just(100),
    repeat_buyers=st.just(50),
    fitted_at=st.just("2026-12-01T00:00:00.000000Z"),
    r=st.floats(min_value=0.01, max_value=50),
    alpha=st.floats(min_value=0.01, max_value=500),
    a=st.floats(min_value=0.01, max_value=50).filter(lambda a: abs(a - 1) > 1e-6),
    b=st.floats(min_value=0.01, max_value=50),
    p=st.floats(min_value=0.1, max_value=20),
    q=st.floats(min_value=1.01, max_value=20),  # the Gamma-Gamma fit's domain: a finite mean spend
    v=st.floats(min_value=0.1, max_value=500),
    store_rate=st.floats(min_value=0, max_value=1),
    store_gap=st.floats(min_value=1, max_value=365),
    store_value=st.floats(min_value=0, max_value=500),
)


@settings(max_examples=150, deadline=None)
@given(times=st.lists(EPOCHS, min_size=1, max_size=40), params=PARAMS, now=NOW)
@example(  # 200 days of orders from the epoch on, scored decades later: exp() overflowed
    times=[i * 86400 for i in range(200)],
    params=predict.ModelParams("bgnbd+gamma_gamma", "", 10, 5, "", r=50, alpha=1, a=2, b=2, p=1, q=2, v=1),
    now=NOW_FIXED,
)
@example(  # a one-time buyer under a fit with a + b = 1: the series divided by c = 0
    times=[0],
    params=predict.ModelParams("bgnbd+gamma_gamma", "", 10, 5, "", r=1, alpha=1, a=0.5, b=0.5, p=1, q=2, v=1),
    now=NOW_FIXED,
)
def test_model_scores_are_total_and_finite_for_any_stored_order_times(times, params, now):
    # Given a profile whose orders are at any epoch seconds a stored item can hold
    item = {"o": {f"s.{i}": {"v": 1, "t": t, "a": Decimal("10")} for i, t in enumerate(times)}}
    # When its summary and scores are computed, today and projected
    profile = profile_of({"ws": "ws_1", "cid": "c_1", **item})
    summary = predict.summary(profile, now)
    assert summary is not None
    for days_ahead in (0, 180):
        scores = predict.values(params, summary, days_ahead)
        # Then every score is a finite number
        assert all(value.is_finite() for value in scores.values())
    assert predict.view(params, profile, now)["scored"] is True


# -- flows: due times, birthdays, quiet hours --------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=UTC_ANY,
    days=st.integers(min_value=0, max_value=366),
    hours=st.integers(min_value=0, max_value=10**12),
    minutes=st.integers(min_value=0, max_value=10**6),
    until_local=st.none() | st.sampled_from(["00:00", "10:00", "23:59"]),
    zone=ZONES,
)
@example(start=YEAR_9999, days=3, hours=0, minutes=0, until_local="10:00", zone="Pacific/Kiritimati")
def test_a_wait_ends_at_a_time_never_before_it_starts(start, days, hours, minutes, until_local, zone):
    wait = Wait(days=days, hours=hours, minutes=minutes, until_local=until_local)
    # When a run that started at any stored time waits
    until = wait.until(start, ZoneInfo(zone))
    # Then it ends at a UTC time no earlier than it started (at worst, the calendar's end)
    assert until.utcoffset() == timedelta(0)
    assert until >= start


@given(
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=31),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 1, 1)),
)
@example(month=2, day=30, today=date(2027, 1, 1))  # raised ValueError (stored before the check)
@example(month=2, day=29, today=date(2027, 3, 1))
def test_next_birthday_is_total_for_any_stored_month_day(month, day, today):
    # When the next birthday is asked for any stored MM-DD
    birthday = next_birthday(f"{month:02d}-{day:02d}", today)
    # Then it is today or within a year, in that month, on that day or the month's last
    assert today <= birthday <= today + timedelta(days=366)
    assert birthday.month == month and birthday.day <= day


@settings(deadline=None)
@given(now=UTC_ANY, zone=ZONES)
@example(now=timemath.LATEST, zone="Pacific/Kiritimati")
def test_quiet_hours_are_total_for_any_time(now, zone):
    # When a dry run asks about quiet hours at any time
    until = quiet_until(now, ZoneInfo(zone), Policy())
    # Then the answer is "not quiet" or a UTC time no earlier than asked
    assert until is None or (until >= now and until.utcoffset() == timedelta(0))


# -- the helpers themselves --------------------------------------------------------------------


@given(at=UTC_ANY, days=DAYS)
def test_shift_holds_at_the_calendar_ends(at, days):
    moved = timemath.shift(at, timemath.span(days))
    assert timemath.EARLIEST <= moved <= timemath.LATEST
    assert (moved >= at) == (days >= 0) or moved == at


@given(seconds=st.floats(allow_nan=True) | st.integers())
def test_from_epoch_is_total(seconds):
    assert timemath.EARLIEST <= timemath.from_epoch(seconds) <= timemath.LATEST


# -- epoch 0 is a time, not "nothing" ------------------------------------------------------------

SETTINGS = WorkspaceSettings("ws_test", "USD", "salt")


def _profile_with_order_at(stamp: str) -> dict:
    """A profile holding one order whose stored placed-at time is `stamp`."""
    item = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    item["ca"] = stamp  # as stored before webhooks checked dates
    profile = Profile.new("ws_test", "c_0001", NOW_FIXED)
    profile.set_order("src_1.1", records.snapshot(item), SETTINGS)
    profile.recompute(SETTINGS)
    return profile_item(profile.state)


def test_an_order_at_the_epoch_sets_first_and_last_order_at():
    # Given an order stored with created_at 1970-01-01T00:00:00Z
    item = _profile_with_order_at("1970-01-01T00:00:00.000000Z")
    # Then it counts, and it is the first and the last order (it used to leave them empty)
    assert item["n"] == 1
    assert item["first"] == item["last"] == "1970-01-01T00:00:00.000000Z"
    assert item["o"]["src_1.1"]["t"] == 0  # and it names the last product
    assert profile_of(item).last_product == "Organic Cotton Tee"


def test_the_report_counts_an_order_placed_at_the_epoch():
    # Given a profile whose only order is at the epoch
    item = _profile_with_order_at("1970-01-01T00:00:00.000000Z")
    # When the report covers 1970
    shown = report.build_report([profile_of(item)], EPOCH, datetime(1971, 1, 1, tzinfo=UTC))
    # Then the order is in it
    assert shown["kpis"]["orders"] == 1


def test_a_profile_with_a_year_9999_order_scores_and_reports():
    # Given a profile whose only order is stamped 9999-12-31T09:59:59Z
    item = _profile_with_order_at(timemath.iso(YEAR_9999))
    # When it is scored and reported
    rfm, stage = profile_facts.score_profile(profile_of(item), None, None, NOW_FIXED)
    shown = report.build_report([profile_of(item)], EPOCH, NOW_FIXED)
    # Then it is a new customer whose stage never changes by time, and the report answers
    assert (rfm, stage.stage, stage.next_change) == (None, "new", None)
    assert shown["kpis"]["buyers"] == 0


class _NoProfiles:
    def customers_of(self, workspace_id: str) -> list:
        return []


@given(end=st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)))  # a year or a day before
@example(end=datetime(2028, 2, 29, 12, tzinfo=UTC))  # raised ValueError: a year before 29 February
@example(end=datetime(1, 6, 1, tzinfo=UTC))
def test_the_report_s_default_period_is_total(end):
    # When the report is asked up to any time, with no start
    shown = report.AnalyticsService(_NoProfiles()).report("ws_test", None, end)
    # Then it covers the year (or 365 days) before it
    assert shown["period"]["to"] == end.isoformat()
    assert datetime.fromisoformat(shown["period"]["from"]) < end
