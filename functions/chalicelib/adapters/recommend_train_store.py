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
        stored = {ATTRIBUTES[name]: value for name, value in changes.items()}
        if not self.t.advance_version(CURSORS, cursor.workspace_id, stored, cursor.version, cursor.day):
            return None
        return dataclasses.replace(cursor, **changes, version=cursor.version + 1)

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
        for item in self.t.partition(f"W#{workspace_id}#RECG", consistent=True, prefix=f"{day}#"):
            out.extend(json.loads(gzip.decompress(item["rows"])))
        return out


class DynamoProductCategories:
    """`domain/recommend/training_ports.ProductCategories`: the catalogue's partitions."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def categories(self, workspace_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for source in self.t.partition(f"W#{workspace_id}#SRC", attributes=["sk"]):
            for item in self.t.partition(
                catalogue_partition(workspace_id, source["sk"]), prefix="P#", attributes=["pid", "cat", "ty"]
            ):
                category = (item.get("cat") or [None])[0] or item.get("ty")
                if item.get("pid") is not None and category:
                    out.setdefault(str(item["pid"]), str(category))
        return out
