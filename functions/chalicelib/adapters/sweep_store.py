"""Pending segment backfills: the `SWEEP` partition the minute job reads."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso


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

    def pending(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(self.PK, limit=100, start=cursor, newest_first=False)
            items.extend(page)
            if cursor is None:
                return items

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

    def get(self, workspace_id: str, segment_id: str) -> dict[str, Any] | None:
        return self.t.get(self.PK, f"{workspace_id}#{segment_id}")
