"""The SLA engine (chalicelib.domain.service.sla): policies chosen from the ticket's facts,
targets computed from its event log as of any instant, with the ticket logs of
events/service/sla_tickets.json under the policies of events/service/sla_policies.json
(calendars from events/service/calendars.json, New York's store: weekdays 09:00-17:00)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.service.sla import (
    Event,
    ReportRow,
    SlaPolicies,
    SlaState,
    TargetState,
    TicketLog,
    sla_report,
    sla_state,
)

FIXTURES = Path(__file__).resolve().parents[2] / "events" / "service"
CALENDARS = json.loads((FIXTURES / "calendars.json").read_text())
TICKETS = json.loads((FIXTURES / "sla_tickets.json").read_text())


def policies_data() -> dict[str, Any]:
    data = json.loads((FIXTURES / "sla_policies.json").read_text())
    for policy in data["policies"]:
        policy["calendar"] = CALENDARS[policy["calendar"]]
    return data


POLICIES = SlaPolicies.model_validate(policies_data())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def log(name: str) -> list[Event]:
    return [Event(e["kind"], utc(e["at"]), e["by"], e["data"]) for e in TICKETS[name]["events"]]


def state(name: str, now: str, policies: SlaPolicies = POLICIES) -> SlaState:
    return sla_state(log(name), policies, utc(now), TICKETS[name].get("tier"))


def target(found: SlaState, name: str, index: int = 0) -> TargetState:
    return [t for t in found.targets if t.target == name][index]


HOURS = timedelta(hours=1)


def test_a_weekend_does_not_count_against_the_first_reply():
    # Given a complaint on Friday 16:00, answered Monday 15:00 (the standard policy: 8 hours)
    # When its state is computed on Monday 16:00
    found = state("weekend", "2026-12-07T21:00:00Z")

    # Then the first reply used 7 business hours: met; the resolution runs, due next Friday 16:00
    assert found.policy_id == "standard"
    first = target(found, "first_reply")
    assert (first.status, first.used, first.stopped_at) == ("met", 7 * HOURS, utc("2026-12-07T20:00:00Z"))
    resolution = target(found, "resolution")
    assert (resolution.status, resolution.used) == ("running", 8 * HOURS)
    assert resolution.due_at == utc("2026-12-11T21:00:00Z")
    assert [t.target for t in found.targets] == ["first_reply", "resolution"]  # no customer message yet


def test_a_change_of_priority_re_chooses_the_policy_and_re_evaluates_the_targets():
    # Given a complaint on Monday 09:00 raised to urgent at 10:30, answered at 11:00
    # When its state is computed at 09:30, at 10:30 and at noon
    before = state("priority_raised", "2026-12-07T14:30:00Z")
    raised = state("priority_raised", "2026-12-07T15:30:00Z")
    noon = state("priority_raised", "2026-12-07T17:00:00Z")

    # Then at 09:30 the standard policy runs (due 17:00)
    assert before.policy_id == "standard"
    assert target(before, "first_reply").status == "running"
    assert target(before, "first_reply").due_at == utc("2026-12-07T22:00:00Z")
    # and from 10:30 the urgent policy's hour is over: breached at 10:00, from the log alone
    assert (raised.policy_id, raised.facts.priority) == ("urgent-complaints", "urgent")
    assert target(raised, "first_reply").status == "breached"
    assert target(raised, "first_reply").breached_at == utc("2026-12-07T15:00:00Z")
    # and the reply at 11:00 stops it, still breached; the resolution (8 hours) runs to 17:00
    first = target(noon, "first_reply")
    assert (first.status, first.stopped_at, first.used) == (
        "breached",
        utc("2026-12-07T16:00:00Z"),
        2 * HOURS,
    )
    assert target(noon, "resolution").due_at == utc("2026-12-07T22:00:00Z")


def test_the_clock_pauses_while_pending():
    # Given an order issue answered and set pending on Tuesday 10:00, the customer back Wednesday
    # 11:00, answered 12:30 and solved 13:00
    # When its state is computed while pending, and after
    waiting = state("pending", "2026-12-09T14:00:00Z")
    done = state("pending", "2026-12-10T15:00:00Z")

    # Then while pending the resolution is paused at 1 hour, with no due time
    paused = target(waiting, "resolution")
    assert (paused.status, paused.used, paused.due_at) == ("paused", 1 * HOURS, None)
    assert target(waiting, "first_reply").status == "met"
    # and after: the next reply waited 1.5 hours, the resolution used 3 (pending not counted)
    next_reply = target(done, "next_reply")
    assert (next_reply.status, next_reply.started_at, next_reply.used) == (
        "met",
        utc("2026-12-09T16:00:00Z"),
        timedelta(hours=1.5),
    )
    resolution = target(done, "resolution")
    assert (resolution.status, resolution.used, resolution.stopped_at) == (
        "met",
        3 * HOURS,
        utc("2026-12-09T18:00:00Z"),
    )


def test_a_reopened_ticket_resumes_its_resolution_clock():
    # Given a gold member's suggestion solved Monday 15:00 and reopened Tuesday 09:00
    # When its state is computed while solved, after the reopening, and once solved again
    solved = state("reopened", "2026-12-07T21:00:00Z")
    reopened = state("reopened", "2026-12-08T15:00:00Z")
    again = state("reopened", "2026-12-09T00:00:00Z")

    # Then the gold policy applies (the tier), met while solved, running again when reopened
    assert solved.policy_id == "gold"
    assert target(solved, "resolution").status == "met"
    resumed = target(reopened, "resolution")
    assert (resumed.status, resumed.used, resumed.stopped_at) == ("running", 7 * HOURS, None)
    assert resumed.due_at == utc("2026-12-09T16:00:00Z")  # 9 hours left from Tuesday 10:00
    final = target(again, "resolution")
    assert (final.status, final.used, final.stopped_at) == ("met", 10 * HOURS, utc("2026-12-08T18:00:00Z"))


def test_on_hold_pauses_when_the_policy_says_so_and_near_breach_warns():
    # Given an urgent complaint on hold from 09:30 to 13:30 (the urgent policy pauses on hold)
    # When its state is computed on hold, at 13:50, and at 14:00
    held = state("on_hold", "2026-12-07T17:00:00Z")
    near = state("on_hold", "2026-12-07T18:50:00Z")
    late = state("on_hold", "2026-12-07T19:00:00Z")

    # Then on hold it is paused at 30 minutes; at 13:50, 50 of 60 minutes used: near breach
    assert (target(held, "first_reply").status, target(held, "first_reply").used) == (
        "paused",
        timedelta(minutes=30),
    )
    warned = target(near, "first_reply")
    assert (warned.status, warned.near_breach, warned.due_at) == (
        "running",
        True,
        utc("2026-12-07T19:00:00Z"),
    )
    assert near.alerts() == [("first_reply", "near_breach")]
    # and at 14:00 it is breached (the alert says so)
    assert target(late, "first_reply").breached_at == utc("2026-12-07T19:00:00Z")
    assert late.alerts() == [("first_reply", "breach")]


def test_a_paused_clock_does_not_warn():
    # Given an urgent complaint open 09:00 to 09:50, then pending (waiting on the customer)
    events = [
        *log("on_hold")[:1],
        Event("status_changed", utc("2026-12-07T14:50:00Z"), "key:ab12", {"to": "pending"}),
    ]

    # When its state is computed at 10:00, 50 of its 60 minutes used
    found = sla_state(events, POLICIES, utc("2026-12-07T15:00:00Z"))

    # Then it is paused, not near breach, and nothing is alerted
    first = target(found, "first_reply")
    assert (first.status, first.used, first.near_breach) == ("paused", timedelta(minutes=50), False)
    assert found.alerts() == []


def test_on_hold_counts_when_the_policy_does_not_pause():
    # Given the same ticket under policies whose urgent policy keeps counting on hold
    data = policies_data()
    data["policies"][0]["pause_on_hold"] = False
    counting = SlaPolicies.model_validate(data)

    # When its state is computed at 13:50
    found = state("on_hold", "2026-12-07T18:50:00Z", counting)

    # Then the first reply breached at 10:00
    assert target(found, "first_reply").breached_at == utc("2026-12-07T15:00:00Z")


def test_the_night_desk_across_spring_forward():
    # Given a text message at 00:00 EST on New York's spring-forward night (night desk 00:00-06:00)
    # When its state is computed at 01:00 EST and at 06:00 EDT
    early = state("spring_forward_sms", "2026-03-08T06:00:00Z")
    late = state("spring_forward_sms", "2026-03-08T10:00:00Z")

    # Then 4 business hours end at 05:00 EDT (09:00 UTC): 02:00-03:00 never happened
    assert early.policy_id == "night-sms"
    assert target(early, "first_reply").due_at == utc("2026-03-08T09:00:00Z")
    assert target(late, "first_reply").breached_at == utc("2026-03-08T09:00:00Z")


def test_a_holiday_and_a_half_day_stretch_the_due_time():
    # Given a question on Christmas Eve 12:00 (open until 13:00 that day, Christmas closed)
    # When its state is computed on Christmas Day, and on Monday 28th at 17:00
    christmas = state("holiday", "2026-12-25T17:00:00Z")
    monday = state("holiday", "2026-12-28T22:00:00Z")

    # Then one hour is used by Christmas, and the 8 hours end Monday 16:00 (21:00 UTC)
    first = target(christmas, "first_reply")
    assert (first.status, first.used, first.due_at) == ("running", HOURS, utc("2026-12-28T21:00:00Z"))
    assert target(monday, "first_reply").breached_at == utc("2026-12-28T21:00:00Z")


def test_no_policy_matches_no_targets():
    # Given policies with no catch-all
    data = policies_data()
    data["policies"] = data["policies"][:1]
    only_urgent = SlaPolicies.model_validate(data)

    # When a normal order issue is evaluated
    found = state("pending", "2026-12-10T15:00:00Z", only_urgent)

    # Then no policy applies and no target is measured
    assert (found.policy_id, found.targets) == (None, ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["policies"].append(dict(d["policies"][0])), "own id"),
        (lambda d: d["policies"][0].update(targets={}), "at least one target"),
        (lambda d: d["policies"][0]["filter"].update(kinds=["praise"]), "pre_sale"),
        (lambda d: d["policies"][0]["targets"].update(first_reply=0), "greater than or equal to 1"),
        (lambda d: d.update(near_breach_share="1.2"), "less than 1"),
    ],
)
def test_policies_that_make_no_sense_are_refused(change, message):
    # Given the policies with one mistake
    data = policies_data()
    change(data)

    # When they are validated
    with pytest.raises(ValidationError) as refused:
        SlaPolicies.model_validate(data)

    # Then the refusal says what is wrong
    assert message in str(refused.value)


def test_the_report_gives_the_share_met_per_policy_period_and_target():
    # Given every fixture ticket, seen at the end of December
    tickets = [TicketLog(log(name), TICKETS[name].get("tier")) for name in TICKETS]

    # When the monthly report is made, and again from June
    rows = sla_report(tickets, POLICIES, utc("2026-12-31T00:00:00Z"), period="month")
    since_june = sla_report(tickets, POLICIES, utc("2026-12-31T00:00:00Z"), since=utc("2026-06-01T00:00:00Z"))

    # Then each decided target counts once, in its policy's row for the month it was decided
    december = date(2026, 12, 1)
    assert rows == [
        ReportRow("gold", december, "first_reply", 1, 0),
        ReportRow("gold", december, "resolution", 1, 0),
        ReportRow("night-sms", date(2026, 3, 1), "first_reply", 0, 1),
        ReportRow("standard", december, "first_reply", 2, 1),
        ReportRow("standard", december, "next_reply", 1, 0),
        ReportRow("standard", december, "resolution", 1, 1),
        ReportRow("urgent-complaints", december, "first_reply", 0, 2),
        ReportRow("urgent-complaints", december, "resolution", 0, 2),
    ]
    assert rows[5].share_met == Decimal("0.5000")
    assert rows[0].share_met == Decimal("1.0000")
    assert [r.policy_id for r in since_june if r.policy_id == "night-sms"] == []


def test_the_report_by_week_starts_on_monday():
    # Given the weekend ticket (answered Monday 7 December)
    tickets = [TicketLog(log("weekend"))]

    # When the weekly report is made at Monday 16:00
    rows = sla_report(tickets, POLICIES, utc("2026-12-07T21:00:00Z"), period="week")

    # Then its met first reply counts in the week of Monday 7 December; the resolution is undecided
    assert rows == [ReportRow("standard", date(2026, 12, 7), "first_reply", 1, 0)]


# -- properties: the log's order, events after `now`, a clock that only moves forward -----

BASE = datetime(2026, 12, 7, 14, tzinfo=UTC)
ACTIONS = ("open", "pending", "on_hold", "solved", "reply", "customer", "urgent", "normal")


def build(steps: list[tuple[int, str]]) -> list[Event]:
    events = [
        Event("created", BASE, "customer", {"kind": "complaint", "priority": "normal", "channel": "api"})
    ]
    status, priority, at = "open", "normal", BASE
    for gap, action in steps:
        at += timedelta(minutes=gap)
        if action in ("reply", "customer"):
            events.append(Event("public_reply", at, "customer" if action == "customer" else "key:ab12"))
        elif action in ("urgent", "normal"):
            if action != priority:
                events.append(Event("priority_changed", at, "key:ab12", {"from": priority, "to": action}))
                priority = action
        elif action != status:
            events.append(Event("status_changed", at, "key:ab12", {"from": status, "to": action}))
            status = action
    return events


logs = st.lists(st.tuples(st.integers(1, 900), st.sampled_from(ACTIONS)), max_size=12).map(build)


@settings(max_examples=80, deadline=None)
@given(events=logs, seed=st.integers(0, 2**16), cut=st.integers(0, 12))
def test_the_state_depends_on_the_events_before_now_only_never_on_their_order(events, seed, cut):
    # Given a ticket's log and an instant `now` within it
    now = events[min(cut, len(events) - 1)].at + timedelta(minutes=1)
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)

    # When the state is computed on the log, on it shuffled, and on its part up to `now`
    whole = sla_state(events, POLICIES, now)
    mixed = sla_state(shuffled, POLICIES, now)
    prefix = sla_state([e for e in events if e.at <= now], POLICIES, now)

    # Then all three agree
    assert whole == mixed == prefix


@settings(max_examples=60, deadline=None)
@given(events=logs, hours=st.lists(st.integers(0, 24 * 14), min_size=2, max_size=2))
def test_time_used_never_decreases_and_never_exceeds_business_time(events, hours):
    # Given a ticket's log and two instants after its last event, under one policy
    earlier, later = (events[-1].at + timedelta(hours=h) for h in sorted(hours))
    first, second = sla_state(events, POLICIES, earlier), sla_state(events, POLICIES, later)
    calendar = next(p.calendar for p in POLICIES.policies if p.id == first.policy_id)

    # When each target's business time used is compared
    pairs = list(zip(first.targets, second.targets, strict=True))

    # Then it never goes down, and never exceeds the business time since the target started
    for before, after in pairs:
        assert before.used <= after.used
        assert after.used <= calendar.business_time(after.started_at, later)
        assert before.status != "breached" or after.status == "breached"
