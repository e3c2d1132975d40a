"""Moved order entries: a profile's older orders, one item each, under its partition.

Item: pk `W#<ws>#P#<cid>`, sk `O#<order key>`, `t` = "entry", `k` (order key), `v` (the
entry's version, for the write condition) and `e` (the entry, as in the profile's `o`).
See docs/data-model.md ("Profiles").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib.adapters.codec import batch_get, batch_write, from_item, to_av, to_item
from chalicelib.adapters.profile_items import order_entry, order_entry_item, profile_pk
from chalicelib.domain.customer_profile import OrderEntry

PREFIX = "O#"


class EntryItems:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def newest(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        """The newest version of each moved entry under those partitions (consistent)."""
        if keys is None:
            items: Iterator[dict[str, Any]] | list[dict[str, Any]] = (
                i for c in dict.fromkeys(customer_ids) for i in self.under(workspace_id, c)
            )
        else:
            wanted = [
                {"pk": {"S": profile_pk(workspace_id, c)}, "sk": {"S": PREFIX + k}}
                for c in dict.fromkeys(customer_ids)
                for k in dict.fromkeys(keys)
            ]
            items = batch_get(self.client, self.table, wanted, consistent=True)
        out: dict[str, OrderEntry] = {}
        for item in items:
            key, entry = item["k"], order_entry(item["e"])
            if key not in out or out[key].version < entry.version:
                out[key] = entry
        return out

    def under(self, workspace_id: str, customer_id: str, consistent: bool = True) -> Iterator[dict[str, Any]]:
        """Every moved entry item under one customer's partition, page by page."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :o)",
            "ExpressionAttributeValues": {
                ":pk": {"S": profile_pk(workspace_id, customer_id)},
                ":o": {"S": PREFIX},
            },
            "ConsistentRead": consistent,
        }
        while True:
            page = self.client.query(**kwargs)
            for raw in page.get("Items", []):
                yield from_item(raw) or {}
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def write(self, workspace_id: str, customer_id: str, moved: Sequence[tuple[str, OrderEntry]]) -> None:
        """Write moved entries, each only over an older version of itself (a retry that
        lost to a newer write of the same order leaves the newer one)."""
        for key, entry in moved:
            item = entry_item(workspace_id, customer_id, key, entry)
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(pk) OR v <= :v",
                    ExpressionAttributeValues={":v": to_av(entry.version)},
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                continue

    def delete_all(self, workspace_id: str, customer_id: str) -> int:
        """Delete every moved entry under one partition (erasure); returns how many."""
        keys = [{"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}} for i in self.under(workspace_id, customer_id)]
        batch_write(self.client, self.table, [{"DeleteRequest": {"Key": k}} for k in keys])
        return len(keys)


def entry_item(workspace_id: str, customer_id: str, key: str, entry: OrderEntry) -> dict[str, Any]:
    """The moved entry item of one order entry (under the profile's partition)."""
    return {
        "pk": profile_pk(workspace_id, customer_id),
        "sk": PREFIX + key,
        "t": "entry",
        "k": key,
        "v": entry.version,
        "e": order_entry_item(entry),
    }
