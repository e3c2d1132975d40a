"""In-memory TrainingStore and ProductCategories with the DynamoDB adapters' rules (cursor
changes only at the version and day read; a run started only when the stored one is of
another day; rows read back in item order). tests/integration/test_contract_recommend_train_store.py
holds the training store's fake and adapter to the same scenarios."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from chalicelib.domain.recommend.training_ports import Row, TrainCursor


class FakeTrainingStore:
    def __init__(self) -> None:
        self.saved: dict[str, TrainCursor] = {}
        self.items: dict[tuple[str, str], list[Row]] = {}  # (ws, "<day>#<n:06d>") -> rows
        self.advances = 0

    def cursors(self) -> dict[str, TrainCursor]:
        return dict(self.saved)

    def start(self, workspace_id: str, day: str) -> TrainCursor | None:
        current = self.saved.get(workspace_id)
        if current is not None and current.day == day:
            return None
        self.saved[workspace_id] = TrainCursor(workspace_id, day)
        return self.saved[workspace_id]

    def advance(self, cursor: TrainCursor, **changes: Any) -> TrainCursor | None:
        current = self.saved.get(cursor.workspace_id)
        if current is None or current.version != cursor.version or current.day != cursor.day:
            return None
        self.advances += 1
        moved = dataclasses.replace(cursor, **changes, version=cursor.version + 1)
        self.saved[cursor.workspace_id] = moved
        return moved

    def put_rows(self, workspace_id: str, day: str, first_item: int, rows: list[Row]) -> int:
        self.items[(workspace_id, f"{day}#{first_item:06d}")] = copy.deepcopy(rows)
        return 1

    def rows(self, workspace_id: str, day: str) -> list[Row]:
        keys = sorted(k for k in self.items if k[0] == workspace_id and k[1].startswith(f"{day}#"))
        return [row for k in keys for row in copy.deepcopy(self.items[k])]


class FakeProductCategories:
    def __init__(self, categories: dict[str, dict[str, str]] | None = None) -> None:
        self.by_workspace = categories or {}

    def categories(self, workspace_id: str) -> dict[str, str]:
        return dict(self.by_workspace.get(workspace_id, {}))
