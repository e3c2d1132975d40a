"""An in-memory ReturnStore (chalicelib.domain.service.return_ports) sharing a FakeTicketStore's
items, so a return and its ticket's change are one check-and-write, like the adapter's
transaction (adapters/return_store.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.adapters.return_store import RETURN_SK, return_item, return_of, return_pk
from chalicelib.adapters.ticket_store import (
    HEAD,
    customer_item,
    event_item,
    head_item,
    queue_item,
    ticket_pk,
)
from chalicelib.domain.service.model import Ticket, TicketEvent
from chalicelib.domain.service.return_model import StoredReturn
from tests.fakes_tickets import FakeTicketStore


class FakeReturnStore:
    def __init__(self, tickets: FakeTicketStore) -> None:
        self.tickets = tickets
        self.writes = 0

    @property
    def items(self) -> Any:
        return self.tickets.items

    def get(self, workspace_id: str, key: str) -> StoredReturn | None:
        item = self.items.get(return_pk(workspace_id, key), {}).get(RETURN_SK)
        return None if item is None else return_of(item)

    def create(self, ret: StoredReturn, ticket: Ticket | None, events: list[TicketEvent]) -> bool:
        item = return_item(ret)
        if RETURN_SK in self.items[item["pk"]]:
            return False
        if ticket is not None and HEAD in self.items[ticket_pk(ticket.workspace_id, ticket.id)]:
            return False
        self.items[item["pk"]][RETURN_SK] = item
        if ticket is not None:
            for it in (head_item(ticket), queue_item(ticket), customer_item(ticket)):
                self.items[it["pk"]][it["sk"]] = it
            for n, event in enumerate(events, 1):
                it = event_item(ticket.workspace_id, ticket.id, n, event)
                self.items[it["pk"]][it["sk"]] = it
        self.writes += 1
        return True

    def move(
        self,
        before: StoredReturn,
        after: StoredReturn,
        ticket: Ticket | None,
        event: TicketEvent | None,
        ticket_after: Ticket | None,
    ) -> bool:
        stored = self.get(before.workspace_id, before.key)
        if stored is None or stored.status != before.status:
            return False
        if ticket is not None and event is not None and ticket_after is not None:
            head = self.items[ticket_pk(ticket.workspace_id, ticket.id)].get(HEAD)
            if head is None or int(head["seq"]) != ticket.seq:
                return False
            it = event_item(ticket_after.workspace_id, ticket_after.id, ticket_after.seq, event)
            self.items[it["pk"]][it["sk"]] = it
            for it in (head_item(ticket_after), queue_item(ticket_after)):
                self.items[it["pk"]][it["sk"]] = it
        item = return_item(replace(after))
        self.items[item["pk"]][RETURN_SK] = item
        self.writes += 1
        return True


class FakeReturnOutbox:
    """The messages due, by (workspace, key, kind), in key order like the `RETMSG` partition."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str, str], datetime] = {}

    def put(self, workspace_id: str, key: str, kind: str, at: datetime) -> None:
        self.waiting[(workspace_id, key, kind)] = at

    def due(self, limit: int) -> list[tuple[str, str, str, datetime]]:
        return [(*k, at) for k, at in sorted(self.waiting.items())][:limit]

    def done(self, workspace_id: str, key: str, kind: str) -> None:
        self.waiting.pop((workspace_id, key, kind), None)
