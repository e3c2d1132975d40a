"""The customer list's search entries (docs/data-model.md#the-customer-list): small items
in the CRM table, `W#<ws>#SRCH#<kind>#<first character>` / `<value>#<customer id>` for a
name (`n`), an email (`e`) or a phone's digits (`p`), and `W#<ws>#SRCH#t#<tag>` /
`<customer id>` for a tag, each with the profile revision `v` that wrote it. The CRM
stream's profile consumer writes them (`domain/search_entries.py`); the order path never
does. And the tier states of one tier."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.tier_store import STATE_PREFIX, states_pk
from chalicelib.domain.customer_list import bad_cursor
from chalicelib.domain.search.ports import EntryKind, SearchKind

KINDS: dict[EntryKind, str] = {"name": "n", "email": "e", "phone": "p", "tag": "t"}
_KIND_OF = {short: kind for kind, short in KINDS.items()}
NEWER_WINS = "attribute_not_exists(pk) OR v <= :v"


# -- the entry item, both ways --------------------------------------------------------
def entry_key(workspace_id: str, customer_id: str, kind: EntryKind, value: str) -> tuple[str, str]:
    if kind == "tag":
        return f"W#{workspace_id}#SRCH#t#{value}", customer_id
    return f"W#{workspace_id}#SRCH#{KINDS[kind]}#{value[0]}", f"{value}#{customer_id}"


def entry_item(workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int) -> dict[str, Any]:
    pk, sk = entry_key(workspace_id, customer_id, kind, value)
    return {"pk": pk, "sk": sk, "t": "srch", "v": rev}


def entry_of(item: dict[str, Any]) -> tuple[str, str, EntryKind, str, int]:
    """(workspace id, customer id, kind, value, revision) of an entry item."""
    _, workspace_id, _, short, rest = str(item["pk"]).split("#", 4)
    kind = _KIND_OF[short]
    if kind == "tag":
        return workspace_id, str(item["sk"]), kind, rest, int(item["v"])
    value, customer_id = str(item["sk"]).rsplit("#", 1)
    return workspace_id, customer_id, kind, value, int(item["v"])


class DynamoCustomerIndex:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    # -- the writer's side (SearchEntryStore) --------------------------------------------
    def put_entry(self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int) -> bool:
        try:
            self.t.put(entry_item(workspace_id, customer_id, kind, value, rev), NEWER_WINS, {":v": rev})
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete_entry(
        self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int
    ) -> bool:
        pk, sk = entry_key(workspace_id, customer_id, kind, value)
        try:
            self.t.client.delete_item(
                TableName=self.t.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                ConditionExpression=NEWER_WINS,
                ExpressionAttributeValues={":v": {"N": str(rev)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # -- the list's side (CustomerIndex) ---------------------------------------------------
    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        pk, _ = entry_key(workspace_id, "", kind, prefix)
        if cursor is not None and not cursor.startswith(prefix):
            raise bad_cursor()
        return self._page(pk, prefix, limit, cursor, lambda sk: sk.rsplit("#", 1)[1])

    def tagged(
        self, workspace_id: str, tag: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        pk, _ = entry_key(workspace_id, "", "tag", tag)
        return self._page(pk, "", limit, cursor, lambda sk: sk)

    def _page(
        self, pk: str, prefix: str, limit: int, cursor: str | None, customer_of: Any
    ) -> tuple[list[str], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)" if prefix else "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":p": {"S": prefix}} if prefix else {}),
            "ProjectionExpression": "sk",
            "Limit": limit + 1,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": cursor}}
        keys = [str(i["sk"]["S"]) for i in self.t.client.query(**kwargs).get("Items", [])]
        ids = [customer_of(sk) for sk in keys[:limit]]
        return ids, (keys[limit - 1] if len(keys) > limit else None)

    def in_tier(
        self, workspace_id: str, tier: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :c)",
            "FilterExpression": "tr = :tr",
            "ExpressionAttributeValues": {
                ":pk": {"S": states_pk(workspace_id)},
                ":c": {"S": STATE_PREFIX},
                ":tr": {"S": tier},
            },
            "ProjectionExpression": "sk",
            "Limit": limit,
        }
        if cursor:
            if not cursor.startswith(STATE_PREFIX):
                raise bad_cursor()
            kwargs["ExclusiveStartKey"] = {"pk": {"S": states_pk(workspace_id)}, "sk": {"S": cursor}}
        response = self.t.client.query(**kwargs)
        ids = [str(i["sk"]["S"])[len(STATE_PREFIX) :] for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return ids, (str(last["sk"]["S"]) if last else None)
