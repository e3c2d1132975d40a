"""Tickets (domain/service): the log reduces to the ticket, transitions are checked, and the
service creates and changes tickets only through events (docs/service.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.service.model import (
    EventKind,
    TicketEvent,
    TicketRefused,
    TicketStatus,
    apply,
    check,
    reduce,
)
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn, TicketIn
from tests.fakes_customer_edits import FakeCustomerEdits
from tests.fakes_tickets import FakeTicketStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CREATED = TicketEvent(
    EventKind.CREATED, T0, "cli", {"subject": "Hi", "kind": "pre_sale", "customer_id": "c_1"}
)


def service() -> TicketService:
    profiles = FakeCustomerEdits()
    profiles.put(CustomerProfile("ws_a", "c_1", rev=1))
    profiles.put(CustomerProfile("ws_a", "c_2", rev=1))
    profiles.merge("ws_a", "c_old", "c_2")
    return TicketService(store=FakeTicketStore(), profiles=profiles)


def change(type_: str, **kw: object) -> TicketEventIn:
    return TicketEventIn.model_validate({"type": type_} | kw)


def test_a_ticket_created_is_open_for_the_surviving_customer_with_one_event():
    # Given a customer merged into c_2
    desk = service()
    # When a ticket is created for the merged-away id
    body = TicketIn(
        customer_id="c_old", subject="Size?", kind="pre_sale", body="Does it run small?", tags=["Fit "]
    )
    made = desk.create("ws_a", body, "key:abc", T0)
    # Then it is open, for c_2, with its `created` event and normalised tags
    assert (made.status, made.customer_id, made.tags) == ("open", "c_2", ["fit"])
    assert [(e.kind, e.by, e.data["body"]) for e in made.events] == [
        ("created", "key:abc", "Does it run small?")
    ]
    assert made.id.startswith("tk_20260302090000")
    assert desk.show("ws_a", made.id) == made


def test_an_unknown_customer_or_lines_without_an_order_are_refused():
    # Given the desk
    desk = service()
    # When a ticket names no known customer, or lines without their order
    # Then 404, then 400, and nothing is created
    with pytest.raises(NotFound):
        desk.create("ws_a", TicketIn(customer_id="c_none", subject="x", kind="complaint"), "cli", T0)
    with pytest.raises(BadRequest):
        desk.create(
            "ws_a", TicketIn(customer_id="c_1", subject="x", kind="complaint", line_ids=["l_1"]), "cli", T0
        )
    assert desk.queue("ws_a", TicketStatus.OPEN, 10, None).tickets == []


def test_each_change_is_an_event_and_the_ticket_follows_them():
    # Given an open ticket
    desk = service()
    made = desk.create("ws_a", TicketIn(customer_id="c_1", subject="Late", kind="order_issue"), "cli", T0)
    # When an agent assigns, tags, notes, replies, sets it pending and raises the priority
    steps = [
        change("assign", to="ana"),
        change("tag", add=["DHL"]),
        change("note", body="called the carrier"),
        change("reply", body="It is on its way"),
        change("status", to="pending"),
        change("priority", to="high"),
        change("kind", to="complaint"),
    ]
    for n, step in enumerate(steps, start=1):
        after = desk.record("ws_a", made.id, step, "key:abc", T0 + timedelta(minutes=n))
    # Then the log holds every change, who and when, and the ticket is what they make it
    assert [e.kind for e in after.events] == [
        "created", "assigned", "tagged", "internal_note", "public_reply", "status_changed",
        "priority_changed", "kind_changed",
    ]  # fmt: skip
    assert after.events[4].data == {"body": "It is on its way", "delivery": "queued"}
    assert (after.assignee, after.tags, after.status, after.priority, after.kind) == (
        "ana", ["dhl"], "pending", "high", "complaint",
    )  # fmt: skip
    assert after.updated_at == "2026-03-02T09:07:00.000000Z"
    assert desk.queue("ws_a", TicketStatus.PENDING, 10, None, assignee="ana").tickets[0].id == made.id
    assert desk.of_customer("ws_a", "c_1", 10, None).tickets[0].status == "pending"


def test_a_reply_on_a_closed_ticket_is_refused_with_its_reason_and_writes_nothing():
    # Given a ticket solved then closed
    desk = service()
    made = desk.create("ws_a", TicketIn(customer_id="c_1", subject="x", kind="suggestion"), "cli", T0)
    desk.record("ws_a", made.id, change("status", to="solved"), "cli", T0 + timedelta(minutes=1))
    desk.record("ws_a", made.id, change("status", to="closed"), "cli", T0 + timedelta(minutes=2))
    # When an agent replies
    with pytest.raises(TicketRefused) as refused:
        desk.record("ws_a", made.id, change("reply", body="anything else?"), "cli", T0 + timedelta(minutes=3))
    # Then 409 ticket_closed, and the log is as it was
    assert refused.value.details == {"reason": "ticket_closed"}
    assert len(desk.show("ws_a", made.id).events) == 3


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (["pending", "pending"], "no_change"),
        (["closed"], "invalid_transition"),
        (["solved", "pending"], "invalid_transition"),
    ],
)
def test_invalid_status_transitions_are_refused(path, reason):
    # Given an open ticket moved along the path but its last step
    ticket = reduce("ws_a", "tk_1", [CREATED])
    for n, to in enumerate(path[:-1], start=1):
        ticket = apply(
            ticket, TicketEvent(EventKind.STATUS_CHANGED, T0 + timedelta(minutes=n), "cli", {"to": to})
        )
    # When the last step is checked
    # Then it is refused with its reason
    with pytest.raises(TicketRefused) as refused:
        check(ticket, TicketEvent(EventKind.STATUS_CHANGED, T0 + timedelta(hours=1), "cli", {"to": path[-1]}))
    assert refused.value.reason == reason


def test_an_unknown_value_or_a_missing_body_is_a_bad_request():
    # Given an open ticket
    desk = service()
    made = desk.create("ws_a", TicketIn(customer_id="c_1", subject="x", kind="complaint"), "cli", T0)
    # When a status is unknown, or a reply has no body
    # Then 400 each time
    for bad in (change("status", to="done"), change("reply"), change("tag")):
        with pytest.raises(BadRequest):
            desk.record("ws_a", made.id, bad, "cli", T0 + timedelta(minutes=1))


def test_a_naive_time_is_refused():
    # Given a time without a zone
    # When an event is made with it
    # Then it is refused
    with pytest.raises(ValueError):
        TicketEvent(EventKind.CREATED, datetime(2026, 3, 2, 9, 0), "cli", {})


STATUS = st.sampled_from([s.value for s in TicketStatus])
TAGS = st.lists(st.sampled_from(["a", "b", "c"]), max_size=2)


@given(
    st.lists(st.one_of(st.tuples(st.just("status"), STATUS), st.tuples(st.just("tag"), TAGS)), max_size=12)
)
def test_the_ticket_is_its_log_replayed_whatever_the_steps(steps):
    # Given any sequence of status changes and tag edits, the refused ones dropped
    ticket, log = reduce("ws_a", "tk_1", [CREATED]), [CREATED]
    for n, (what, value) in enumerate(steps, start=1):
        at = T0 + timedelta(minutes=n)
        if what == "status":
            event = TicketEvent(
                EventKind.STATUS_CHANGED, at, "cli", {"from": ticket.status.value, "to": value}
            )
        else:
            event = TicketEvent(EventKind.TAGGED, at, "cli", {"added": value, "removed": value[:1]})
        try:
            check(ticket, event)
        except TicketRefused:
            continue
        ticket, log = apply(ticket, event), [*log, event]
    # When the log is reduced from the start
    replayed = reduce("ws_a", "tk_1", log)
    # Then it is the ticket built step by step, its seq the log's length, and a closed one stays closed
    assert replayed == ticket and replayed.seq == len(log)
    if TicketStatus.CLOSED in [TicketStatus(e.data["to"]) for e in log if e.kind == EventKind.STATUS_CHANGED]:
        assert replayed.status == TicketStatus.CLOSED


def test_a_customers_tickets_list_those_opened_under_an_id_since_merged_into_them():
    # Given c_3, into which c_old3 was merged after a ticket was opened under c_old3
    profiles = FakeCustomerEdits()
    profiles.put(CustomerProfile("ws_a", "c_3", rev=2, merged_ids=["c_old3"]))
    profiles.merge("ws_a", "c_old3", "c_3")
    store = FakeTicketStore()
    desk = TicketService(store=store, profiles=profiles)
    before = {"subject": "Size?", "kind": "pre_sale", "customer_id": "c_old3"}
    opened = TicketEvent(EventKind.CREATED, T0 - timedelta(days=1), "cli", before)
    store.create(reduce("ws_a", "tk_old", [opened]), opened)
    later = desk.create("ws_a", TicketIn(customer_id="c_3", subject="Late", kind="order_issue"), "cli", T0)
    # When c_3's tickets are listed (and through the merged-away id)
    listed = desk.of_customer("ws_a", "c_3", 10, None)
    through = desk.of_customer("ws_a", "c_old3", 10, None)
    # Then both tickets are there, newest first, either way
    assert [t.id for t in listed.tickets] == [later.id, "tk_old"] == [t.id for t in through.tickets]
    assert listed.next_cursor is None
