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

import dataclasses
import gzip
import json
from datetime import timedelta
from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.nightly_cursor import NightlyCursor

CURSORS = "NIGHTLY"
# NightlyCursor's fields by their attribute names in the cursor item
ATTRIBUTES = {
    "workspace_id": "ws",
    "day": "day",
    "phase": "ph",
    "position": "cur",
    "pages": "pg",
    "profiles_read": "n",
    "moved": "moved",
    "prev": "prev",
    "next": "next",
    "version": "v",
}


def cursor_of(item: dict[str, Any]) -> NightlyCursor:
    return NightlyCursor(
        workspace_id=item["ws"],
        day=item["day"],
        phase=item["ph"],
        position=item.get("cur", ""),
        pages=int(item.get("pg", 0)),
        profiles_read=int(item.get("n", 0)),
        moved=int(item.get("moved", 0)),
        prev=item.get("prev"),
        next=item.get("next"),
        version=int(item["v"]),
    )


PAGE_TTL = timedelta(days=3)


class DynamoNightlyStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def cursors(self) -> dict[str, NightlyCursor]:
        """Every workspace's cursor (consistent: a resumed run sees the last commit)."""
        found: dict[str, NightlyCursor] = {}
        for item in self.t.partition(CURSORS, consistent=True):
            found[item["sk"]] = cursor_of(item)
        return found

    def start(self, workspace_id: str, day: str) -> NightlyCursor | None:
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
        return cursor_of(item)

    def advance(self, cursor: NightlyCursor, **changes: Any) -> NightlyCursor | None:
        """Commit progress at the version read; None when another invocation moved it."""
        stored = {ATTRIBUTES[name]: value for name, value in changes.items()}
        if not self.t.advance_version(CURSORS, cursor.workspace_id, stored, cursor.version):
            return None
        return dataclasses.replace(cursor, **changes, version=cursor.version + 1)

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
        for item in self.t.partition(f"W#{workspace_id}#NIGHT", consistent=True, prefix=f"{day}#"):
            out.extend(json.loads(gzip.decompress(item["rows"])))
        return out
