"""Satisfaction surveys in the CRM table (docs/data-model.md, "CSAT"): the workspace's
settings, the due queue (one partition per due hour, all workspaces), the job's watermark,
and the delivered surveys in one partition per workspace and sending day (the report's
bounded reads). No personal data: ids, times, scores and reasons; comments stay on the
ticket's events (which the erasure redacts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.adapters.codec import from_item, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.service.csat import CsatSettings, SurveyFact
from chalicelib.domain.service.ports import DueSurvey
from chalicelib.domain.timemath import iso, parse_iso

SETTINGS_SK = "SET"
WATERMARK = "CSATDUE"
DUE_TTL = timedelta(days=90)


def settings_pk(workspace_id: str) -> str:
    return f"W#{workspace_id}#CSAT"


def due_pk(hour: datetime) -> str:
    return "CSATDUE#" + hour.astimezone(UTC).strftime("%Y-%m-%dT%H")


def due_sk(due: DueSurvey) -> str:
    return f"{iso(due.due_at)}#{due.workspace_id}#{due.ticket_id}#{due.resolution}#{due.action}"


def fact_pk(workspace_id: str, day: date) -> str:
    return f"W#{workspace_id}#CSATD#{day.isoformat()}"


def fact_key(workspace_id: str, sent_at: datetime, ticket_id: str, resolution: int) -> dict[str, Any]:
    return {
        "pk": {"S": fact_pk(workspace_id, sent_at.astimezone(UTC).date())},
        "sk": {"S": f"{ticket_id}#{resolution}"},
    }


def _at(value: Any) -> datetime:
    parsed = parse_iso(str(value))
    assert parsed is not None
    return parsed


class DynamoCsatStore:
    """service.ports.CsatStore on the CRM table."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def settings(self, workspace_id: str) -> CsatSettings | None:
        item = self.t.get(settings_pk(workspace_id), SETTINGS_SK, consistent=True)
        if item is None:
            return None
        return CsatSettings(
            enabled=bool(item["en"]),
            delay_minutes=int(item["dm"]),
            expiry_days=int(item["xd"]),
            channel=str(item["ch"]),
            reasons=[str(r) for r in item["rs"]],
        )

    def save_settings(self, workspace_id: str, settings: CsatSettings) -> None:
        self.t.put(
            {
                "pk": settings_pk(workspace_id),
                "sk": SETTINGS_SK,
                "t": "csat_settings",
                "en": settings.enabled,
                "dm": settings.delay_minutes,
                "xd": settings.expiry_days,
                "ch": settings.channel,
                "rs": list(settings.reasons),
            }
        )

    def file(self, due: DueSurvey) -> None:
        self.t.put(
            {
                "pk": due_pk(due.due_at),
                "sk": due_sk(due),
                "t": "csat_due",
                "ws": due.workspace_id,
                "tid": due.ticket_id,
                "n": due.resolution,
                "a": due.action,
                "at": iso(due.due_at),
                "ttl": int((due.due_at + DUE_TTL).timestamp()),
            }
        )

    def due(self, hour: datetime, until: datetime, limit: int) -> list[DueSurvey]:
        response = self.t.client.query(
            TableName=self.t.table,
            KeyConditionExpression="pk = :pk AND sk <= :u",
            ExpressionAttributeValues={":pk": {"S": due_pk(hour)}, ":u": {"S": f"{iso(until)}#~"}},
            Limit=limit,
            ConsistentRead=True,
        )
        found = []
        for raw in response.get("Items", []):
            item = from_item(raw) or {}
            ws, tid, n, at = str(item["ws"]), str(item["tid"]), int(item["n"]), _at(item["at"])
            found.append(DueSurvey(ws, tid, n, at, "expire" if item["a"] == "expire" else "send"))
        return found

    def done(self, due: DueSurvey) -> None:
        key = {"pk": {"S": due_pk(due.due_at)}, "sk": {"S": due_sk(due)}}
        self.t.client.delete_item(TableName=self.t.table, Key=key)

    def watermark(self) -> datetime | None:
        until = self.t.watermark(WATERMARK)
        return parse_iso(until) if until else None

    def set_watermark(self, hour: datetime) -> None:
        self.t.set_watermark(WATERMARK, iso(hour) or "")

    def fact_sent(self, fact: SurveyFact) -> None:
        key = fact_key(fact.workspace_id, fact.sent_at, fact.ticket_id, fact.resolution)
        item = {
            "t": "csat_fact",
            "tid": fact.ticket_id,
            "n": fact.resolution,
            "sat": iso(fact.sent_at),
            "ag": fact.agent,
            "k": fact.kind,
        }
        try:
            self.t.client.put_item(
                TableName=self.t.table,
                Item=key | to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # written before (a replay), or withdrawn meanwhile: kept as it is

    def fact_answered(
        self,
        workspace_id: str,
        sent_at: datetime,
        ticket_id: str,
        resolution: int,
        score: int,
        reason: str | None,
    ) -> bool:
        update = "SET sc = :s" + (", rs = :r" if reason else " REMOVE rs")
        values: dict[str, Any] = {":s": {"N": str(score)}} | ({":r": {"S": reason}} if reason else {})
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=fact_key(workspace_id, sent_at, ticket_id, resolution),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(sat) AND attribute_not_exists(wd)",
                ExpressionAttributeValues=values,
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def fact_withdrawn(self, workspace_id: str, sent_at: datetime, ticket_id: str, resolution: int) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=fact_key(workspace_id, sent_at, ticket_id, resolution),
            UpdateExpression="SET wd = :y, t = :t",
            ExpressionAttributeValues={":y": {"BOOL": True}, ":t": {"S": "csat_fact"}},
        )

    def facts(self, workspace_id: str, day: date) -> list[SurveyFact]:
        found: list[SurveyFact] = []
        start: str | None = None
        while True:
            items, start = self.t.query(fact_pk(workspace_id, day), 1000, start, newest_first=False)
            for item in items:
                if "sat" not in item:
                    continue  # withdrawn before its fact was written: nothing to count
                found.append(
                    SurveyFact(
                        workspace_id=workspace_id,
                        ticket_id=str(item["tid"]),
                        resolution=int(item["n"]),
                        sent_at=_at(item["sat"]),
                        agent=None if item.get("ag") is None else str(item["ag"]),
                        kind=str(item["k"]),
                        score=None if item.get("sc") is None else int(item["sc"]),
                        reason=None if item.get("rs") is None else str(item["rs"]),
                        withdrawn=bool(item.get("wd")),
                    )
                )
            if start is None:
                return found
