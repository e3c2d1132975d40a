"""Quarantined raw bodies (signed but unparseable), kept gzip with a TTL."""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from chalicelib.adapters.codec import batch_write, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.person_index import index_items
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso


class DynamoQuarantine:
    """Raw bodies that were signed but could not be parsed, kept (gzip) with a TTL."""

    def __init__(self, table: CrmTable, ttl_days: int = 30) -> None:
        self.t = table
        self.ttl_days = ttl_days

    def put(
        self,
        workspace_id: str,
        source_id: str,
        platform: str,
        headers: Mapping[str, str],
        body: bytes,
        errors: list[dict[str, Any]],
        people: Sequence[str] = (),
    ) -> str:
        """`people`: the customer ids of the persons in the body, for the person index."""
        at = now_utc()
        qid = f"q_{at:%Y%m%dT%H%M%S}_{secrets.token_hex(4)}"
        self.t.put(
            {
                "pk": f"W#{workspace_id}#Q",
                "sk": qid,
                "t": "quarantine",
                "qid": qid,
                "ws": workspace_id,
                "src": source_id,
                "pl": platform,
                "hdr": dict(headers),
                "body": gzip.compress(body),
                "errors": json.dumps(errors),
                "at": iso(at),
                "state": "open",
                "ttl": int((at + timedelta(days=self.ttl_days)).timestamp()),
            }
        )
        index = index_items(workspace_id, [(pid, f"Q#{qid}") for pid in people], self.ttl_days)
        if index:
            batch_write(self.t.client, self.t.table, [{"PutRequest": {"Item": to_item(i)}} for i in index])
        return qid

    def count_open(self, workspace_id: str) -> int:
        return self.t.count(
            KeyConditionExpression="pk = :pk",
            FilterExpression="#s = :open",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":pk": {"S": f"W#{workspace_id}#Q"}, ":open": {"S": "open"}},
        )

    def get(self, workspace_id: str, qid: str) -> dict[str, Any] | None:
        item = self.t.get(f"W#{workspace_id}#Q", qid, consistent=True)
        if item is None:
            return None
        view = _quarantine_view(item)
        view["body"] = gzip.decompress(item["body"])
        return view

    def mark(self, workspace_id: str, qid: str, state: str, detail: str) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#Q"}, "sk": {"S": qid}},
            UpdateExpression="SET #s = :s, detail = :d, replayed_at = :at",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":s": {"S": state},
                ":d": {"S": detail},
                ":at": {"S": iso(now_utc()) or ""},
            },
        )


def _quarantine_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "quarantine_id": item["qid"],
        "platform": item["pl"],
        "source_id": item.get("src"),
        "received_at": item["at"],
        "headers": item.get("hdr", {}),
        "errors": json.loads(item.get("errors", "[]")),
        "state": item.get("state", "open"),
        "detail": item.get("detail"),
    }
