"""The customer list's indexes (docs/data-model.md#the-customer-list): three sparse,
KEYS_ONLY GSIs on the profile item, all partitioned on the profile's own `ws` (the
workspace id: no copy), sorted on `qn` (`q_name`: the normalised name), `qe` (`q_email`: the
email, lower case) and `qp` (`q_phone`: the E.164 phone); only profiles carry those three.
And the tier states of one tier."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.codec import from_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.tier_store import STATE_PREFIX, states_pk
from chalicelib.domain.customer_list import SearchKind, bad_cursor, search_keys
from chalicelib.domain.customer_profile import CustomerProfile

PARTITION = "ws"  # on every profile item already
SORTS: dict[SearchKind, str] = {"name": "qn", "email": "qe", "phone": "qp"}
INDEXES: dict[SearchKind, str] = {"name": "q_name", "email": "q_email", "phone": "q_phone"}
NAMES = frozenset(SORTS.values())


def search_attributes(profile: CustomerProfile) -> dict[str, str]:
    """The profile item's index attributes: a profile without a name, email or phone has
    no entry in that index."""
    found = {SORTS[kind]: value for kind, value in search_keys(profile).items()}
    if "qp" in found:
        found["qp"] = phone_prefix(found["qp"])
    return found


def phone_prefix(digits: str) -> str:
    """The index's phone values are E.164: a prefix of digits is `+` and them."""
    return "+" + digits


class DynamoCustomerIndex:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        sort = SORTS[kind]
        if kind == "phone":
            prefix = phone_prefix(prefix)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "IndexName": INDEXES[kind],
            "KeyConditionExpression": "#k = :k AND begins_with(#s, :p)",
            "ExpressionAttributeNames": {"#k": PARTITION, "#s": sort},
            "ExpressionAttributeValues": {":k": {"S": workspace_id}, ":p": {"S": prefix}},
            "Limit": limit + 1,
        }
        if cursor:
            value, customer_id = _position(cursor)
            if not value.startswith(prefix):
                raise bad_cursor()
            kwargs["ExclusiveStartKey"] = {
                PARTITION: {"S": workspace_id},
                sort: {"S": value},
                "pk": {"S": _profile_pk(workspace_id, customer_id)},
                "sk": {"S": "P"},
            }
        items = [from_item(i) or {} for i in self.t.client.query(**kwargs).get("Items", [])]
        ids = [str(i["pk"]).rsplit("#P#", 1)[1] for i in items[:limit]]
        if len(items) <= limit:
            return ids, None
        last = items[limit - 1]
        return ids, json.dumps([last[sort], ids[-1]])

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


def _profile_pk(workspace_id: str, customer_id: str) -> str:
    from chalicelib.adapters.profile_items import profile_pk  # it imports this module

    return profile_pk(workspace_id, customer_id)


def _position(cursor: str) -> tuple[str, str]:
    try:
        value, customer_id = json.loads(cursor)
    except (ValueError, TypeError) as exc:
        raise bad_cursor() from exc
    if not isinstance(value, str) or not isinstance(customer_id, str) or not value:
        raise bad_cursor()
    return value, customer_id
