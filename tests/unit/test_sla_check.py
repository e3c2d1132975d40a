"""The scheduled SLA check (chalicelib.domain.service.sla_check) with fakes and an injected
clock: alerts published only within the Paris boutique's business hours (weekend, lunch
break, holiday, daylight saving), each (ticket, target, level, due at) once, a priority
change making a new alert, a failed publish taken up by a later run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.service.model import EventKind
from chalicelib.domain.timemath import iso
from tests.unit.sla_world import WS, World, paris, settings_fixture


def utc_iso(text: str) -> str:
    return iso(paris(text)) or ""


@pytest.fixture
def world() -> World:
    return World(settings_fixture())


def test_a_breach_at_the_close_is_published_at_the_next_opening_not_at_night(world):
    # Given a standard ticket (first reply in 4 business hours) opened Monday 14:00
    tid = world.open_ticket(paris("2026-12-07 14:00"))
    # When the check runs at 17:15 (near breach), 18:05 and 02:00 (closed), then 09:00
    world.check.run(paris("2026-12-07 17:15"))
    evening = world.check.run(paris("2026-12-07 18:05"))
    night = world.check.run(paris("2026-12-08 02:00"))
    assert world.published() == [("first_reply", "near", utc_iso("2026-12-07 18:00"))]
    morning = world.check.run(paris("2026-12-08 09:00"))
    # Then the near breach went out at 17:15, nothing at night, the breach at 09:00
    assert (evening["closed"], night["closed"], night["alerts"], morning["alerts"]) == (1, 1, 0, 1)
    assert world.published() == [
        ("first_reply", "near", utc_iso("2026-12-07 18:00")),
        ("first_reply", "breach", utc_iso("2026-12-07 18:00")),
    ]
    # And both are on the ticket's log as sla_alert events, with the policy
    assert [(e["level"], e["policy_id"]) for e in world.alert_events(tid)] == [
        ("near", "standard"),
        ("breach", "standard"),
    ]


def test_the_lunch_break_neither_counts_nor_publishes(world):
    # Given a high-priority ticket (2 business hours) opened Monday 11:00
    world.open_ticket(paris("2026-12-07 11:00"), priority="high")
    # When the check runs at 13:00 (lunch), 14:10 and 14:35
    lunch = world.check.run(paris("2026-12-07 13:00"))
    assert (lunch["closed"], world.published()) == (1, [])
    world.check.run(paris("2026-12-07 14:10"))
    world.check.run(paris("2026-12-07 14:35"))
    # Then it is due at 14:30 (11:00-12:30, then 14:00-14:30): near at 14:10, breached by 14:35
    due = utc_iso("2026-12-07 14:30")
    assert world.published() == [("first_reply", "near", due), ("first_reply", "breach", due)]


def test_a_holiday_and_a_weekend_publish_nothing_and_do_not_count(world):
    # Given a standard ticket opened on Christmas Eve at 17:00 (one business hour that day)
    world.open_ticket(paris("2026-12-24 17:00"))
    # When the check runs on Christmas Day, on Saturday, and on Monday at 09:00 and 11:20
    for at in ("2026-12-25 10:00", "2026-12-26 10:00", "2026-12-28 09:00"):
        world.check.run(paris(at))
    assert world.published() == []
    world.check.run(paris("2026-12-28 11:20"))
    # Then the near breach goes out on Monday, due at 12:00 (3 more hours from 09:00)
    assert world.published() == [("first_reply", "near", utc_iso("2026-12-28 12:00"))]


@pytest.mark.parametrize(
    ("friday", "closed_utc", "open_utc"),
    [
        # before the clocks go forward (CET, UTC+1): 09:00 in Paris is 08:00 UTC
        ("2027-03-19", datetime(2027, 3, 22, 7, 0, tzinfo=UTC), datetime(2027, 3, 22, 8, 0, tzinfo=UTC)),
        # after 28 March (CEST, UTC+2): 09:00 in Paris is 07:00 UTC
        ("2027-03-26", datetime(2027, 3, 29, 6, 30, tzinfo=UTC), datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),
    ],
)
def test_business_hours_follow_the_local_clock_across_daylight_saving(world, friday, closed_utc, open_utc):
    # Given a standard ticket opened on a Friday at 14:00, breached at the 18:00 close
    world.open_ticket(paris(f"{friday} 14:00"))
    # When the check runs on Monday before the local 09:00, then at it
    before = world.check.run(closed_utc)
    assert (before["closed"], world.published()) == (1, [])
    world.check.run(open_utc)
    # Then the breach goes out at the local opening, due at Friday's close
    assert world.published() == [("first_reply", "breach", utc_iso(f"{friday} 18:00"))]


def test_a_rerun_publishes_nothing_twice(world):
    # Given a breached ticket
    tid = world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    # When the check runs three times within business hours
    runs = [world.check.run(paris(at)) for at in ("2026-12-07 10:30", "2026-12-07 10:35", "2026-12-07 10:40")]
    # Then the breach is published once, and the ticket holds one sla_alert event
    assert world.published() == [("first_reply", "breach", utc_iso("2026-12-07 10:00"))]
    assert [r["alerts"] for r in runs] == [1, 0, 0]
    assert len(world.alert_events(tid)) == 1


def test_two_concurrent_runs_publish_once(world):
    # Given a breached ticket, and a second run that read the ticket before the first wrote
    tid = world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    stale = world.tickets.load(WS, tid)
    second = World(settings_fixture())
    second.tickets = world.tickets
    second.check.store = world.tickets
    second.check.alerts = world.alert_log

    class StaleFirstRead:
        """The ticket as it was before the first run's write (then the live store)."""

        def __init__(self) -> None:
            self.reads = 0

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(world.tickets, name)

        def load(self, workspace_id: str, ticket_id: str):  # type: ignore[no-untyped-def]
            self.reads += 1
            return stale if self.reads == 1 else world.tickets.load(workspace_id, ticket_id)

    second.check.store = StaleFirstRead()  # type: ignore[assignment]
    # When both run at 10:30, the first one writing first
    first = world.check.run(paris("2026-12-07 10:30"))
    other = second.check.run(paris("2026-12-07 10:30"))
    # Then one message in all: the second found the alert's marker and published nothing
    assert (first["alerts"], other["alerts"], other["already"]) == (1, 0, 1)
    assert len(world.topic.messages) + len(second.topic.messages) == 1
    assert len(world.alert_events(tid)) == 1


