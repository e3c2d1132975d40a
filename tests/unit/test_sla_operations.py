"""SLA operations with fakes (chalicelib.domain.service.sla_settings, sla_ops): the default
settings, versioned writes, a ticket's SLA computed on read, the report by creation period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.service.model import EventKind
from chalicelib.domain.service.sla import SlaFilter, SlaTargets
from chalicelib.domain.timemath import iso
from tests.unit.sla_world import WS, World, paris, settings_fixture


def test_a_workspace_without_settings_gets_the_documented_default():
    # Given a workspace (zone Europe/Paris) that never wrote SLA settings
    world = World()
    # When its settings are read
    shown = world.settings.current(WS)
    # Then Monday to Friday 09:00-17:00 in its zone, one policy: 8 h first and next reply, 5 days resolution
    assert (shown.version, shown.default, shown.calendar.zone) == (0, True, "Europe/Paris")
    assert sorted(shown.calendar.week) == ["fri", "mon", "thu", "tue", "wed"]
    assert [(i.start, i.end) for i in shown.calendar.week["mon"]] == [("09:00", "17:00")]
    (policy,) = shown.policies
    assert (policy.id, policy.targets.first_reply, policy.targets.next_reply, policy.targets.resolution) == (
        "default",
        480,
        480,
        2400,
    )


def test_an_unknown_workspace_is_not_found():
    with pytest.raises(NotFound):
        World().settings.current("nope")


def test_settings_are_written_at_their_version_and_a_stale_one_is_refused():
    # Given the default (version 0)
    world = World()
    # When the fixture is written at version 0, then again at 0
    written = world.settings.replace(WS, settings_fixture(), 0, "key:abc")
    with pytest.raises(Conflict) as refused:
        world.settings.replace(WS, settings_fixture(), 0, "key:abc")
    # Then version 1 holds the three policies, and the stale write is 409 stale_version
    assert (written.version, written.default, [p.id for p in written.policies]) == (
        1,
        False,
        ["urgent", "high", "standard"],
    )
    assert refused.value.details == {"reason": "stale_version"}
    # And the CLI (no version) writes over the current one
    assert world.settings.replace(WS, settings_fixture(), None, "cli").version == 2


def test_a_policy_without_a_calendar_uses_the_workspace_calendar():
    world = World(settings_fixture())
    policies, calendar = world.settings.policies(WS)
    assert [p.calendar for p in policies.policies] == [calendar] * 3
    assert calendar.zone == "Europe/Paris"


def test_a_ticket_shows_its_sla_as_of_the_read():
    # Given a standard ticket opened Monday 11:00 in Paris, answered at 15:30
    world = World(settings_fixture())
    tid = world.open_ticket(paris("2026-12-07 11:00"))
    world.change(tid, EventKind.PUBLIC_REPLY, paris("2026-12-07 15:30"), body="Sent today", delivery="queued")
    # When it is read at 16:00
    shown = world.ops.show(WS, tid, paris("2026-12-07 16:00"))
    assert shown.sla is not None
    targets = {t.target: t for t in shown.sla.targets}
    # Then the first reply is met (90 min before lunch + 90 after: 3 of 4 hours), the
    # resolution runs: 3.5 hours used of 40
    assert (shown.sla.policy_id, targets["first_reply"].status) == ("standard", "met")
    assert targets["first_reply"].used_seconds == 3 * 3600
    resolution = targets["resolution"]
    assert (resolution.status, resolution.used_seconds, resolution.remaining_seconds) == (
        "running",
        int(3.5 * 3600),
        int(36.5 * 3600),
    )
    # due after 36.5 more: Monday 2 h, Tuesday to Friday 7.5 h a day, Monday 14th 3.5 + 1 h
    assert resolution.due_at == iso(paris("2026-12-14 15:00"))
    # And read an hour later, it has moved on (computed on each read)
    later = world.ops.show(WS, tid, paris("2026-12-07 17:00")).sla
    assert later is not None
    assert {t.target: t.used_seconds for t in later.targets}["resolution"] == int(4.5 * 3600)


def test_the_report_counts_tickets_created_in_the_period_by_policy_and_target():
    # Given three tickets on Monday 7 December: two answered in time, one urgent answered late
    world = World(settings_fixture())
    met = world.open_ticket(paris("2026-12-07 09:00"))
    world.change(met, EventKind.PUBLIC_REPLY, paris("2026-12-07 10:00"), body="Done", delivery="queued")
    late = world.open_ticket(paris("2026-12-07 09:00"), priority="urgent")
    world.change(late, EventKind.PUBLIC_REPLY, paris("2026-12-07 11:00"), body="Sorry", delivery="queued")
    # one created at 23:30 on the last day (22:30 UTC: still the 7th in Paris), answered the next day
    night = world.open_ticket(paris("2026-12-07 23:30"))
    world.change(night, EventKind.PUBLIC_REPLY, paris("2026-12-08 09:30"), body="Hello", delivery="queued")
    # and one created the day after, outside the period
    world.open_ticket(paris("2026-12-08 09:00"))
    # When the report covers Monday 7 December, as of Tuesday noon
    report = world.ops.report(WS, date(2026, 12, 7), date(2026, 12, 7), paris("2026-12-08 12:00"))
    # Then three tickets counted: standard first reply met twice; the urgent one's first reply
    # breached, and its resolution (8 business hours) breached by Tuesday 10:30
    rows = {(r.policy_id, r.target): (r.met, r.breached, str(r.share_met)) for r in report.rows}
    assert (report.tickets, report.truncated, report.zone) == (3, False, "Europe/Paris")
    assert rows == {
        ("standard", "first_reply"): (2, 0, "1.0000"),
        ("urgent", "first_reply"): (0, 1, "0.0000"),
        ("urgent", "resolution"): (0, 1, "0.0000"),
    }


def test_a_report_period_is_checked():
    world = World(settings_fixture())
    now = paris("2026-12-08 12:00")
    with pytest.raises(BadRequest):
        world.ops.report(WS, date(2026, 12, 8), date(2026, 12, 7), now)
    with pytest.raises(BadRequest):
        world.ops.report(WS, date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=92), now)
    with pytest.raises(BadRequest):
        world.ops.report(WS, date(9999, 12, 31), date(9999, 12, 31), now)


class GoldCustomers:
    """A TierReader: c_1 is gold; it counts its reads."""

    def __init__(self) -> None:
        self.reads = 0

    def tier_of(self, workspace_id: str, customer_id: str) -> str | None:
        self.reads += 1
        return "gold" if customer_id == "c_1" else None


def test_a_tier_policy_applies_to_the_customers_tier_read_only_when_a_policy_needs_it():
    # Given the Paris settings with a first policy for gold members (first reply in 30 minutes)
    settings = settings_fixture()
    gold = settings.policies[2].model_copy(update={"id": "gold", "filter": SlaFilter(tiers=["gold"])})
    gold = gold.model_copy(update={"targets": SlaTargets(first_reply=30)})
    tiers = GoldCustomers()
    world = World(settings.model_copy(update={"policies": [gold, *settings.policies]}))
    world.ops.tiers = tiers
    tid = world.open_ticket(paris("2026-12-07 09:00"))
    # When the ticket of c_1 (gold) is read at 09:20
    shown = world.ops.show(WS, tid, paris("2026-12-07 09:20")).sla
    # Then the gold policy applies, due at 09:30 (20 of 30 minutes used: not near breach yet)
    assert shown is not None and shown.policy_id == "gold"
    assert (shown.targets[0].due_at, shown.targets[0].near_breach) == (iso(paris("2026-12-07 09:30")), False)
    assert tiers.reads == 1
    # And with no tier filter among the policies, the tier is never read
    plain = World(settings_fixture())
    plain.ops.tiers = tiers
    other = plain.open_ticket(paris("2026-12-07 09:00"))
    assert plain.ops.show(WS, other, paris("2026-12-07 09:20")).sla.policy_id == "standard"  # type: ignore[union-attr]
    assert tiers.reads == 1
