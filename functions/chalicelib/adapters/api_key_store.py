"""A workspace's API keys in the CRM table (docs/data-model.md#api-keys): the lookup by
hash every request reads (`KEY#<sha256>`), the listed key and the live-key count."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.adapters.codec import from_item, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.errors import Conflict
from chalicelib.domain.timemath import iso, parse_iso
from chalicelib.domain.workspace_api.model import ApiKey, Refused

COUNT_SK = "N"


def listed_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#KEY"


def lookup_item(key: ApiKey) -> dict[str, Any]:
    """The item `workspace_for_key` reads: hash -> workspace (and key id)."""
    return {
        "pk": f"KEY#{key.key_hash}",
        "sk": "KEY",
        "t": "api_key",
        "ws": key.workspace_id,
        "kid": key.key_id,
        "ca": iso(key.created_at),
    }


def listed_item(key: ApiKey) -> dict[str, Any]:
    """The listed key; `key_of` reads it back."""
    item: dict[str, Any] = {
        "pk": listed_pk(key.workspace_id),
        "sk": f"K#{key.key_id}",
        "t": "api_key_ref",
        "ws": key.workspace_id,
        "kid": key.key_id,
        "n": key.name,
        "h": key.key_hash,
        "tl": key.tail,
        "ca": iso(key.created_at),
        "cb": key.created_by,
    }
    for attribute, value in (("ra", key.rotated_at), ("xa", key.revoked_at)):
        if value is not None:
            item[attribute] = iso(value)
    for attribute, by in (("rb", key.rotated_by), ("xb", key.revoked_by)):
        if by is not None:
            item[attribute] = by
    return item


def key_of(item: dict[str, Any]) -> ApiKey:
    created = parse_iso(item["ca"])
    assert created is not None
    return ApiKey(
        workspace_id=item["ws"],
        key_id=item["kid"],
        name=item["n"],
        key_hash=item["h"],
        tail=item.get("tl", ""),
        created_at=created,
        created_by=item["cb"],
        rotated_at=parse_iso(item.get("ra")),
        rotated_by=item.get("rb"),
        revoked_at=parse_iso(item.get("xa")),
        revoked_by=item.get("xb"),
    )


def first_key_items(workspace_id: str, key_hash: str, tail: str, at: Any) -> list[dict[str, Any]]:
    """A new workspace's first key (named `default`, made by `cli`): lookup, listed, count 1."""
    key = ApiKey(workspace_id, "key_" + secrets.token_hex(6), "default", key_hash, tail, at, "cli")
    count = {"pk": listed_pk(workspace_id), "sk": COUNT_SK, "t": "api_key_count", "live": 1}
    return [lookup_item(key), listed_item(key), count]


class DynamoApiKeyStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _transact(self, actions: list[dict[str, Any]]) -> list[str]:
        """The actions at once; [] when done, else each action's cancellation code."""
        try:
            self.t.client.transact_write_items(TransactItems=actions)
        except self.t.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = [str(r.get("Code") or "None") for r in reasons]
            if "ConditionalCheckFailed" not in codes:
                raise
            return codes
        return []

    def _count_up(self, workspace_id: str, most: int) -> dict[str, Any]:
        """A transaction's Update adding one live key, while fewer than `most` are live."""
        return {
            "Update": {
                "TableName": self.t.table,
                "Key": self._key(listed_pk(workspace_id), COUNT_SK),
                "UpdateExpression": "SET t = :t ADD live :one",
                "ConditionExpression": "attribute_not_exists(live) OR live < :most",
                "ExpressionAttributeValues": {
                    ":t": {"S": "api_key_count"},
                    ":one": {"N": "1"},
                    ":most": {"N": str(most)},
                },
            }
        }

    def add(self, key: ApiKey, most: int) -> None:
        count = self._count_up(key.workspace_id, most)
        new = "attribute_not_exists(pk)"
        codes = self._transact(
            [
                count,
                {
                    "Put": {
                        "TableName": self.t.table,
                        "Item": to_item(lookup_item(key)),
                        "ConditionExpression": new,
                    }
                },
                {
                    "Put": {
                        "TableName": self.t.table,
                        "Item": to_item(listed_item(key)),
                        "ConditionExpression": new,
                    }
                },
            ]
        )
        if codes and codes[0] == "ConditionalCheckFailed":
            raise Refused(f"a workspace has at most {most} live API keys", "too_many_keys")
        if codes:
            raise Conflict("the API key could not be stored; try again")

    def adopt(self, key: ApiKey, most: int) -> None:
        count = self._count_up(key.workspace_id, most)
        lookup = {
            "Update": {
                "TableName": self.t.table,
                "Key": self._key(f"KEY#{key.key_hash}", "KEY"),
                "UpdateExpression": "SET kid = :kid",
                "ConditionExpression": "ws = :ws AND attribute_not_exists(kid)",
                "ExpressionAttributeValues": {":kid": {"S": key.key_id}, ":ws": {"S": key.workspace_id}},
            }
        }
        listed = {
            "Put": {
                "TableName": self.t.table,
                "Item": to_item(listed_item(key)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        codes = self._transact([count, lookup, listed])
        if codes and codes[0] == "ConditionalCheckFailed":
            raise Refused(f"a workspace has at most {most} live API keys", "too_many_keys")
        if codes:
            raise Refused("that key is not an unlisted key of this workspace", "not_adoptable")

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None:
        item = self.t.get(listed_pk(workspace_id), f"K#{key_id}", consistent=True)
        return None if item is None else key_of(item)

    def keys(self, workspace_id: str) -> list[ApiKey]:
        found: list[ApiKey] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :k)",
            "ExpressionAttributeValues": {":pk": {"S": listed_pk(workspace_id)}, ":k": {"S": "K#"}},
        }
        while True:
            page = self.t.client.query(**kwargs)
            found.extend(key_of(from_item(i) or {}) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _as_read(self, key: ApiKey, sets: dict[str, str]) -> dict[str, Any]:
        """An Update of the listed key that SETs `sets`, only if it is live and as read."""
        return {
            "Update": {
                "TableName": self.t.table,
                "Key": self._key(listed_pk(key.workspace_id), f"K#{key.key_id}"),
                "UpdateExpression": "SET " + ", ".join(f"#{a} = :{a}" for a in sets),
                "ConditionExpression": "#h = :read AND attribute_not_exists(xa)",
                "ExpressionAttributeNames": {f"#{a}": a for a in sets} | {"#h": "h"},
                "ExpressionAttributeValues": {f":{a}": {"S": v} for a, v in sets.items()}
                | {":read": {"S": key.key_hash}},
            }
        }

    def _drop_lookup(self, key: ApiKey) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.t.table,
                "Key": self._key(f"KEY#{key.key_hash}", "KEY"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def rotate(self, key: ApiKey, rotated: ApiKey) -> None:
        listed = listed_item(rotated)
        sets = {a: str(listed[a]) for a in ("h", "tl", "ra", "rb")}
        new_lookup = {
            "Put": {
                "TableName": self.t.table,
                "Item": to_item(lookup_item(rotated)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if self._transact([self._as_read(key, sets), self._drop_lookup(key), new_lookup]):
            raise Refused(f"API key {key.key_id} changed meanwhile; read it again", "changed")

    def revoke(self, key: ApiKey, revoked: ApiKey) -> None:
        listed = listed_item(revoked)
        count = {
            "Update": {
                "TableName": self.t.table,
                "Key": self._key(listed_pk(key.workspace_id), COUNT_SK),
                "UpdateExpression": "SET live = live - :one",
                "ConditionExpression": "live > :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        sets = {a: str(listed[a]) for a in ("xa", "xb")}
        codes = self._transact([self._as_read(key, sets), self._drop_lookup(key), count])
        if codes and codes[2] == "ConditionalCheckFailed" and codes[0] != "ConditionalCheckFailed":
            raise Refused(
                f"API key {key.key_id} is the workspace's last live key: create another first", "last_key"
            )
        if codes:
            raise Refused(f"API key {key.key_id} changed meanwhile; read it again", "changed")

    def key_id_for(self, key_hash: str) -> str | None:
        item = self.t.get(f"KEY#{key_hash}", "KEY")
        return None if item is None or not item.get("kid") else str(item["kid"])