def test_a_priority_change_that_moves_due_at_is_a_new_alert(world):
    # Given an urgent ticket opened Monday 09:00 (due 10:00), near breach at 09:50
    tid = world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    world.check.run(paris("2026-12-07 09:50"))
    # When its priority is lowered to high (2 hours: due 11:00) and the check runs on
    world.change(
        tid, EventKind.PRIORITY_CHANGED, paris("2026-12-07 09:55"), **{"from": "urgent", "to": "high"}
    )
    for at in ("2026-12-07 10:40", "2026-12-07 10:45", "2026-12-07 11:05"):
        world.check.run(paris(at))
    # Then a near breach for each due instant, once each, and the breach of the new one
    assert world.published() == [
        ("first_reply", "near", utc_iso("2026-12-07 10:00")),
        ("first_reply", "near", utc_iso("2026-12-07 11:00")),
        ("first_reply", "breach", utc_iso("2026-12-07 11:00")),
    ]
    assert [e["policy_id"] for e in world.alert_events(tid)] == ["urgent", "high", "high"]


def test_a_pending_ticket_warns_nobody(world):
    # Given a standard ticket answered at 09:10 and set pending (waiting on the customer)
    tid = world.open_ticket(paris("2026-12-07 09:00"))
    world.change(
        tid, EventKind.PUBLIC_REPLY, paris("2026-12-07 09:10"), body="Which size?", delivery="queued"
    )
    world.change(
        tid, EventKind.STATUS_CHANGED, paris("2026-12-07 09:11"), **{"from": "open", "to": "pending"}
    )
    # When the check runs late on Wednesday (the resolution clock would be far along)
    result = world.check.run(paris("2026-12-09 17:00"))
    # Then the pending ticket is checked and nothing is published
    assert (result["tickets"], world.published()) == (1, [])


def test_a_failed_publish_is_published_by_a_later_run_once(world):
    # Given a breached ticket and a topic refusing messages
    tid = world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    world.topic.fail = True
    # When the check runs: the alert is recorded, the publish fails (counted, the run goes on)
    failed = world.check.run(paris("2026-12-07 10:30"))
    assert (failed["alerts"], failed["unpublished"]) == (0, 1)
    assert (len(world.alert_events(tid)), world.published()) == (1, [])
    # And the topic is back: a run within the first run's claim leaves it, a later one sends it
    world.topic.fail = False
    soon = world.check.run(paris("2026-12-07 10:31"))
    later = world.check.run(paris("2026-12-07 10:35"))
    again = world.check.run(paris("2026-12-07 10:40"))
    # Then it is published once, by the later run, and recorded once
    assert (soon["republished"], later["republished"], again["republished"]) == (0, 1, 0)
    assert world.published() == [("first_reply", "breach", utc_iso("2026-12-07 10:00"))]
    assert len(world.alert_events(tid)) == 1


def test_a_run_out_of_time_leaves_the_rest_to_the_next(world):
    # Given a breached ticket, and a run with no time left
    world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    # When the check runs with 5 seconds left, then with a minute
    short = world.check.run(paris("2026-12-07 10:30"), lambda: 5.0)
    full = world.check.run(paris("2026-12-07 10:35"), lambda: 60.0)
    # Then the first stops before the workspace, the next one publishes
    assert (short["pending"], short["alerts"], full["alerts"]) == (True, 0, 1)


@settings(max_examples=25, deadline=None)
@given(
    opened=st.integers(min_value=0, max_value=7 * 24 * 12 - 1),  # 5-minute steps in the week
    priority=st.sampled_from(["normal", "high", "urgent"]),
    steps=st.lists(st.integers(min_value=1, max_value=36), min_size=1, max_size=40),
    replay=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_whatever_the_runs_each_alert_goes_out_once_and_only_within_business_hours(
    opened, priority, steps, replay
):
    # Given a ticket opened at any 5-minute instant of a week in December
    world = World(settings_fixture())
    start = paris("2026-12-07 00:00") + timedelta(minutes=5 * opened)
    tid = world.open_ticket(start, priority=priority)
    calendar = world.settings.policies(WS)[1]
    # When the check runs at increasing instants, some of them twice
    at, sent_at = start, []
    for step, again in zip(steps, replay, strict=False):
        at += timedelta(minutes=5 * step)
        for _ in range(2 if again else 1):
            before = len(world.topic.messages)
            world.check.run(at)
            sent_at += [at] * (len(world.topic.messages) - before)
    # Then no (target, level, due at) is published twice, none outside business hours, and
    # the ticket's sla_alert events are exactly the messages
    assert len(set(world.published())) == len(world.published())
    assert all(calendar.is_open(when) for when in sent_at)
    logged = [(e["target"], e["level"], e["due_at"]) for e in world.alert_events(tid)]
    assert logged == world.published()
