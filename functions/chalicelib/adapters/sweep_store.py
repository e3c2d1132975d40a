"""Pending segment backfills: the `SWEEP` partition the minute job reads."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.segment_values import Sweep
from chalicelib.domain.timemath import iso


def sweep_of(item: dict[str, Any]) -> Sweep:
    """A stored sweep (`nb` not before, `cur` the walk's position, `n` customers so far)."""
    return Sweep(item["ws"], item["seg"], item.get("nb"), item.get("cur"), int(item.get("n", 0)))


class DynamoSweepStore:
    """Pending segment backfills: one small partition (`SWEEP`) the minute job reads."""

    PK = "SWEEP"

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def add(self, workspace_id: str, segment_id: str, not_before: str) -> None:
        self.t.put(
            {
                "pk": self.PK,
                "sk": f"{workspace_id}#{segment_id}",
                "t": "sweep",
                "ws": workspace_id,
                "seg": segment_id,
                "nb": not_before,
                "n": 0,
                "ca": iso(now_utc()),
            }
        )

    def pending(self) -> list[Sweep]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(self.PK, limit=100, start=cursor, newest_first=False)
            items.extend(page)
            if cursor is None:
                return [sweep_of(i) for i in items]

    def advance(self, workspace_id: str, segment_id: str, cursor: str, processed: int) -> bool:
        """Record progress; False when the sweep is gone (its segment was deleted)."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": self.PK}, "sk": {"S": f"{workspace_id}#{segment_id}"}},
                UpdateExpression="SET cur = :c ADD n :n",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":c": {"S": cursor}, ":n": {"N": str(processed)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(self, workspace_id: str, segment_id: str) -> None:
        self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": self.PK}, "sk": {"S": f"{workspace_id}#{segment_id}"}},
        )

    def get(self, workspace_id: str, segment_id: str) -> Sweep | None:
        item = self.t.get(self.PK, f"{workspace_id}#{segment_id}")
        return sweep_of(item) if item is not None else None
