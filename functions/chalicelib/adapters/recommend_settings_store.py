"""The recommendation placements in the CRM table: one versioned item `W#<ws>#RECSET` / `S`
(docs/data-model.md, "Recommendation placements and serving"), apart from the stored
model's `W#<ws>#REC` partition."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.recommend.placements import RecommendationSettingsIn, StoredPlacements

SK = "S"


def settings_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#RECSET"


def settings_item(
    workspace_id: str, settings: RecommendationSettingsIn, version: int, by: str
) -> dict[str, Any]:
    return {
        "pk": settings_pk(workspace_id),
        "sk": SK,
        "t": "rec_settings",
        "v": version,
        "doc": settings.model_dump_json(),
        "by": by,
    }


class DynamoPlacementStore:
    """recommend.placements.PlacementStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def read(self, workspace_id: str) -> StoredPlacements | None:
        item = self.t.get(settings_pk(workspace_id), SK, consistent=True)
        if item is None:
            return None
        return StoredPlacements(
            RecommendationSettingsIn.model_validate_json(str(item["doc"])), int(item["v"])
        )

    def write(self, workspace_id: str, settings: RecommendationSettingsIn, expected: int, by: str) -> bool:
        condition = "attribute_not_exists(pk)" if expected == 0 else "v = :v"
        check = None if expected == 0 else {":v": expected}
        try:
            self.t.put(settings_item(workspace_id, settings, expected + 1, by), condition, check)
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
