"""A workspace's settings as the API and the CLI read and write them together, with their
version `sv` on the workspace item (docs/data-model.md; the attributes are workspace_store's)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.workspace_store import DynamoWorkspaceStore, source_of, workspace_settings_of
from chalicelib.domain.models import Source
from chalicelib.domain.workspace_api.model import SettingsChanges
from chalicelib.domain.workspace_settings import WorkspaceSettings


def settings_update(changes: SettingsChanges, expected: int | None) -> dict[str, Any]:
    """UpdateItem arguments (no table, no key) that write `changes` and move `sv` by one, if
    it is still `expected` (0: never written)."""
    values: dict[str, Any] = {
        "notify": sorted(changes.notifications) if changes.notifications else None,
        "sender": changes.sender_email,
        "smsid": changes.sms_sender_id,
        "attrd": changes.attribution_days,
        "engr": changes.engagement,
        "qs": changes.quiet_start,
        "qe": changes.quiet_end,
        "caps": changes.daily_caps,
        "lowd": changes.low_every_days,
        "dtz": changes.default_timezone,
        "noc": changes.no_marketing_on_open_complaint,
    }
    sets = {k: v for k, v in values.items() if v is not None}
    names = {f"#{k}": k for k in sets} | {"#sv": "sv"}
    attributes: dict[str, Any] = {f":{k}": to_av(v) for k, v in sets.items() if k != "notify"}
    if "notify" in sets:
        attributes[":notify"] = {"SS": sets["notify"]}
    attributes |= {":one": {"N": "1"}, ":zero": {"N": "0"}}
    expression = "SET " + ", ".join(
        [*(f"#{k} = :{k}" for k in sets), "#sv = if_not_exists(#sv, :zero) + :one"]
    )
    if changes.notifications is not None and not changes.notifications:
        names["#notify"] = "notify"
        expression += " REMOVE #notify"
    condition = "attribute_exists(pk)"
    if expected is not None:
        attributes[":v"] = {"N": str(expected)}
        condition += " AND (#sv = :v" + (" OR attribute_not_exists(#sv))" if expected == 0 else ")")
    return {
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": attributes,
    }


class DynamoSettingsStore:
    def __init__(self, table: CrmTable, workspaces: DynamoWorkspaceStore) -> None:
        self.t = table
        self.workspaces = workspaces  # its cached settings are dropped after a write

    def current(self, workspace_id: str) -> tuple[WorkspaceSettings, int] | None:
        item = self.t.get(f"WS#{workspace_id}", "WS", consistent=True)
        if item is None:
            return None
        return workspace_settings_of(workspace_id, item), int(item.get("sv", 0))

    def sources(self, workspace_id: str) -> list[Source]:
        return [source_of(item) for item in self.workspaces.sources(workspace_id)]

    def update(self, workspace_id: str, changes: SettingsChanges, expected: int | None) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
                **settings_update(changes, expected),
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        finally:
            self.workspaces.forget_settings(workspace_id)
        return True
