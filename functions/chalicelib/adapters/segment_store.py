"""Segment definitions (cached) in the CRM table."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.segment_values import SegmentDefinition


def segment_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SEG"


def segment_item(segment: SegmentDefinition) -> dict[str, Any]:
    """The stored item of a segment definition (the layout is unchanged since the first release)."""
    return {
        "pk": segment_pk(segment.workspace_id),
        "sk": segment.segment_id,
        "t": "segment",
        "ws": segment.workspace_id,
        "name": segment.name,
        "definition": segment.definition,
        "ca": segment.created_at,
    }


def segment_of(item: dict[str, Any]) -> SegmentDefinition:
    return SegmentDefinition(
        workspace_id=item["ws"],
        segment_id=item["sk"],
        name=item["name"],
        definition=item["definition"],
        created_at=item["ca"],
    )


class DynamoSegmentStore:
    def __init__(self, table: CrmTable, cache_seconds: float = 30) -> None:
        self.t = table
        # A warm stream processor sees a new or deleted segment within this many seconds.
        self._lists: TtlCache[list[SegmentDefinition]] = TtlCache(cache_seconds)

    def put_segment(self, segment: SegmentDefinition) -> None:
        self.t.put(segment_item(segment), "attribute_not_exists(pk)")
        self._lists.invalidate(segment.workspace_id)

    def get_segment(self, workspace_id: str, segment_id: str) -> SegmentDefinition | None:
        item = self.t.get(segment_pk(workspace_id), segment_id, consistent=True)
        return segment_of(item) if item is not None else None

    def list_segments(self, workspace_id: str) -> list[SegmentDefinition]:
        def load() -> list[SegmentDefinition]:
            items, _ = self.t.query(segment_pk(workspace_id), limit=1000, newest_first=False)
            return [segment_of(i) for i in items]

        return self._lists.get(workspace_id, load)

    def delete_segment(self, workspace_id: str, segment_id: str) -> bool:
        response = self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": segment_pk(workspace_id)}, "sk": {"S": segment_id}},
            ReturnValues="ALL_OLD",
        )
        self._lists.invalidate(workspace_id)
        return "Attributes" in response
