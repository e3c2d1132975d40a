"""The nightly job's progress in the CRM table: one cursor per workspace, gathered pages.

- cursor: `NIGHTLY` / `<ws>` (one small partition, read once per invocation): `day` (the
  run's UTC day), `ph` phase (`gather`, `apply`, `done`), `cur` (walk position), `pg`
  pages gathered, `n` profiles read, `moved` profiles handed on, `prev`/`next` (JSON:
  the scores before and after, while applying), `v` version. Every change is an
  UpdateItem conditioned on the `v` it was read at: an overlapping invocation loses and
  stops.
- gathered page: `W#<ws>#NIGHT` / `<day>#<page:06d>`: `rows`, gzip JSON of the page's
  numbers (one row per customer with orders), `ttl` three days.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from chalicelib.adapters.codec import from_item, to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc

CURSORS = "NIGHTLY"
PAGE_TTL = timedelta(days=3)


class DynamoNightlyStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def cursors(self) -> dict[str, dict[str, Any]]:
        """Every workspace's cursor (consistent: a resumed run sees the last commit)."""
        found: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": CURSORS}},
            "ConsistentRead": True,
        }
        while True:
            page = self.t.client.query(**kwargs)
            for raw in page.get("Items", []):
                item = from_item(raw) or {}
                found[item["sk"]] = item
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def start(self, workspace_id: str, day: str) -> dict[str, Any] | None:
        """A new day's run for the workspace; None when another invocation started it."""
        item = {
            "ws": workspace_id,
            "day": day,
            "ph": "gather",
            "cur": "",
            "pg": 0,
            "n": 0,
            "moved": 0,
            "v": 0,
        }
        try:
            self.t.put(
                {"pk": CURSORS, "sk": workspace_id, "t": "nightly", **item},
                "attribute_not_exists(pk) OR #d <> :day",
                {":day": day},
                {"#d": "day"},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return item

    def advance(self, cursor: dict[str, Any], **changes: Any) -> dict[str, Any] | None:
        """Commit progress at the version read; None when another invocation moved it."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values = {f":a{i}": to_av(value) for i, value in enumerate(changes.values())}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(changes)))
        version = int(cursor["v"])
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": CURSORS}, "sk": {"S": cursor["ws"]}},
                UpdateExpression=f"SET {sets + ', ' if sets else ''}#v = :next",
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={**names, "#v": "v"},
                ExpressionAttributeValues={
                    **values,
                    ":v": {"N": str(version)},
                    ":next": {"N": str(version + 1)},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return {**cursor, **changes, "v": version + 1}

    def put_rows(self, workspace_id: str, day: str, page: int, rows: list[list[Any]]) -> None:
        """A page's numbers (rewritten whole when a page is redone: the same key)."""
        body = gzip.compress(json.dumps(rows, separators=(",", ":")).encode())
        self.t.put(
            {
                "pk": f"W#{workspace_id}#NIGHT",
                "sk": f"{day}#{page:06d}",
                "t": "nightly_rows",
                "rows": body,
                "ttl": int((now_utc() + PAGE_TTL).timestamp()),
            }
        )

    def rows(self, workspace_id: str, day: str) -> list[list[Any]]:
        """Every row the day's gather stored for the workspace, in page order."""
        out: list[list[Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :day)",
            "ExpressionAttributeValues": {":pk": {"S": f"W#{workspace_id}#NIGHT"}, ":day": {"S": f"{day}#"}},
            "ConsistentRead": True,
        }
        while True:
            page = self.t.client.query(**kwargs)
            for raw in page.get("Items", []):
                out.extend(json.loads(gzip.decompress(raw["rows"]["B"])))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
