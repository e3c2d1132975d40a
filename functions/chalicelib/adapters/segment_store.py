"""Segment definitions (cached) in the CRM table."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.crm_table import CrmTable


class DynamoSegmentStore:
    def __init__(self, table: CrmTable, cache_seconds: float = 30) -> None:
        self.t = table
        # A warm stream processor sees a new or deleted segment within this many seconds.
        self._lists: TtlCache[list[dict[str, Any]]] = TtlCache(cache_seconds)

    def put_segment(self, workspace_id: str, item: dict[str, Any]) -> None:
        self.t.put(item, "attribute_not_exists(pk)")
        self._lists.invalidate(workspace_id)

    def get_segment(self, workspace_id: str, segment_id: str) -> dict[str, Any] | None:
        return self.t.get(f"W#{workspace_id}#SEG", segment_id, consistent=True)

    def list_segments(self, workspace_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            items, _ = self.t.query(f"W#{workspace_id}#SEG", limit=1000, newest_first=False)
            return items

        return self._lists.get(workspace_id, load)

    def delete_segment(self, workspace_id: str, segment_id: str) -> bool:
        response = self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#SEG"}, "sk": {"S": segment_id}},
            ReturnValues="ALL_OLD",
        )
        self._lists.invalidate(workspace_id)
        return "Attributes" in response
