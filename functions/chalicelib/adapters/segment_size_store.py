"""Segment size points and the day's marker in the CRM table (docs/data-model.md): the
item layout both ways (`size_item`, `size_point`), one function each."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.adapters.codec import from_item
from chalicelib.adapters.crm_table import CrmTable

POINT_DAYS = 400
MARKER_DAYS = 3


def _pk(workspace_id: str, segment_id: str | None = None) -> str:
    return f"W#{workspace_id}#SEGSZ" + (f"#{segment_id}" if segment_id is not None else "")


def _ttl(day: date, days: int) -> int:
    return int(datetime.combine(day + timedelta(days=days), time(), UTC).timestamp())


def size_item(workspace_id: str, segment_id: str, day: date, size: int) -> dict[str, Any]:
    return {
        "pk": _pk(workspace_id, segment_id),
        "sk": day.isoformat(),
        "t": "segsize",
        "n": size,
        "ttl": _ttl(day, POINT_DAYS),
    }


def size_point(item: dict[str, Any]) -> tuple[date, int]:
    return date.fromisoformat(str(item["sk"])), int(item["n"])


class DynamoSegmentSizeLog:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def done(self, workspace_id: str, day: date) -> bool:
        return self.t.get(_pk(workspace_id), day.isoformat()) is not None

    def record(self, workspace_id: str, segment_id: str, day: date, size: int) -> None:
        # the day's point already written: the first count of the day stays
        with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
            self.t.put(size_item(workspace_id, segment_id, day, size), condition="attribute_not_exists(pk)")

    def finish(self, workspace_id: str, day: date) -> None:
        marker = {
            "pk": _pk(workspace_id),
            "sk": day.isoformat(),
            "t": "segsizes",
            "ttl": _ttl(day, MARKER_DAYS),
        }
        self.t.put(marker)

    def sizes(self, workspace_id: str, segment_id: str, first: date, last: date) -> list[tuple[date, int]]:
        found: list[tuple[date, int]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":pk": {"S": _pk(workspace_id, segment_id)},
                ":a": {"S": first.isoformat()},
                ":b": {"S": last.isoformat()},
            },
        }
        while True:
            response = self.t.client.query(**kwargs)
            found += [size_point(from_item(i) or {}) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
