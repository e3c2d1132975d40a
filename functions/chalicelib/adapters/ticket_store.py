"""Tickets in the CRM table (docs/data-model.md, "Tickets"): the head (`T`) and the events
(`E#<seq>`) in the ticket's partition, a queue entry per ticket in its status's partition,
a link in the customer's tickets' partition. Every write is one transaction; an append is
conditioned on the head's `seq`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import CrmTable, put_action
from chalicelib.domain.service.model import (
    Channel,
    EventKind,
    Priority,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from chalicelib.domain.service.ports import QueuedReply
from chalicelib.domain.timemath import iso, parse_iso

HEAD, EVENTS = "T", "E#"


def ticket_pk(workspace_id: str, ticket_id: str) -> str:
    return f"W#{workspace_id}#TK#{ticket_id}"


def queue_pk(workspace_id: str, status: TicketStatus) -> str:
    return f"W#{workspace_id}#TQ#{status.value}"


def customer_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#TC#{customer_id}"


def _at(value: Any) -> Any:
    parsed = parse_iso(str(value))
    assert parsed is not None
    return parsed


def head_item(t: Ticket) -> dict[str, Any]:
    item = {
        "pk": ticket_pk(t.workspace_id, t.id),
        "sk": HEAD,
        "t": "ticket",
        "ws": t.workspace_id,
        "tid": t.id,
        "cid": t.customer_id,
        "sub": t.subject,
        "k": t.kind.value,
        "st": t.status.value,
        "pr": t.priority.value,
        "ch": t.channel.value,
        "as": t.assignee,
        "tg": list(t.tags),
        "oid": t.order_id,
        "lid": list(t.line_ids),
        "ca": iso(t.created_at),
        "ua": iso(t.updated_at),
        "seq": t.seq,
        "cs": t.csat_score,
        "csa": iso(t.csat_answered_at),
    }
    return {k: v for k, v in item.items() if v is not None}


def ticket_of(item: dict[str, Any]) -> Ticket:
    return Ticket(
        workspace_id=str(item["ws"]),
        id=str(item["tid"]),
        customer_id=str(item["cid"]),
        subject=str(item.get("sub") or ""),
        kind=TicketKind(item["k"]),
        status=TicketStatus(item["st"]),
        priority=Priority(item["pr"]),
        channel=Channel(item["ch"]),
        created_at=_at(item["ca"]),
        updated_at=_at(item["ua"]),
        assignee=None if item.get("as") is None else str(item["as"]),
        tags=tuple(str(t) for t in item.get("tg") or ()),
        order_id=None if item.get("oid") is None else str(item["oid"]),
        line_ids=tuple(str(x) for x in item.get("lid") or ()),
        seq=int(item["seq"]),
        csat_score=None if item.get("cs") is None else int(item["cs"]),
        csat_answered_at=parse_iso(str(item["csa"])) if item.get("csa") else None,
    )


def event_item(workspace_id: str, ticket_id: str, seq: int, event: TicketEvent) -> dict[str, Any]:
    """The `seq`-th event (1 is `created`)."""
    return {
        "pk": ticket_pk(workspace_id, ticket_id),
        "sk": f"{EVENTS}{seq:06d}",
        "t": "ticket_event",
        "k": event.kind.value,
        "at": iso(event.at),
        "by": event.by,
        "d": dict(event.data),
    }


def event_of(item: dict[str, Any]) -> TicketEvent:
    return TicketEvent(EventKind(item["k"]), _at(item["at"]), str(item["by"]), dict(item.get("d") or {}))


def queue_item(t: Ticket) -> dict[str, Any]:
    item = {
        "pk": queue_pk(t.workspace_id, t.status),
        "sk": f"{iso(t.created_at)}#{t.id}",
        "t": "ticket_queue",
        "tid": t.id,
        "k": t.kind.value,
        "pr": t.priority.value,
        "as": t.assignee,
    }
    return {k: v for k, v in item.items() if v is not None}


def customer_item(t: Ticket) -> dict[str, Any]:
    return {
        "pk": customer_pk(t.workspace_id, t.customer_id),
        "sk": f"{iso(t.created_at)}#{t.id}",
        "t": "customer_ticket",
        "tid": t.id,
        "st": t.status.value,
    }


def queued_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#TRQ"


def queued_item(workspace_id: str, ticket_id: str, seq: int, event: TicketEvent) -> dict[str, Any]:
    """A reply recorded `queued`, until its `reply_delivery` is appended (the sweep's list)."""
    return {
        "pk": queued_pk(workspace_id),
        "sk": f"{ticket_id}#{seq:06d}",
        "t": "ticket_reply_queued",
        "tid": ticket_id,
        "n": seq,
        "at": iso(event.at),
    }


def queued_key(workspace_id: str, ticket_id: str, seq: int) -> dict[str, str]:
    return {"pk": queued_pk(workspace_id), "sk": f"{ticket_id}#{seq:06d}"}


def queued_moves(workspace_id: str, ticket_id: str, seq: int, event: TicketEvent) -> tuple[str, Any]:
    """What an append does to the queued replies: `put` the entry of a reply recorded
    `queued`, `delete` the entry its `reply_delivery` names, or nothing."""
    if event.kind == EventKind.PUBLIC_REPLY and event.data.get("delivery") == "queued":
        return "put", queued_item(workspace_id, ticket_id, seq, event)
    if event.kind == EventKind.REPLY_DELIVERY and isinstance(event.data.get("reply_seq"), int):
        return "delete", queued_key(workspace_id, ticket_id, int(event.data["reply_seq"]))
    return "", None


def queued_reply_of(workspace_id: str, item: dict[str, Any]) -> QueuedReply:
    return QueuedReply(workspace_id, str(item["tid"]), int(item["n"]), _at(item["at"]))


class DynamoTicketStore:
    """service.ports.TicketStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def create(self, ticket: Ticket, event: TicketEvent) -> None:
        name, new = self.t.table, "attribute_not_exists(pk)"
        actions = [
            put_action(name, head_item(ticket), new),
            put_action(name, event_item(ticket.workspace_id, ticket.id, 1, event), new),
            put_action(name, queue_item(ticket)),
            put_action(name, customer_item(ticket)),
        ]
        if not self.t.transact(actions):
            raise RuntimeError("a new ticket's id was taken")  # 6 random hex digits at the same microsecond

    def append(self, before: Ticket, event: TicketEvent, after: Ticket) -> bool:
        name = self.t.table
        head = put_action(name, head_item(after), "seq = :seq")
        head["Put"]["ExpressionAttributeValues"] = {":seq": to_av(before.seq)}
        actions = [
            put_action(
                name, event_item(after.workspace_id, after.id, after.seq, event), "attribute_not_exists(pk)"
            ),
            head,
        ]
        if before.status != after.status:
            old = queue_item(before)
            actions.append(
                {"Delete": {"TableName": name, "Key": to_item({"pk": old["pk"], "sk": old["sk"]})}}
            )
        if before.status != after.status or queue_item(before) != queue_item(after):
            actions.append(put_action(name, queue_item(after)))
        if before.status != after.status:
            actions.append(put_action(name, customer_item(after)))
        move, queued = queued_moves(after.workspace_id, after.id, after.seq, event)
        if move == "put":
            actions.append(put_action(name, queued))
        elif move == "delete":
            actions.append({"Delete": {"TableName": name, "Key": to_item(queued)}})
        return self.t.transact(actions)

    def queued_replies(self, workspace_id: str) -> list[QueuedReply]:
        found: list[QueuedReply] = []
        start: str | None = None
        while True:
            page, start = self.t.query(queued_pk(workspace_id), 1000, start, newest_first=False)
            found.extend(queued_reply_of(workspace_id, i) for i in page)
            if start is None:
                return found

    def drop_queued(self, workspace_id: str, ticket_id: str, reply_seq: int) -> None:
        key = to_item(queued_key(workspace_id, ticket_id, reply_seq))
        self.t.client.delete_item(TableName=self.t.table, Key=key)

    def load(self, workspace_id: str, ticket_id: str) -> tuple[Ticket, list[TicketEvent]] | None:
        pk = ticket_pk(workspace_id, ticket_id)
        items: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            page, start = self.t.query(pk, 1000, start, newest_first=False, consistent=True)
            items.extend(page)
            if start is None:
                break
        heads = [i for i in items if i["sk"] == HEAD]
        if not heads:
            return None
        events = [event_of(i) for i in items if str(i["sk"]).startswith(EVENTS)]
        return ticket_of(heads[0]), events

    def queue(
        self,
        workspace_id: str,
        status: TicketStatus,
        limit: int,
        cursor: str | None,
        assignee: str | None = None,
        kind: TicketKind | None = None,
    ) -> tuple[list[Ticket], str | None]:
        pk = queue_pk(workspace_id, status)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "Limit": limit,
        }
        filters, names = [], {}
        if assignee:
            filters.append("#as = :as")
            names["#as"] = "as"
            kwargs["ExpressionAttributeValues"][":as"] = {"S": assignee}
        if kind:
            filters.append("#k = :k")
            names["#k"] = "k"
            kwargs["ExpressionAttributeValues"][":k"] = {"S": kind.value}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": cursor}}
        response = self.t.client.query(**kwargs)
        ids = [i["tid"]["S"] for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return self._heads(workspace_id, ids), (last["sk"]["S"] if last else None)

    def of_customer(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        items, next_cursor = self.t.query(customer_pk(workspace_id, customer_id), limit, cursor)
        return self._heads(workspace_id, [str(i["tid"]) for i in items]), next_cursor

    def of_customers(
        self, workspace_id: str, customer_ids: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        """Each id's partition read from the cursor (a sort key: `<created at>#<ticket id>`,
        comparable across them), the newest `limit` of all kept: one query per id."""
        links: list[dict[str, Any]] = []
        more = False
        for cid in dict.fromkeys(customer_ids):
            items, next_start = self.t.query(customer_pk(workspace_id, cid), limit, cursor)
            links.extend(items)
            more = more or next_start is not None
        links.sort(key=lambda i: str(i["sk"]), reverse=True)
        page = links[:limit]
        more = more or len(links) > limit
        ids = [str(i["tid"]) for i in page]
        return self._heads(workspace_id, ids), (str(page[-1]["sk"]) if more and page else None)

    def _heads(self, workspace_id: str, ids: list[str]) -> list[Ticket]:
        found = {
            str(i["tid"]): ticket_of(i)
            for i in self.t.batch_get([(ticket_pk(workspace_id, tid), HEAD) for tid in ids], consistent=False)
        }
        return [found[tid] for tid in ids if tid in found]


def redact_tickets(table: CrmTable, workspace_id: str, customer_id: str) -> int:
    """A customer erased: each of their tickets loses its free text (the subject, the
    bodies of its messages, replies and notes) and its link to them; the events stay (who,
    when, what kind) for the reports and SLAs. Only what is still there is removed, so a
    retry counts nothing twice: the number of tickets changed."""
    changed = 0
    client = table.client
    for link in _all(table, customer_pk(workspace_id, customer_id)):
        pk = ticket_pk(workspace_id, str(link["tid"]))
        touched = False
        for item in _all(table, pk):
            if item["sk"] == HEAD:
                update, names = "SET #s = :x, rdx = :yes", {"#s": "sub"}
                values = {":x": {"S": ""}, ":yes": {"BOOL": True}}
                if not item.get("sub"):
                    continue
            elif {"body", "subject", "comment"} & set(item.get("d") or {}):
                update, names, values = (
                    "REMOVE d.body, d.subject, d.#c SET rdx = :yes",
                    {"#c": "comment"},
                    {":yes": {"BOOL": True}},
                )
            else:
                continue
            kwargs: dict[str, Any] = {
                "TableName": table.table,
                "Key": {"pk": {"S": pk}, "sk": {"S": str(item["sk"])}},
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": values,
            }
            if names:
                kwargs["ExpressionAttributeNames"] = names
            try:
                client.update_item(**kwargs)
            except client.exceptions.ConditionalCheckFailedException:
                continue
            touched = True
        client.delete_item(TableName=table.table, Key={"pk": {"S": link["pk"]}, "sk": {"S": link["sk"]}})
        changed += touched
    return changed


def _all(table: CrmTable, pk: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start: str | None = None
    while True:
        page, start = table.query(pk, 1000, start, newest_first=False, consistent=True)
        items.extend(page)
        if start is None:
            return items
