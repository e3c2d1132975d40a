"""ReturnStore contract (service.return_ports.ReturnStore): DynamoReturnStore on moto and the
fake (tests/fakes_returns.py) create a return with its ticket once, and move it with its
ticket's event only from the status and the ticket's head they read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.adapters.return_store import DynamoReturnStore
from chalicelib.adapters.ticket_store import DynamoTicketStore
from chalicelib.domain.service.model import EventKind, TicketEvent, apply, reduce
from chalicelib.domain.service.return_model import ReturnLine, ReturnStatus, StoredReturn
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_returns import FakeReturnStore
from tests.fakes_tickets import FakeTicketStore

__all__ = ["moto_stage"]
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _fake() -> tuple[FakeReturnStore, FakeTicketStore]:
    tickets = FakeTicketStore()
    return FakeReturnStore(tickets), tickets


def _dynamo(stage: MotoStage) -> tuple[DynamoReturnStore, DynamoTicketStore]:
    return DynamoReturnStore(stage.crm), DynamoTicketStore(stage.crm)


stores = port_fixture(_fake, _dynamo)

RET = StoredReturn(
    workspace_id="ws_a",
    key="s1.7001",
    order_id="s1.1001",
    customer_id="c_1",
    ticket_id="tk_1",
    status=ReturnStatus.REQUESTED,
    updated_at=T0,
    lines=(ReturnLine("9002", 1),),
    amount=Decimal("22.00"),
    currency="EUR",
    name="#1001-R1",
)


def _events() -> list[TicketEvent]:
    data = {
        "subject": "Return #1001-R1",
        "kind": "return_request",
        "customer_id": "c_1",
        "order_id": "s1.1001",
    }
    return [
        TicketEvent(EventKind.CREATED, T0, "storefront", data),
        TicketEvent(
            EventKind.RETURN_STATUS, T0, "storefront", {"from": None, "to": "requested", "return_id": RET.key}
        ),
    ]


def test_a_return_is_created_once_with_its_ticket(stores):
    returns, tickets = stores
    # Given a new return and its ticket's two events
    events = _events()
    ticket = reduce("ws_a", "tk_1", events)
    # When it is created twice (a second delivery, another ticket id)
    first = returns.create(RET, ticket, events)
    second = returns.create(replace(RET, ticket_id="tk_2"), reduce("ws_a", "tk_2", events), events)
    # Then the first is kept with its ticket, the second wrote nothing
    assert (first, second) == (True, False)
    assert returns.get("ws_a", RET.key) == RET
    assert tickets.load("ws_a", "tk_1") == (ticket, events)
    assert tickets.load("ws_a", "tk_2") is None
    assert returns.get("ws_a", "s1.other") is None


def test_a_move_writes_the_return_and_the_event_only_from_what_it_read(stores):
    returns, tickets = stores
    # Given the requested return and its ticket
    events = _events()
    ticket = reduce("ws_a", "tk_1", events)
    returns.create(RET, ticket, events)
    # When it is approved, then a stale delivery still holding `requested` moves it again
    opened = replace(RET, status=ReturnStatus.OPEN, updated_at=T0 + timedelta(hours=1))
    event = TicketEvent(
        EventKind.RETURN_STATUS, T0 + timedelta(hours=1), "storefront", {"from": "requested", "to": "open"}
    )
    moved = returns.move(RET, opened, ticket, event, apply(ticket, event))
    stale = returns.move(RET, replace(RET, status=ReturnStatus.DECLINED), ticket, event, apply(ticket, event))
    # Then the first move is written with its event, the stale one nothing
    assert (moved, stale) == (True, False)
    assert returns.get("ws_a", RET.key) == opened
    found = tickets.load("ws_a", "tk_1")
    assert found is not None and [e.kind for e in found[1]] == [
        EventKind.CREATED,
        EventKind.RETURN_STATUS,
        EventKind.RETURN_STATUS,
    ]
    assert found[0].seq == 3


def test_a_move_loses_to_an_agents_change_of_the_ticket(stores):
    returns, tickets = stores
    # Given the return, and an agent's note appended to its ticket after the move read the head
    events = _events()
    ticket = reduce("ws_a", "tk_1", events)
    returns.create(RET, ticket, events)
    note = TicketEvent(EventKind.INTERNAL_NOTE, T0 + timedelta(minutes=1), "cli", {"body": "Call her"})
    assert tickets.append(ticket, note, apply(ticket, note))
    # When the move holding the old head is written
    event = TicketEvent(EventKind.RETURN_STATUS, T0 + timedelta(hours=1), "storefront", {"to": "open"})
    opened = replace(RET, status=ReturnStatus.OPEN)
    lost = returns.move(RET, opened, ticket, event, apply(ticket, event))
    # Then nothing is written (the service reads again); without a ticket the return alone moves
    assert lost is False
    assert returns.get("ws_a", RET.key) == RET
    assert returns.move(RET, opened, None, None, None) is True
    assert returns.get("ws_a", RET.key) == opened
