"""An in-memory TicketStore (chalicelib.domain.service.ports): items kept as the adapter
maps them (adapters/ticket_store.py), partitions as sorted dicts, like the DynamoDB one;
and an in-memory TicketFactStore (domain/service/facts.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.ticket_store import (
    HEAD,
    customer_item,
    customer_pk,
    event_item,
    event_of,
    head_item,
    queue_item,
    queue_pk,
    queued_moves,
    queued_pk,
    queued_reply_of,
    ticket_of,
    ticket_pk,
)
from chalicelib.domain.service.facts import TicketFact
from chalicelib.domain.service.model import Ticket, TicketEvent, TicketKind, TicketStatus
from chalicelib.domain.service.ports import QueuedReply


class FakeTicketStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # pk -> sk -> item

    def _put(self, item: dict[str, Any]) -> None:
        self.items[item["pk"]][item["sk"]] = item

    def create(self, ticket: Ticket, event: TicketEvent) -> None:
        head = head_item(ticket)
        if HEAD in self.items[head["pk"]]:
            raise RuntimeError("a new ticket's id was taken")
        for item in (head, event_item(ticket.workspace_id, ticket.id, 1, event), queue_item(ticket)):
            self._put(item)
        self._put(customer_item(ticket))

    def append(self, before: Ticket, event: TicketEvent, after: Ticket) -> bool:
        pk = ticket_pk(after.workspace_id, after.id)
        head = self.items[pk].get(HEAD)
        if head is None or int(head["seq"]) != before.seq:
            return False
        self._put(event_item(after.workspace_id, after.id, after.seq, event))
        self._put(head_item(after))
        old = queue_item(before)
        self.items[old["pk"]].pop(old["sk"], None)
        self._put(queue_item(after))
        self._put(customer_item(after))
        move, queued = queued_moves(after.workspace_id, after.id, after.seq, event)
        if move == "put":
            self._put(queued)
        elif move == "delete":
            self.items[queued["pk"]].pop(queued["sk"], None)
        return True

    def queued_replies(self, workspace_id: str) -> list[QueuedReply]:
        partition = self.items.get(queued_pk(workspace_id)) or {}
        return [queued_reply_of(workspace_id, partition[sk]) for sk in sorted(partition)]

    def drop_queued(self, workspace_id: str, ticket_id: str, reply_seq: int) -> None:
        (self.items.get(queued_pk(workspace_id)) or {}).pop(f"{ticket_id}#{reply_seq:06d}", None)

    def load(self, workspace_id: str, ticket_id: str) -> tuple[Ticket, list[TicketEvent]] | None:
        partition = self.items.get(ticket_pk(workspace_id, ticket_id)) or {}
        if HEAD not in partition:
            return None
        events = [event_of(partition[sk]) for sk in sorted(partition) if sk.startswith("E#")]
        return ticket_of(partition[HEAD]), events

    def queue(
        self,
        workspace_id: str,
        status: TicketStatus,
        limit: int,
        cursor: str | None,
        assignee: str | None = None,
        kind: TicketKind | None = None,
    ) -> tuple[list[Ticket], str | None]:
        partition = self.items.get(queue_pk(workspace_id, status)) or {}
        keys = [sk for sk in sorted(partition) if cursor is None or sk > cursor]
        page, more = keys[:limit], len(keys) > limit
        chosen = [
            partition[sk]
            for sk in page
            if (not assignee or partition[sk].get("as") == assignee)
            and (not kind or partition[sk]["k"] == kind)
        ]
        return self._heads(workspace_id, [i["tid"] for i in chosen]), (page[-1] if more else None)

    def of_customer(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        partition = self.items.get(customer_pk(workspace_id, customer_id)) or {}
        keys = [sk for sk in sorted(partition, reverse=True) if cursor is None or sk < cursor]
        page, more = keys[:limit], len(keys) > limit
        return self._heads(workspace_id, [partition[sk]["tid"] for sk in page]), (page[-1] if more else None)

    def of_customers(
        self, workspace_id: str, customer_ids: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        links = {
            sk: link
            for cid in dict.fromkeys(customer_ids)
            for sk, link in (self.items.get(customer_pk(workspace_id, cid)) or {}).items()
        }
        keys = [sk for sk in sorted(links, reverse=True) if cursor is None or sk < cursor]
        page, more = keys[:limit], len(keys) > limit
        return self._heads(workspace_id, [links[sk]["tid"] for sk in page]), (page[-1] if more else None)

    def _heads(self, workspace_id: str, ids: list[str]) -> list[Ticket]:
        heads = [(self.items.get(ticket_pk(workspace_id, tid)) or {}).get(HEAD) for tid in ids]
        return [ticket_of(h) for h in heads if h is not None]


class FakeTicketFacts:
    """An in-memory TicketFactStore (chalicelib.domain.service.facts): one map of facts per
    customer id, each set only over an older `seq`, as adapters/ticket_facts.py does."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, TicketFact]] = defaultdict(dict)
        self.writes = 0  # successful writes (a measure of cost in tests)

    def put(self, fact: TicketFact) -> bool:
        held = self.items[(fact.workspace_id, fact.customer_id)]
        there = held.get(fact.ticket_id)
        if there is not None and there.seq >= fact.seq:
            return False
        held[fact.ticket_id] = fact
        self.writes += 1
        return True

    def of_customers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[TicketFact]:
        return [
            f
            for cid in dict.fromkeys(customer_ids)
            for _, f in sorted(self.items.get((workspace_id, cid), {}).items())
        ]
