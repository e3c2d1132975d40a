"""The daily tier evaluation's progress in the CRM table (domain/loyalty/tier_run.py):
`TIERRUN` / `<ws>`: `day` (YYYY-MM-DD), `cur` (the last customer evaluated), `done`, `v`
(every commit conditioned on the version read). One small item per workspace, read once
per run (docs/data-model.md#tiers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from chalicelib.adapters.codec import to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.loyalty.tier_run import TierRun

RUNS = "TIERRUN"


def run_item(run: TierRun) -> dict[str, Any]:
    """The stored progress; `run_from_item` reads it back."""
    item: dict[str, Any] = {
        "pk": RUNS,
        "sk": run.workspace_id,
        "t": "tierrun",
        "day": run.day.isoformat(),
        "done": run.done,
        "v": run.version,
    }
    if run.cursor is not None:
        item["cur"] = run.cursor
    return item


def run_from_item(item: dict[str, Any]) -> TierRun:
    return TierRun(
        workspace_id=str(item["sk"]),
        day=date.fromisoformat(str(item["day"])),
        cursor=item.get("cur"),
        done=bool(item.get("done", False)),
        version=int(item.get("v", 0)),
    )


class DynamoTierRunStore:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def progress(self, workspace_id: str, day: date) -> TierRun:
        item = self.t.get(RUNS, workspace_id, consistent=True)
        if item is None:
            return TierRun(workspace_id, day)
        stored = run_from_item(item)
        return stored if stored.day == day else TierRun(workspace_id, day, version=stored.version)

    def advance(self, run: TierRun, cursor: str | None, done: bool) -> TierRun | None:
        moved = replace(run, cursor=cursor, done=done, version=run.version + 1)
        try:
            self.t.client.put_item(
                TableName=self.t.table,
                Item=to_item(run_item(moved)),
                ConditionExpression="attribute_not_exists(pk) OR v = :v",
                ExpressionAttributeValues={":v": {"N": str(run.version)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return None
        return moved
