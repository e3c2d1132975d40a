"""Campaigns in the CRM table, and their batches on SQS.

- `W#<ws>#CAMP` / `<campaign id>`: the campaign, its status, phase, member cursor and
  counters (conditional updates and `ADD` only);
- `CAMPQ` / `<ws>#<campaign id>`: the campaigns the minute job looks at (scheduled,
  sending, paused), one small partition;
- `W#<ws>#CAMPB#<campaign id>` / `<batch id>`: a paused campaign's parked batches;
- `W#<ws>#CAMPX#<campaign id>` / `<batch id>`: a cancelled campaign's batches dropped,
  so that a redelivered one is counted once;
- `CAMPDUE` / `<due time>#<ws>#<campaign id>#<batch id>`: batches held until a time
  further away than the queue can delay (quiet hours, caps).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.retry import send_message_batch
from chalicelib.domain.timemath import iso

DUE_PK = "CAMPDUE"
ACTIVE_PK = "CAMPQ"
PARKED_DAYS = 30  # parked and held batches expire (ttl) after this long


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class DynamoCampaigns:
    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def _pk(self, workspace_id: str) -> str:
        return f"W#{workspace_id}#CAMP"

    def create(self, workspace_id: str, item: dict[str, Any]) -> None:
        self.t.put(
            {"pk": self._pk(workspace_id), "sk": item["id"], "t": "campaign", **item},
            "attribute_not_exists(pk)",
        )

    def get(self, workspace_id: str, campaign_id: str) -> dict[str, Any] | None:
        return self.t.get(self._pk(workspace_id), campaign_id, consistent=True)

    def _update(
        self,
        workspace_id: str,
        campaign_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": _key(self._pk(workspace_id), campaign_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {k: to_av(v) for k, v in values.items()},
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self.t.client.update_item(**kwargs)
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def transition(
        self,
        workspace_id: str,
        campaign_id: str,
        allowed: tuple[str, ...],
        status: str,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        sets = ["st = :to"] + [f"#x{i} = :x{i}" for i in range(len(extra or {}))]
        values: dict[str, Any] = {":to": status}
        names: dict[str, str] = {}
        for i, (name, value) in enumerate((extra or {}).items()):
            names[f"#x{i}"], values[f":x{i}"] = name, value
        allowed_names = []
        for i, state in enumerate(allowed):
            values[f":a{i}"] = state
            allowed_names.append(f":a{i}")
        changed = self._update(
            workspace_id,
            campaign_id,
            "SET " + ", ".join(sets),
            f"st IN ({', '.join(allowed_names)})",
            values,
            names or None,
        )
        if changed and status in ("scheduled", "sending"):
            self.t.put({"pk": ACTIVE_PK, "sk": f"{workspace_id}#{campaign_id}", "t": "campaign_active"})
        return changed

    def set_phase(
        self, workspace_id: str, campaign_id: str, phase: str, new_phase: str, extra: dict[str, Any]
    ) -> bool:
        sets = ["ph = :new"] + [f"#x{i} = :x{i}" for i in range(len(extra))]
        values: dict[str, Any] = {":new": new_phase, ":old": phase, ":sending": "sending"}
        names: dict[str, str] = {}
        for i, (name, value) in enumerate(extra.items()):
            names[f"#x{i}"], values[f":x{i}"] = name, value
        return self._update(
            workspace_id,
            campaign_id,
            "SET " + ", ".join(sets) + " REMOVE cur",
            "ph = :old AND st = :sending",
            values,
            names or None,
        )

    def advance(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        cursor: str | None,
        new_cursor: str | None,
        counts: dict[str, int],
        carry: list[dict[str, str]],
    ) -> bool:
        """The cursor moves from where this run read to where it stopped, once, with the
        recipients carried to the next page."""
        values: dict[str, Any] = {
            ":ph": phase,
            ":sending": "sending",
            ":e": counts["enq"],
            ":s": counts["skip"],
        }
        condition = "st = :sending AND ph = :ph AND "
        if cursor is None:
            condition += "attribute_not_exists(cur)"
        else:
            condition += "cur = :old"
            values[":old"] = cursor
        sets, removes = [], []
        if new_cursor is None:
            removes.append("cur")
        else:
            sets.append("cur = :new")
            values[":new"] = new_cursor
        if carry:
            sets.append("carry = :carry")
            values[":carry"] = carry
        else:
            removes.append("carry")
        update = (
            ("SET " + ", ".join(sets) + " " if sets else "")
            + ("REMOVE " + ", ".join(removes) + " " if removes else "")
            + "ADD enq :e, skip :s"
        )
        return self._update(workspace_id, campaign_id, update, condition, values, None)

    def add(self, workspace_id: str, campaign_id: str, counts: dict[str, int]) -> None:
        self.t.add_counts(self._pk(workspace_id), campaign_id, counts, must_exist=True)

    def all(self, workspace_id: str) -> list[dict[str, Any]]:
        """The workspace's campaigns (`patron campaign list`): one Query of its partition."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(self._pk(workspace_id), limit=200, start=cursor, newest_first=False)
            found.extend(page)
            if cursor is None:
                return found

    def active(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(ACTIVE_PK, limit=200, start=cursor, newest_first=False)
            for item in page:
                workspace_id, _, campaign_id = item["sk"].partition("#")
                found.append((workspace_id, campaign_id))
            if cursor is None:
                return found

    def deactivate(self, workspace_id: str, campaign_id: str) -> None:
        self.t.client.delete_item(
            TableName=self.t.table, Key=_key(ACTIVE_PK, f"{workspace_id}#{campaign_id}")
        )

    def _ttl(self) -> int:
        from chalicelib.domain.models import now_utc

        return int((now_utc() + timedelta(days=PARKED_DAYS)).timestamp())

    def park(self, workspace_id: str, campaign_id: str, batch: dict[str, Any]) -> None:
        self.t.put(
            {
                "pk": f"W#{workspace_id}#CAMPB#{campaign_id}",
                "sk": batch["b"],
                "t": "campaign_batch",
                "body": json.dumps(batch),
                "ttl": self._ttl(),
            }
        )

    def parked(self, workspace_id: str, campaign_id: str) -> list[dict[str, Any]]:
        batches: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(
                f"W#{workspace_id}#CAMPB#{campaign_id}", limit=500, start=cursor, newest_first=False
            )
            batches.extend(json.loads(item["body"]) for item in page)
            if cursor is None:
                return batches

    def unpark(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        """True for the one caller that removed it."""
        try:
            self.t.client.delete_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAMPB#{campaign_id}", batch_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def drop_once(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        """True the first time this batch is dropped (a cancelled campaign's batch)."""
        try:
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#CAMPX#{campaign_id}",
                    "sk": batch_id,
                    "t": "campaign_dropped_batch",
                    "ttl": self._ttl(),
                },
                "attribute_not_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def hold(self, due: datetime, batch: dict[str, Any]) -> None:
        self.t.put(
            {
                "pk": DUE_PK,
                "sk": f"{iso(due)}#{batch['ws']}#{batch['camp']}#{batch['b']}",
                "t": "campaign_due",
                "body": json.dumps(batch),
                "ttl": self._ttl(),
            }
        )

    def due(self, now: datetime, limit: int) -> list[tuple[str, dict[str, Any]]]:
        response = self.t.client.query(
            TableName=self.t.table,
            KeyConditionExpression="pk = :pk AND sk <= :now",
            ExpressionAttributeValues={":pk": {"S": DUE_PK}, ":now": {"S": f"{iso(now)}#~"}},
            Limit=limit,
            ConsistentRead=True,
        )
        return [(i["sk"]["S"], json.loads(i["body"]["S"])) for i in response.get("Items", [])]

    def release(self, due_key: str) -> None:
        self.t.client.delete_item(TableName=self.t.table, Key=_key(DUE_PK, due_key))


class SqsCampaignQueue:
    """Campaign batches on SQS, ten messages per SendMessageBatch; a failed entry is sent
    again with backoff, and raises if it still fails (the caller has not saved its cursor yet)."""

    def __init__(self, client: Any, queue_url: str, max_delay: int = 900) -> None:
        self._client = client
        self.queue_url = queue_url
        self.max_delay = max(0, min(900, max_delay))

    def enqueue(self, batches: list[tuple[dict[str, Any], int]]) -> None:
        for start in range(0, len(batches), 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps(body, separators=(",", ":")),
                    "DelaySeconds": max(0, min(self.max_delay, delay)),
                }
                for i, (body, delay) in enumerate(batches[start : start + 10])
            ]
            send_message_batch(self._client, self.queue_url, entries)

    def retry_in(self, receipt: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=max(0, min(43_200, seconds))
        )
