"""The recommender's daily training in the CRM table (docs/data-model.md#recommendations).

- cursor: `RECTRAIN` / `<ws>` (one small partition, read once per invocation): `day`, `ph`
  phase (`gather`, `train`, `done`), `cur` walk position, `pg` row items written, `n`
  profiles read, `o` baskets gathered, `res` the done run's figures, `v` version. Every
  change is an UpdateItem conditioned on the `v` it was read at.
- gathered baskets: `W#<ws>#RECG` / `<day>#<item:06d>`: `rows`, gzip JSON, `ttl` 3 days.
- categories: `W#<ws>#SRC` (the workspace's sources), then each source's catalogue
  partition `W#<ws>#PR#<source>`, projected to `pid, cat, ty`.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import timedelta
from typing import Any

from chalicelib.adapters.catalogue_store import catalogue_partition
from chalicelib.adapters.codec import from_item, to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.recommend.training_ports import Row, TrainCursor

CURSORS = "RECTRAIN"
ROWS_TTL = timedelta(days=3)
MAX_BODY = 300_000  # bytes of gzip per row item (DynamoDB's item limit is 400 KB)
ATTRIBUTES = {
    "workspace_id": "ws",
    "day": "day",
    "phase": "ph",
    "position": "cur",
    "items": "pg",
    "profiles_read": "n",
    "baskets": "o",
    "result": "res",
    "version": "v",
}


def cursor_of(item: dict[str, Any]) -> TrainCursor:
    result = item.get("res")
    return TrainCursor(
        workspace_id=item["ws"],
        day=item["day"],
        phase=item["ph"],
        position=item.get("cur", ""),
        items=int(item.get("pg", 0)),
        profiles_read=int(item.get("n", 0)),
        baskets=int(item.get("o", 0)),
        result={k: int(v) for k, v in result.items()} if result else None,
        version=int(item["v"]),
    )


def _bodies(rows: list[Row]) -> list[bytes]:
    """The rows as gzip bodies under MAX_BODY each (a heavy page split in halves)."""
    body = gzip.compress(json.dumps(rows, separators=(",", ":")).encode())
    if len(body) <= MAX_BODY or len(rows) < 2:
        return [body]
    half = len(rows) // 2
    return _bodies(rows[:half]) + _bodies(rows[half:])


class DynamoTrainingStore:
    """`domain/recommend/training_ports.TrainingStore` on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def cursors(self) -> dict[str, TrainCursor]:
        found: dict[str, TrainCursor] = {}
        for item in self.t.partition(CURSORS, consistent=True):
            found[item["sk"]] = cursor_of(item)
        return found

    def start(self, workspace_id: str, day: str) -> TrainCursor | None:
        item = {"ws": workspace_id, "day": day, "ph": "gather", "cur": "", "pg": 0, "n": 0, "o": 0, "v": 0}
        try:
            self.t.put(
                {"pk": CURSORS, "sk": workspace_id, "t": "rec_train", **item},
                "attribute_not_exists(pk) OR #d <> :day",
                {":day": day},
                {"#d": "day"},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return cursor_of(item)

    def advance(self, cursor: TrainCursor, **changes: Any) -> TrainCursor | None:
        names = {f"#a{i}": ATTRIBUTES[name] for i, name in enumerate(changes)}
        values = {f":a{i}": to_av(value) for i, value in enumerate(changes.values())}
        sets = "".join(f"#a{i} = :a{i}, " for i in range(len(changes)))
        version = cursor.version
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": CURSORS}, "sk": {"S": cursor.workspace_id}},
                UpdateExpression=f"SET {sets}#v = :next",
                ConditionExpression="#v = :v AND #d = :day",
                ExpressionAttributeNames={**names, "#v": "v", "#d": "day"},
                ExpressionAttributeValues={
                    **values,
                    ":v": {"N": str(version)},
                    ":next": {"N": str(version + 1)},
                    ":day": {"S": cursor.day},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return dataclasses.replace(cursor, **changes, version=version + 1)

    def put_rows(self, workspace_id: str, day: str, first_item: int, rows: list[Row]) -> int:
        bodies = _bodies(rows)
        expires = int((now_utc() + ROWS_TTL).timestamp())
        for n, body in enumerate(bodies, first_item):
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#RECG",
                    "sk": f"{day}#{n:06d}",
                    "t": "rec_rows",
                    "rows": body,
                    "ttl": expires,
                }
            )
        return len(bodies)

    def rows(self, workspace_id: str, day: str) -> list[Row]:
        out: list[Row] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :day)",
            "ExpressionAttributeValues": {":pk": {"S": f"W#{workspace_id}#RECG"}, ":day": {"S": f"{day}#"}},
            "ConsistentRead": True,
        }
        while True:
            page = self.t.client.query(**kwargs)
            for raw in page.get("Items", []):
                out.extend(json.loads(gzip.decompress(raw["rows"]["B"])))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoProductCategories:
    """`domain/recommend/training_ports.ProductCategories`: the catalogue's partitions."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def categories(self, workspace_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for source in self._items(f"W#{workspace_id}#SRC", ["sk"], None):
            for item in self._items(
                catalogue_partition(workspace_id, source["sk"]), ["pid", "cat", "ty"], "P#"
            ):
                category = (item.get("cat") or [None])[0] or item.get("ty")
                if item.get("pid") is not None and category:
                    out.setdefault(str(item["pid"]), str(category))
        return out

    def _items(self, pk: str, attributes: list[str], prefix: str | None) -> list[dict[str, Any]]:
        """Every item of a partition (a sort key prefix, if given), projected."""
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":p": {"S": prefix}} if prefix else {}),
            "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(attributes))),
            "ExpressionAttributeNames": {f"#p{i}": a for i, a in enumerate(attributes)},
        }
        while True:
            page = self.t.client.query(**kwargs)
            out.extend(from_item(i) or {} for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
