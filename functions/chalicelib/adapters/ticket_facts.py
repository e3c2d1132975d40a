"""Ticket facts in the CRM table (docs/data-model.md, "Ticket facts"): one item per
customer id, `W#<ws>#TF#<customer id>` / `F`, whose map `tk` holds each ticket's fact by
ticket id; a fact is set only over an older `seq` (one conditional `UpdateItem`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.service.facts import TicketFact
from chalicelib.domain.timemath import iso, parse_iso

SK = "F"


def facts_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#TF#{customer_id}"


def fact_value(fact: TicketFact) -> dict[str, Any]:
    value: dict[str, Any] = {
        "s": fact.seq,
        "o": fact.open,
        "c": fact.complaint,
        "ca": iso(fact.created_at),
        "cs": fact.csat_score,
        "csa": iso(fact.csat_answered_at),
    }
    return {k: v for k, v in value.items() if v is not None}


def facts_of(item: dict[str, Any]) -> list[TicketFact]:
    out = []
    for tid, v in sorted((item.get("tk") or {}).items()):
        created = parse_iso(str(v["ca"]))
        assert created is not None
        out.append(
            TicketFact(
                workspace_id=str(item["ws"]),
                customer_id=str(item["cid"]),
                ticket_id=str(tid),
                seq=int(v["s"]),
                open=bool(v["o"]),
                complaint=bool(v["c"]),
                created_at=created,
                csat_score=None if v.get("cs") is None else int(v["cs"]),
                csat_answered_at=parse_iso(str(v["csa"])) if v.get("csa") else None,
            )
        )
    return out


class DynamoTicketFacts:
    """service.facts.TicketFactStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def put(self, fact: TicketFact) -> bool:
        client = self.t.client
        key = {"pk": {"S": facts_pk(fact.workspace_id, fact.customer_id)}, "sk": {"S": SK}}
        for _ in range(2):
            try:
                client.update_item(
                    TableName=self.t.table,
                    Key=key,
                    UpdateExpression="SET #tk.#id = :v",
                    ConditionExpression="attribute_exists(#tk) AND "
                    "(attribute_not_exists(#tk.#id) OR #tk.#id.#s < :seq)",
                    ExpressionAttributeNames={"#tk": "tk", "#id": fact.ticket_id, "#s": "s"},
                    ExpressionAttributeValues={":v": to_av(fact_value(fact)), ":seq": to_av(fact.seq)},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return True
            except client.exceptions.ConditionalCheckFailedException as exc:
                if exc.response.get("Item"):
                    return False  # the item holds this ticket at this seq or a later one
            item = {
                "pk": key["pk"]["S"],
                "sk": SK,
                "t": "ticket_facts",
                "ws": fact.workspace_id,
                "cid": fact.customer_id,
                "tk": {fact.ticket_id: fact_value(fact)},
            }
            try:  # the customer's first ticket: the item is new
                client.put_item(
                    TableName=self.t.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
                )
                return True
            except client.exceptions.ConditionalCheckFailedException:
                continue  # created meanwhile: the update again
        return False

    def of_customers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[TicketFact]:
        if not customer_ids:
            return []
        keys = [(facts_pk(workspace_id, cid), SK) for cid in dict.fromkeys(customer_ids)]
        facts: list[TicketFact] = []
        for item in self.t.batch_get(keys, consistent=False):
            facts.extend(facts_of(item))
        return facts
