"""The quarantine read page by page, filtered and counted (`patron quarantine list`).

One Query of the workspace's `W#<ws>#Q` partition, newest first. The quarantine id
starts with the time it was kept (`q_<YYYYmmddTHHMMSS>_<hex>`), so a date range is a key
condition on `sk`; the source and the reason are filters. The total is the same query
with `Select=COUNT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.adapters.codec import from_item
from chalicelib.adapters.quarantine_store import DynamoQuarantine, _quarantine_view


@dataclass(frozen=True)
class QuarantineFilter:
    source_id: str | None = None
    reason: str | None = None  # a piece of the field errors: a field, a message, an error type
    since: datetime | None = None  # kept at or after
    until: datetime | None = None  # kept before


def _stamp(at: datetime) -> str:
    return f"q_{at:%Y%m%dT%H%M%S}"


class DynamoQuarantinePages(DynamoQuarantine):
    def _query(self, workspace_id: str, where: QuarantineFilter) -> dict[str, Any]:
        keys = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": f"W#{workspace_id}#Q"}}
        if where.since or where.until:
            # [since, until): an id kept in the second `until` names sorts after `q_<until>`
            keys += " AND sk BETWEEN :lo AND :hi"
            values[":lo"] = {"S": _stamp(where.since) if where.since else "q_"}
            values[":hi"] = {"S": _stamp(where.until) if where.until else "q_~"}
        filters = []
        if where.source_id:
            filters.append("src = :src")
            values[":src"] = {"S": where.source_id}
        if where.reason:
            filters.append("contains(errors, :reason)")
            values[":reason"] = {"S": where.reason}
        query: dict[str, Any] = {"KeyConditionExpression": keys, "ExpressionAttributeValues": values}
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        return query

    def count(self, workspace_id: str, where: QuarantineFilter = QuarantineFilter()) -> int:
        return self.t.count(**self._query(workspace_id, where))

    def page(
        self,
        workspace_id: str,
        limit: int = 50,
        after: str | None = None,
        where: QuarantineFilter = QuarantineFilter(),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` entries newest first, after the quarantine id `after`; and the id to
        continue after (None: nothing more)."""
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "ScanIndexForward": False,
            **self._query(workspace_id, where),
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": f"W#{workspace_id}#Q"}, "sk": {"S": after}}
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            kwargs["Limit"] = max(limit - len(found), 100)  # filters may drop most of a page
            response = self.t.client.query(**kwargs)
            for item in response.get("Items", []):
                if len(found) == limit:
                    return found, found[-1]["quarantine_id"]
                found.append(_quarantine_view(from_item(item) or {}))
            if "LastEvaluatedKey" not in response:
                return found, None
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found, found[-1]["quarantine_id"] if found else None
