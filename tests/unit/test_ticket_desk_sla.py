"""The desk's changes answered with the ticket's SLA (domain/service/desk.py): what
`POST /tickets` and `POST /tickets/{id}/events` answer is what `GET /tickets/{id}` computes
at the same instant, from the log just written (docs/service.md, "A ticket's SLA on read")."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.service.desk import TicketsWithSla
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn
from chalicelib.domain.timemath import iso
from tests.unit.fakes import FakeProfileStore
from tests.unit.sla_world import WS, World, paris, settings_fixture


def desk_of(world: World) -> TicketsWithSla:
    return TicketsWithSla(TicketService(store=world.tickets, profiles=FakeProfileStore()), world.ops)


def test_a_ticket_just_opened_has_its_first_reply_running_and_due():
    # Given the Paris boutique (09:00-12:30, 14:00-18:00 on weekdays) and a ticket opened Tuesday 11:30
    world = World(settings_fixture())
    at = paris("2026-12-08 11:30")
    tid = world.open_ticket(at)
    desk = desk_of(world)
    # When its detail is answered at that very instant
    answered = desk.with_sla(WS, desk.tickets.show(WS, tid), at)
    # Then the standard policy's first reply (4 business hours) runs, due at 17:00 (lunch not counted)
    assert answered.sla is not None and answered.sla.policy_id == "standard"
    first = {t.target: t for t in answered.sla.targets}["first_reply"]
    assert (first.status, first.due_at, first.used_seconds) == ("running", iso(paris("2026-12-08 17:00")), 0)
    # And it is what a read computes at the same instant
    assert answered.sla == world.ops.show(WS, tid, at).sla


def test_a_change_answers_the_sla_under_the_policy_it_moves_to():
    # Given a ticket opened Tuesday 10:00
    world = World(settings_fixture())
    tid = world.open_ticket(paris("2026-12-08 10:00"))
    desk = desk_of(world)
    # When it is raised to urgent at 10:30
    at = paris("2026-12-08 10:30")
    answered = desk.record(WS, tid, TicketEventIn(type="priority", to="urgent"), "key:abc", at)
    # Then the answer is under the urgent policy (first reply in 1 hour: due 11:00), as a read says
    assert answered.sla is not None and answered.sla.policy_id == "urgent"
    first = {t.target: t for t in answered.sla.targets}["first_reply"]
    assert (first.status, first.due_at) == ("running", iso(paris("2026-12-08 11:00")))
    assert answered.sla == world.ops.show(WS, tid, at).sla
    # And a read an hour later finds it breached at 11:00
    later = world.ops.show(WS, tid, at + timedelta(hours=1)).sla
    assert later is not None
    assert {t.target: t for t in later.targets}["first_reply"].breached_at == iso(paris("2026-12-08 11:00"))


def test_a_ticket_set_pending_is_paused_at_that_very_instant():
    # Given a ticket opened Tuesday 10:00
    world = World(settings_fixture())
    tid = world.open_ticket(paris("2026-12-08 10:00"))
    desk = desk_of(world)
    # When it is set pending at 11:00 and the answer is computed at that instant
    at = paris("2026-12-08 11:00")
    answered = desk.record(WS, tid, TicketEventIn(type="status", to="pending"), "key:abc", at)
    # Then its targets are paused (no due time), an hour used, as a read says
    assert answered.sla is not None
    first = {t.target: t for t in answered.sla.targets}["first_reply"]
    assert (first.status, first.due_at, first.used_seconds) == ("paused", None, 3600)
    assert answered.sla == world.ops.show(WS, tid, at).sla
