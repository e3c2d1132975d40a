"""The CRM table's shared low-level access: reads, counters, batches, pointers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from chalicelib.adapters.codec import batch_get, from_item, to_av, to_item
from chalicelib.domain.errors import Conflict

MAX_POINTER_HOPS = 5


def counter_update(
    table: str, pk: str, sk: str, counts: Mapping[str, int | Decimal], kind: str | None = None
) -> dict[str, Any] | None:
    """UpdateItem arguments that ADD each non-zero count to the item's counters (None: no
    count moves). `kind` sets `t` on an item the ADD creates. Also a transaction's `Update`."""
    moving = {name: value for name, value in counts.items() if value}
    if not moving:
        return None
    return {
        "TableName": table,
        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
        "UpdateExpression": ("SET t = :t " if kind else "")
        + "ADD "
        + ", ".join(f"#c{i} :c{i}" for i in range(len(moving))),
        "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(moving)},
        "ExpressionAttributeValues": {f":c{i}": to_av(v) for i, v in enumerate(moving.values())}
        | ({":t": {"S": kind}} if kind else {}),
    }


def put_action(table: str, item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
    """A transaction's `Put` of `item`, under `condition` when one is given."""
    put: dict[str, Any] = {"TableName": table, "Item": to_item(item)}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


class CrmTable:
    """Shared low-level access to the CRM table."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def transact(self, actions: list[dict[str, Any]]) -> bool:
        """`TransactWriteItems`, all or nothing; False when any condition failed (a replay,
        a lost race), any other cancellation raised."""
        try:
            self.client.transact_write_items(TransactItems=actions)
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            raise
        return True

    def get(self, pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=consistent
        )
        return from_item(response.get("Item"))

    def batch_get(self, keys: list[tuple[str, str]], consistent: bool = True) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(keys))
        return batch_get(
            self.client, self.table, [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique], consistent
        )

    def put(
        self,
        values: dict[str, Any],
        condition: str | None = None,
        values_for_condition: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": to_item(values)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values_for_condition:
            kwargs["ExpressionAttributeValues"] = {k: to_av(v) for k, v in values_for_condition.items()}
        self.client.put_item(**kwargs)

    def query(
        self,
        pk: str,
        limit: int = 50,
        start: str | None = None,
        newest_first: bool = True,
        prefix: str | None = None,
        consistent: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partition (its sort keys beginning with `prefix`, if given), from
        after `start`; the next page's start (the last sort key read) or None."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":p": {"S": prefix}} if prefix else {}),
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        if consistent:
            kwargs["ConsistentRead"] = True
        if start:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": start}}
        response = self.client.query(**kwargs)
        items = [from_item(i) or {} for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (last["sk"]["S"] if last else None)

    def partition(
        self,
        pk: str,
        consistent: bool = False,
        prefix: str | None = None,
        attributes: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a partition (its sort keys beginning with `prefix`, if given; only
        `attributes`, if given), page after page: for jobs, never a request path."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":p": {"S": prefix}} if prefix else {}),
            "ConsistentRead": consistent,
        }
        if attributes:
            kwargs["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(attributes)))
            kwargs["ExpressionAttributeNames"] = {f"#p{i}": a for i, a in enumerate(attributes)}
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**kwargs)
            found.extend(from_item(raw) or {} for raw in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def advance_version(
        self, pk: str, sk: str, changes: dict[str, Any], version: int, day: str | None = None
    ) -> bool:
        """SET the attributes `changes` names and move the item's `v` past `version`, only
        while `v` is still `version` (and its `day` is `day`, if given): False when another
        writer moved it first (a job's cursor committing its progress)."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":a{i}": to_av(value) for i, value in enumerate(changes.values())}
        sets = "".join(f"#a{i} = :a{i}, " for i in range(len(changes)))
        condition = "#v = :v" + (" AND #d = :day" if day is not None else "")
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression=f"SET {sets}#v = :next",
                ConditionExpression=condition,
                ExpressionAttributeNames={**names, "#v": "v"} | ({"#d": "day"} if day is not None else {}),
                ExpressionAttributeValues={
                    **values,
                    ":v": {"N": str(version)},
                    ":next": {"N": str(version + 1)},
                }
                | ({":day": {"S": day}} if day is not None else {}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def count(self, **query: Any) -> int:
        """Items a query matches (Select=COUNT), over all its pages."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Select": "COUNT", **query}
        total = 0
        while True:
            page = self.client.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_versioned(self, values: dict[str, Any], expected_version: Any, what: str) -> None:
        """Create the item (`expected_version` None) or replace it only at the `ver` it was
        read with: Conflict when another writer moved it meanwhile."""
        if expected_version is None:
            condition, check = "attribute_not_exists(pk)", None
        else:
            condition, check = "ver = :ver", {":ver": expected_version}
        try:
            self.put(values, condition, check)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict(f"{what} changed") from exc

    def add_counts(
        self,
        pk: str,
        sk: str,
        counts: Mapping[str, int | Decimal],
        kind: str | None = None,
        must_exist: bool = False,
    ) -> None:
        """ADD each non-zero count to the item's counters, atomically (no read). `kind` sets
        `t` on an item the ADD creates; `must_exist` refuses to create one."""
        update = counter_update(self.table, pk, sk, counts, kind)
        if update is None:
            return
        if must_exist:
            update["ConditionExpression"] = "attribute_exists(pk)"
        self.client.update_item(**update)

    def due_keys(self, index: str, bucket: str, until: str) -> list[tuple[str, str]]:
        """(pk, sk) of the items in a due-time bucket of the sparse index (`rk`, `nchk`)
        that are due by `until`: membership rechecks (`R#...`) and flow runs (`F#...`)."""
        keys: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "rk = :b AND nchk <= :u",
            "ExpressionAttributeValues": {":b": {"S": bucket}, ":u": {"S": until}},
        }
        while True:
            page = self.client.query(**kwargs)
            keys.extend((i["pk"]["S"], i["sk"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return keys
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def watermark(self, name: str) -> str | None:
        """How far a scheduled job got (`<name>` / `WM`)."""
        item = self.get(name, "WM", consistent=True)
        return str(item["until"]) if item else None

    def set_watermark(self, name: str, until: str) -> None:
        """Moves forward only (a late, overlapping run cannot move it back)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": name}, "sk": {"S": "WM"}},
                UpdateExpression="SET #u = :u",
                ConditionExpression="attribute_not_exists(#u) OR #u < :u",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues={":u": {"S": until}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    def query_index(self, index: str, attribute: str, value: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
            Limit=10,
        )
        return [from_item(i) or {} for i in response.get("Items", [])]
