"""Returns in the CRM table (docs/data-model.md, "Returns"): one item per return in its own
partition, written in one transaction with its ticket's creation or event (the ticket's
items as adapters/ticket_store.py lays them out)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import CrmTable, put_action
from chalicelib.adapters.ticket_store import (
    customer_item,
    event_item,
    head_item,
    queue_item,
)
from chalicelib.domain.service.model import Ticket, TicketEvent
from chalicelib.domain.service.return_model import ReturnLine, ReturnStatus, StoredReturn
from chalicelib.domain.timemath import iso, parse_iso

RETURN_SK = "R"


def return_pk(workspace_id: str, key: str) -> str:
    return f"W#{workspace_id}#RT#{key}"


def return_item(r: StoredReturn) -> dict[str, Any]:
    item = {
        "pk": return_pk(r.workspace_id, r.key),
        "sk": RETURN_SK,
        "t": "return",
        "ws": r.workspace_id,
        "rk": r.key,
        "oid": r.order_id,
        "cid": r.customer_id,
        "tid": r.ticket_id,
        "st": r.status.value,
        "ua": iso(r.updated_at),
        "ln": [{"i": li.line_id, "q": li.quantity} for li in r.lines],
        "amt": r.amount,
        "cur": r.currency,
        "nm": r.name,
    }
    return {k: v for k, v in item.items() if v is not None}


def return_of(item: dict[str, Any]) -> StoredReturn:
    updated = parse_iso(str(item["ua"]))
    assert updated is not None
    return StoredReturn(
        workspace_id=str(item["ws"]),
        key=str(item["rk"]),
        order_id=str(item["oid"]),
        customer_id=str(item["cid"]),
        ticket_id=str(item["tid"]),
        status=ReturnStatus(item["st"]),
        updated_at=updated,
        lines=tuple(ReturnLine(str(li["i"]), int(li["q"])) for li in item.get("ln") or ()),
        amount=Decimal(str(item.get("amt", 0))),
        currency=item.get("cur"),
        name=item.get("nm"),
    )


class DynamoReturnStore:
    """service.return_ports.ReturnStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def get(self, workspace_id: str, key: str) -> StoredReturn | None:
        item = self.t.get(return_pk(workspace_id, key), RETURN_SK, consistent=True)
        return None if item is None else return_of(item)

    def create(self, ret: StoredReturn, ticket: Ticket | None, events: list[TicketEvent]) -> bool:
        name, new = self.t.table, "attribute_not_exists(pk)"
        actions = [put_action(name, return_item(ret), new)]
        if ticket is not None:
            ws, tid = ticket.workspace_id, ticket.id
            actions.append(put_action(name, head_item(ticket), new))
            actions += [put_action(name, event_item(ws, tid, n, e), new) for n, e in enumerate(events, 1)]
            actions += [put_action(name, queue_item(ticket)), put_action(name, customer_item(ticket))]
        return self.t.transact(actions)

    def move(
        self,
        before: StoredReturn,
        after: StoredReturn,
        ticket: Ticket | None,
        event: TicketEvent | None,
        ticket_after: Ticket | None,
    ) -> bool:
        name = self.t.table
        moved = put_action(name, return_item(after), "st = :was")
        moved["Put"]["ExpressionAttributeValues"] = {":was": {"S": before.status.value}}
        actions = [moved]
        if ticket is not None and event is not None and ticket_after is not None:
            head = put_action(name, head_item(ticket_after), "seq = :seq")
            head["Put"]["ExpressionAttributeValues"] = {":seq": to_av(ticket.seq)}
            ws, tid = ticket_after.workspace_id, ticket_after.id
            actions += [
                put_action(name, event_item(ws, tid, ticket_after.seq, event), "attribute_not_exists(pk)"),
                head,
            ]
            if queue_item(ticket) != queue_item(ticket_after):  # the queue entry's `as`, `pr`, `k` unchanged
                actions.append(put_action(name, queue_item(ticket_after)))
        return self.t.transact(actions)


OUTBOX_PK = "RETMSG"  # one partition for all workspaces: returns are few (docs/data-model.md)


class DynamoReturnOutbox:
    """service.return_ports.ReturnOutbox on the CRM table: `RETMSG` / `<ws>#<key>#<kind>`."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def put(self, workspace_id: str, key: str, kind: str, at: datetime) -> None:
        item = {
            "pk": OUTBOX_PK,
            "sk": f"{workspace_id}#{key}#{kind}",
            "t": "return_message",
            "ws": workspace_id,
            "rk": key,
            "kd": kind,
            "at": iso(at),
        }
        self.t.client.put_item(TableName=self.t.table, Item=to_item(item))

    def due(self, limit: int) -> list[tuple[str, str, str, datetime]]:
        items, _ = self.t.query(OUTBOX_PK, limit, None, newest_first=False, consistent=True)
        out = []
        for i in items:
            at = parse_iso(str(i["at"]))
            assert at is not None
            out.append((str(i["ws"]), str(i["rk"]), str(i["kd"]), at))
        return out

    def done(self, workspace_id: str, key: str, kind: str) -> None:
        self.t.client.delete_item(
            TableName=self.t.table, Key={"pk": {"S": OUTBOX_PK}, "sk": {"S": f"{workspace_id}#{key}#{kind}"}}
        )
