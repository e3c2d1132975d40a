"""TicketStore contract (service.ports.TicketStore): DynamoTicketStore on moto and the fake
(tests/fakes_tickets.py) keep tickets, their logs, the queue and the customer's tickets alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.adapters.ticket_store import (
    DynamoTicketStore,
    event_item,
    event_of,
    head_item,
    ticket_of,
)
from chalicelib.domain.service.model import (
    EventKind,
    Priority,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
    apply,
    reduce,
)
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_tickets import FakeTicketStore

__all__ = ["moto_stage"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoTicketStore:
    return DynamoTicketStore(stage.crm)


store = port_fixture(FakeTicketStore, _dynamo)


def created(
    ticket_id: str, customer: str = "c_1", at: datetime = T0, **data: object
) -> tuple[Ticket, TicketEvent]:
    values = {"subject": "Where is my parcel?", "kind": "order_issue", "customer_id": customer, "body": "Hi"}
    event = TicketEvent(EventKind.CREATED, at, "key:abc", values | data)
    return reduce("ws_a", ticket_id, [event]), event


def page_all(read, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    ids, cursor = [], None
    while True:
        tickets, cursor = read(limit=2, cursor=cursor, **kwargs)
        ids.extend(t.id for t in tickets)
        if cursor is None:
            return ids


def test_a_created_ticket_loads_with_its_created_event(store):
    # Given a ticket created with tags and an order's lines
    ticket, event = created("tk_1", tags=["late", "dhl"], order_id="o_9", line_ids=["l_1"], assignee="ana")
    # When it is created and loaded
    store.create(ticket, event)
    found = store.load("ws_a", "tk_1")
    # Then the head and the one event come back as written
    assert found == (ticket, [event])
    assert found[0].tags == ("dhl", "late") and found[0].seq == 1
    assert store.load("ws_a", "tk_other") is None


def test_an_append_moves_the_head_and_logs_the_event_only_from_the_seq_it_read(store):
    # Given an open ticket
    ticket, first = created("tk_1")
    store.create(ticket, first)
    # When one agent sets it pending and a second, still holding the old head, replies
    pending = TicketEvent(
        EventKind.STATUS_CHANGED, T0 + timedelta(minutes=5), "key:a", {"from": "open", "to": "pending"}
    )
    after = apply(ticket, pending)
    reply = TicketEvent(EventKind.PUBLIC_REPLY, T0 + timedelta(minutes=6), "key:b", {"body": "Hello"})
    moved = store.append(ticket, pending, after)
    lost = store.append(ticket, reply, apply(ticket, reply))
    # Then the first is in, the second wrote nothing
    assert (moved, lost) == (True, False)
    assert store.load("ws_a", "tk_1") == (after, [first, pending])


def test_the_queue_is_per_status_oldest_first_filtered_and_paged(store):
    # Given five tickets: three open (one assigned to ana, one a complaint), two then solved
    for n in range(5):
        kind = "complaint" if n == 2 else "order_issue"
        ticket, event = created(
            f"tk_{n}", at=T0 + timedelta(minutes=n), kind=kind, assignee="ana" if n == 1 else None
        )
        store.create(ticket, event)
        if n >= 3:
            solved = TicketEvent(
                EventKind.STATUS_CHANGED, T0 + timedelta(hours=1), "cli", {"from": "open", "to": "solved"}
            )
            assert store.append(ticket, solved, apply(ticket, solved))
    # When the queues are read page by page
    read = lambda **kw: store.queue("ws_a", **kw)  # noqa: E731
    # Then each status lists its tickets oldest first, and the filters narrow it
    assert page_all(read, status=TicketStatus.OPEN) == ["tk_0", "tk_1", "tk_2"]
    assert page_all(read, status=TicketStatus.SOLVED) == ["tk_3", "tk_4"]
    assert page_all(read, status=TicketStatus.OPEN, assignee="ana") == ["tk_1"]
    assert page_all(read, status=TicketStatus.OPEN, kind=TicketKind.COMPLAINT) == ["tk_2"]
    assert page_all(read, status=TicketStatus.PENDING) == []
    assert store.queue("ws_b", TicketStatus.OPEN, 10, None) == ([], None)
    solved_heads, _ = store.queue("ws_a", TicketStatus.SOLVED, 10, None)
    assert {t.status for t in solved_heads} == {TicketStatus.SOLVED}


def test_an_assignment_moves_the_queue_entry_with_it(store):
    # Given an open ticket assigned to nobody
    ticket, event = created("tk_1")
    store.create(ticket, event)
    # When it is assigned to ben
    assigned = TicketEvent(EventKind.ASSIGNED, T0 + timedelta(minutes=1), "cli", {"from": None, "to": "ben"})
    assert store.append(ticket, assigned, apply(ticket, assigned))
    # Then ben's queue holds it
    tickets, _ = store.queue("ws_a", TicketStatus.OPEN, 10, None, assignee="ben")
    assert [(t.id, t.assignee) for t in tickets] == [("tk_1", "ben")]


def test_a_customers_tickets_newest_first_with_their_current_status(store):
    # Given three tickets of c_1 (the last one closed) and one of c_2
    for n in range(3):
        ticket, event = created(f"tk_{n}", at=T0 + timedelta(days=n))
        store.create(ticket, event)
    ticket, event = created("tk_x", customer="c_2")
    store.create(ticket, event)
    last = store.load("ws_a", "tk_2")[0]
    solved = TicketEvent(
        EventKind.STATUS_CHANGED, T0 + timedelta(days=3), "cli", {"from": "open", "to": "solved"}
    )
    assert store.append(last, solved, apply(last, solved))
    # When c_1's tickets are read page by page
    read = lambda **kw: store.of_customer("ws_a", "c_1", **kw)  # noqa: E731
    # Then they come newest first, each as it is now
    assert page_all(read) == ["tk_2", "tk_1", "tk_0"]
    newest, _ = store.of_customer("ws_a", "c_1", 1, None)
    assert newest[0].status == TicketStatus.SOLVED


def test_the_tickets_of_a_customer_and_their_merged_ids_page_as_one_list(store):
    # Given five tickets, interleaved in time, of c_1 and of c_old (merged into c_1), and c_2's
    for n, customer in enumerate(["c_1", "c_old", "c_old", "c_1", "c_old"]):
        ticket, event = created(f"tk_{n}", customer=customer, at=T0 + timedelta(hours=n))
        store.create(ticket, event)
    ticket, event = created("tk_x", customer="c_2", at=T0 + timedelta(hours=9))
    store.create(ticket, event)
    # When c_1's and c_old's tickets are read two at a time
    read = lambda **kw: store.of_customers("ws_a", ["c_1", "c_old"], **kw)  # noqa: E731
    # Then all five come, newest first, once each, and not c_2's
    assert page_all(read) == ["tk_4", "tk_3", "tk_2", "tk_1", "tk_0"]
    assert [t.id for t in store.of_customers("ws_a", ["c_1"], 10, None)[0]] == ["tk_3", "tk_0"]


def test_the_mapping_round_trips():
    # Given a ticket with every field set and an event with data
    ticket = Ticket(
        "ws_a", "tk_1", "c_1", "Refund?", TicketKind.RETURN_REQUEST, TicketStatus.ON_HOLD, Priority.URGENT,
        reduce("ws_a", "tk_1", [created("tk_1")[1]]).channel, T0, T0 + timedelta(hours=2), "ana",
        ("a", "b"), "o_1", ("l_1", "l_2"), 7,
    )  # fmt: skip
    event = TicketEvent(EventKind.TAGGED, T0, "key:abc", {"added": ["a"], "removed": []})
    # When each is mapped to an item and back
    # Then nothing is lost, and an unset assignee stays unset
    assert ticket_of(head_item(ticket)) == ticket
    assert ticket_of(head_item(replace(ticket, assignee=None, order_id=None))).assignee is None
    assert event_of(event_item("ws_a", "tk_1", 3, event)) == event


def test_a_queued_reply_is_listed_until_its_delivery_is_appended(store):
    # Given an open ticket
    ticket, first = created("tk_q")
    store.create(ticket, first)
    # When a reply is appended `queued`, and a note after it
    reply = TicketEvent(
        EventKind.PUBLIC_REPLY, T0 + timedelta(minutes=1), "key:a", {"body": "Hi", "delivery": "queued"}
    )
    replied = apply(ticket, reply)
    assert store.append(ticket, reply, replied)
    note = TicketEvent(EventKind.INTERNAL_NOTE, T0 + timedelta(minutes=2), "key:a", {"body": "fyi"})
    noted = apply(replied, note)
    assert store.append(replied, note, noted)
    # Then the reply (and only it) is listed as queued, with its seq and time
    (queued,) = store.queued_replies("ws_a")
    assert (queued.ticket_id, queued.reply_seq, queued.at) == ("tk_q", 2, T0 + timedelta(minutes=1))
    assert store.queued_replies("ws_other") == []
    # When its outcome is appended
    outcome = TicketEvent(
        EventKind.REPLY_DELIVERY, T0 + timedelta(minutes=3), "patron", {"reply_seq": 2, "delivery": "sent"}
    )
    assert store.append(noted, outcome, apply(noted, outcome))
    # Then nothing is queued any more
    assert store.queued_replies("ws_a") == []


def test_a_queued_entry_dropped_is_gone_and_dropping_again_is_harmless(store):
    # Given a ticket with a queued reply
    ticket, first = created("tk_d")
    store.create(ticket, first)
    reply = TicketEvent(EventKind.PUBLIC_REPLY, T0, "key:a", {"body": "Hi", "delivery": "queued"})
    assert store.append(ticket, reply, apply(ticket, reply))
    # When its entry is dropped twice
    store.drop_queued("ws_a", "tk_d", 2)
    store.drop_queued("ws_a", "tk_d", 2)
    # Then it is no longer listed, and the log still holds the reply
    assert store.queued_replies("ws_a") == []
    assert [e.kind for e in store.load("ws_a", "tk_d")[1]] == [EventKind.CREATED, EventKind.PUBLIC_REPLY]
