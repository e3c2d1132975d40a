"""Customers' tier states and their audit on the CRM table (docs/data-model.md#tiers).

`W#<ws>#TIER` / `C#<cid>` is a customer's tier state (one partition per workspace: the
scheduled evaluation and the preview page it with a Query, never a scan);
`W#<ws>#TIERLOG#<cid>` / `<at>#<version>` each change of it. A state is written with its
audit entry in one `TransactWriteItems`, conditioned on the version read.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import from_item, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.loyalty.tiers import TierChange, TierState
from chalicelib.domain.timemath import iso, parse_iso

STATE_PREFIX = "C#"


def states_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#TIER"


def audit_pk(workspace_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#TIERLOG#{customer_id}"


def state_item(state: TierState) -> dict[str, Any]:
    """The stored state (short attributes); `state_from_item` reads it back."""
    item: dict[str, Any] = {
        "pk": states_pk(state.workspace_id),
        "sk": STATE_PREFIX + state.customer_id,
        "t": "tier",
        "val": state.value,
        "v": state.version,
    }
    optional = {
        "tr": state.tier,
        "since": iso(state.since) if state.since else None,
        "bks": state.below_since.isoformat() if state.below_since else None,
        "hold": state.held_until.isoformat() if state.held_until else None,
        "chk": state.check_on.isoformat() if state.check_on else None,
        "rid": state.rules_id or None,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def state_from_item(item: dict[str, Any]) -> TierState:
    workspace_id = str(item["pk"])[2:].rsplit("#TIER", 1)[0]
    return TierState(
        workspace_id=workspace_id,
        customer_id=str(item["sk"])[len(STATE_PREFIX) :],
        tier=item.get("tr"),
        since=parse_iso(item["since"]) if item.get("since") else None,
        value=Decimal(str(item.get("val", 0))),
        below_since=date.fromisoformat(item["bks"]) if item.get("bks") else None,
        held_until=date.fromisoformat(item["hold"]) if item.get("hold") else None,
        check_on=date.fromisoformat(item["chk"]) if item.get("chk") else None,
        rules_id=str(item.get("rid", "")),
        version=int(item["v"]),
    )


def change_item(change: TierChange, version: int) -> dict[str, Any]:
    """An audit entry; `change_from_item` reads it back."""
    item: dict[str, Any] = {
        "pk": audit_pk(change.workspace_id, change.customer_id),
        "sk": f"{iso(change.at)}#{version:08d}",
        "t": "tier_change",
        "k": change.kind,
        "at": iso(change.at),
        "val": change.value,
        "by": change.actor,
    }
    optional = {"from": change.before, "to": change.after, "why": change.reason}
    item.update({k: v for k, v in optional.items() if v is not None})
    return item


def state_owner(item: dict[str, Any]) -> tuple[str, str]:
    """(workspace, customer) of a tier state item (the CRM stream's record of it)."""
    return str(item["pk"])[2:].rsplit("#TIER", 1)[0], str(item["sk"])[len(STATE_PREFIX) :]


def change_version(item: dict[str, Any]) -> int:
    """The state's version an audit entry's change wrote (its `sk`'s tail)."""
    return int(str(item["sk"]).rsplit("#", 1)[1])


def change_from_item(item: dict[str, Any]) -> TierChange:
    workspace_id, customer_id = str(item["pk"])[2:].split("#TIERLOG#", 1)
    return TierChange(
        workspace_id=workspace_id,
        customer_id=customer_id,
        at=parse_iso(item["at"]),  # type: ignore[arg-type]
        before=item.get("from"),
        after=item.get("to"),
        kind=str(item["k"]),
        value=Decimal(str(item["val"])),
        actor=str(item.get("by", "patron")),
        reason=item.get("why"),
    )


class DynamoTierStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def tier_of(self, workspace_id: str, customer_id: str) -> str | None:
        state = self.get(workspace_id, customer_id)
        return state.tier if state else None

    def get(self, workspace_id: str, customer_id: str) -> TierState | None:
        item = self.t.get(states_pk(workspace_id), STATE_PREFIX + customer_id, consistent=True)
        return state_from_item(item) if item else None

    def save(self, state: TierState, change: TierChange | None) -> bool:
        new_version = state.version + 1
        put: dict[str, Any] = {
            "TableName": self.t.table,
            "Item": to_item(state_item(_versioned(state, new_version))),
        }
        if state.version == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "v = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(state.version)}}
        actions: list[dict[str, Any]] = [{"Put": put}]
        if change is not None:
            actions.append(
                {"Put": {"TableName": self.t.table, "Item": to_item(change_item(change, new_version))}}
            )
        return self.t.transact(actions)

    def states(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[TierState], str | None]:
        pk = states_pk(workspace_id)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :c)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":c": {"S": STATE_PREFIX}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": STATE_PREFIX + cursor}}
        response = self.t.client.query(**kwargs)
        found = [state_from_item(from_item(i) or {}) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return found, (str(last["sk"]["S"])[len(STATE_PREFIX) :] if last else None)

    def changes(self, workspace_id: str, customer_id: str) -> list[TierChange]:
        found: list[TierChange] = []
        start: str | None = None
        while True:
            items, start = self.t.query(audit_pk(workspace_id, customer_id), 100, start, newest_first=False)
            found += [change_from_item(i) for i in items]
            if start is None:
                return found


def _versioned(state: TierState, version: int) -> TierState:
    from dataclasses import replace

    return replace(state, version=version)


def erase_tiers(client: Any, table: str, workspace_id: str, customer_id: str) -> int:
    """Delete one customer id's tier state and its audit (a manual move's reason is free text
    an operator wrote about the person), on their erasure. Returns how many items went."""
    deleted = 0
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": audit_pk(workspace_id, customer_id)}},
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**kwargs)
        for key in page.get("Items", []):
            client.delete_item(TableName=table, Key=key)
            deleted += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    state = client.delete_item(
        TableName=table,
        Key={"pk": {"S": states_pk(workspace_id)}, "sk": {"S": STATE_PREFIX + customer_id}},
        ReturnValues="ALL_OLD",
    )
    return deleted + (1 if state.get("Attributes") else 0)
