"""SLA operations in the CRM table and on SNS (docs/data-model.md, "SLA settings, alerts and
the SLA report"): the settings item (`W#<ws>#SVC` / `SLA`, versioned), the alert markers in
the ticket's partition (`A#<target>#<level>#<due at>`, written with the `sla_alert` event
and the head in one transaction), the tickets created in a period (the queue partitions'
sort key range), and the ServiceAlerts topic."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.adapters.codec import to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.ticket_store import event_item, head_item, queue_pk, ticket_pk
from chalicelib.domain.service.model import Ticket, TicketEvent, TicketStatus
from chalicelib.domain.service.sla_ports import Recorded, SlaAlert
from chalicelib.domain.service.sla_settings import SlaSettingsIn, StoredSettings
from chalicelib.domain.timemath import iso, parse_iso

SETTINGS_SK = "SLA"
ALERTS = "A#"


def settings_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#SVC"


def settings_item(workspace_id: str, settings: SlaSettingsIn, version: int, by: str) -> dict[str, Any]:
    return {
        "pk": settings_pk(workspace_id),
        "sk": SETTINGS_SK,
        "t": "sla_settings",
        "v": version,
        "doc": settings.model_dump_json(),
        "by": by,
    }


def settings_of(item: dict[str, Any]) -> StoredSettings:
    return StoredSettings(SlaSettingsIn.model_validate_json(str(item["doc"])), int(item["v"]))


def marker_item(alert: SlaAlert, seq: int, claim_until: datetime) -> dict[str, Any]:
    return {
        "pk": ticket_pk(alert.workspace_id, alert.ticket_id),
        "sk": ALERTS + alert.key,
        "t": "sla_alert",
        "pol": alert.policy_id,
        "seq": seq,
        "cl": iso(claim_until),
    }


def alert_of(workspace_id: str, ticket_id: str, item: dict[str, Any]) -> SlaAlert:
    target, level, due = str(item["sk"]).removeprefix(ALERTS).split("#", 2)
    at = parse_iso(due)
    assert at is not None
    return SlaAlert(workspace_id, ticket_id, target, level, at, str(item["pol"]))  # type: ignore[arg-type]


class DynamoSlaSettingsStore:
    """service.sla_settings.SlaSettingsStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def read(self, workspace_id: str) -> StoredSettings | None:
        item = self.t.get(settings_pk(workspace_id), SETTINGS_SK, consistent=True)
        return None if item is None else settings_of(item)

    def write(self, workspace_id: str, settings: SlaSettingsIn, expected: int, by: str) -> bool:
        condition = "attribute_not_exists(pk)" if expected == 0 else "v = :v"
        check = None if expected == 0 else {":v": expected}
        try:
            self.t.put(settings_item(workspace_id, settings, expected + 1, by), condition, check)
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


class DynamoSlaAlertLog:
    """service.sla_ports.SlaAlertLog on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def record(
        self, before: Ticket, event: TicketEvent, after: Ticket, alert: SlaAlert, claim_until: datetime
    ) -> Recorded:
        name, new = self.t.table, "attribute_not_exists(pk)"
        actions = [
            {
                "Put": {
                    "TableName": name,
                    "Item": to_item(marker_item(alert, after.seq, claim_until)),
                    "ConditionExpression": new,
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": to_item(event_item(after.workspace_id, after.id, after.seq, event)),
                    "ConditionExpression": new,
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": to_item(head_item(after)),
                    "ConditionExpression": "seq = :seq",
                    "ExpressionAttributeValues": {":seq": {"N": str(before.seq)}},
                }
            },
        ]
        if self.t.transact(actions):
            return "recorded"
        marker = self.t.get(
            ticket_pk(alert.workspace_id, alert.ticket_id), ALERTS + alert.key, consistent=True
        )
        return "exists" if marker is not None else "conflict"

    def unpublished(self, workspace_id: str, ticket_id: str, now: datetime) -> list[SlaAlert]:
        found: list[SlaAlert] = []
        start: str | None = None
        lapsed = iso(now) or ""
        while True:
            page, start = self.t.query(
                ticket_pk(workspace_id, ticket_id),
                100,
                start,
                newest_first=False,
                prefix=ALERTS,
                consistent=True,
            )
            found.extend(
                alert_of(workspace_id, ticket_id, i)
                for i in page
                if "pub" not in i and str(i.get("cl") or "") < lapsed
            )
            if start is None:
                return found

    def claim(self, alert: SlaAlert, now: datetime, until: datetime) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={
                    "pk": {"S": ticket_pk(alert.workspace_id, alert.ticket_id)},
                    "sk": {"S": ALERTS + alert.key},
                },
                UpdateExpression="SET cl = :until",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(pub) AND cl < :now",
                ExpressionAttributeValues={":until": {"S": iso(until) or ""}, ":now": {"S": iso(now) or ""}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def published(self, alert: SlaAlert, at: datetime) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key={
                "pk": {"S": ticket_pk(alert.workspace_id, alert.ticket_id)},
                "sk": {"S": ALERTS + alert.key},
            },
            UpdateExpression="SET pub = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": {"S": iso(at) or ""}},
        )


class DynamoTicketsCreated:
    """service.sla_ports.TicketsCreated: the queue partitions (one per status, sorted by
    `<created at>#<ticket id>`), each a `Query` on the sort key's range."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def created_between(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[list[str], bool]:
        found: list[tuple[str, str]] = []
        for status in TicketStatus:
            kwargs: dict[str, Any] = {
                "TableName": self.t.table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {
                    ":pk": {"S": queue_pk(workspace_id, status)},
                    ":a": {"S": iso(start) or ""},  # `<created at>#<id>` sorts after it
                    ":b": {"S": iso(end) or ""},  # and one created at `end` after this
                },
                "ProjectionExpression": "sk, tid",
                "Limit": limit + 1,
            }
            read = 0
            while read <= limit:
                page = self.t.client.query(**kwargs)
                items = page.get("Items", [])
                read += len(items)
                found.extend((i["sk"]["S"], i["tid"]["S"]) for i in items)
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found.sort()
        return [tid for _sk, tid in found[:limit]], len(found) > limit


class SnsAlertPublisher:
    """service.sla_ports.AlertPublisher: the ServiceAlerts topic (no personal data: ids, the
    target, the level, the due instant and the policy)."""

    def __init__(self, sns: Any, topic_arn: str | None) -> None:
        self.sns = sns
        self.topic_arn = topic_arn

    def publish(self, alert: SlaAlert) -> None:
        if not self.topic_arn:
            raise RuntimeError("PATRON_SERVICE_ALERTS_TOPIC_ARN is not set: the SLA alerts have no topic")
        message = alert.message()
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=f"SLA {alert.level}: {alert.target}",
            Message=json.dumps(message, sort_keys=True),
            MessageAttributes={
                "level": {"DataType": "String", "StringValue": alert.level},
                "workspace_id": {"DataType": "String", "StringValue": alert.workspace_id},
            },
        )
