"""Erasure of profiles, redaction of ingest items, privacy audit and exports."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.codec import to_av
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.customer_edits import erase_edits
from chalicelib.adapters.enrolment_store import delete_audit
from chalicelib.adapters.entry_store import EntryItems
from chalicelib.adapters.ingest_store import order_keys
from chalicelib.adapters.points_tally import DynamoPointsTally
from chalicelib.adapters.profile_items import profile_pk
from chalicelib.adapters.profile_store import ERASED_SK
from chalicelib.adapters.tier_store import erase_tiers
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso


def export_item(workspace_id: str, request_id: str, payload: bytes, ttl_days: int) -> dict[str, Any]:
    """A data-request export, kept `ttl_days` (docs/data-model.md)."""
    at = now_utc()
    return {
        "pk": f"W#{workspace_id}#PRIVACY",
        "sk": f"export#{request_id}",
        "t": "export",
        "rid": request_id,
        "body": payload,
        "at": iso(at),
        "ttl": int((at + timedelta(days=ttl_days)).timestamp()),
    }


class DynamoPrivacyStore:
    """Erasure of profiles, redaction of ingest items, privacy audit and exports."""

    def __init__(self, table: CrmTable, ingest_client: Any, ingest_table: str) -> None:
        self.t = table
        self.ingest_client = ingest_client
        self.ingest_table = ingest_table

    def erase_profile(self, workspace_id: str, customer_id: str, pointer_ids: list[str]) -> int:
        deleted = 0
        client = self.t.client
        for pointer_id in dict.fromkeys(pointer_ids):
            try:  # only pointers into this profile; a shared id that moved elsewhere stays
                client.delete_item(
                    TableName=self.t.table,
                    Key={"pk": {"S": profile_pk(workspace_id, pointer_id)}, "sk": {"S": "P"}},
                    ConditionExpression="#into = :cid",
                    ExpressionAttributeNames={"#into": "into"},
                    ExpressionAttributeValues={":cid": {"S": customer_id}},
                )
                deleted += 1
            except client.exceptions.ConditionalCheckFailedException:
                continue
        # Its moved order entries, and those of the profiles merged into it, go first: a
        # retry of the request finds the profile again until everything is gone.
        entries = EntryItems(client, self.t.table)
        for entry_id in dict.fromkeys([customer_id, *pointer_ids]):
            deleted += entries.delete_all(workspace_id, entry_id)
            deleted += delete_audit(client, self.t.table, workspace_id, entry_id)  # loyalty enrolments
            deleted += erase_edits(self.t, workspace_id, entry_id)  # notes and the customer's edit audit
            deleted += erase_tiers(client, self.t.table, workspace_id, entry_id)  # tier state and audit
            # the points ledger, folded into the workspace's anonymous tally (the books add up)
            deleted += DynamoPointsTally(self.t).fold(workspace_id, entry_id)
        client.delete_item(
            TableName=self.t.table, Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": "P"}}
        )
        # the customer's engagement (opens, clicks, the last click) goes with the profile
        client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#ENG#{customer_id}"}, "sk": {"S": "E"}},
        )
        return deleted + 1

    def mark_erased(self, workspace_id: str, customer_ids: list[str], at: datetime) -> None:
        for customer_id in dict.fromkeys(customer_ids):
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": ERASED_SK}},
                UpdateExpression="SET #t = :t, #at = if_not_exists(#at, :at)",
                ExpressionAttributeNames={"#t": "t", "#at": "at"},
                ExpressionAttributeValues={":t": {"S": "erased"}, ":at": {"S": iso(at)}},
            )

    def redact_records(
        self, workspace_id: str, order_ids: Sequence[str], customers: Sequence[tuple[str, str]] = ()
    ) -> int:
        """Items that held a person (a retry counts none twice)."""
        keys = order_keys(workspace_id, order_ids) + [
            records.customer_pk(workspace_id, *c) for c in customers
        ]
        changed = 0
        client = self.ingest_client
        for key in dict.fromkeys(keys):
            try:
                answer = client.update_item(
                    TableName=self.ingest_table,
                    Key={"pk": {"S": key}},
                    UpdateExpression="REMOVE p SET rdx = :yes",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                    ReturnValues="UPDATED_OLD",
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue
            changed += "p" in answer.get("Attributes", {})
        return changed

    def record(self, workspace_id: str, request_id: str, entry: dict[str, Any]) -> None:
        """SET the entry's fields, keeping the counts `tally` added."""
        values = {"t": "privacy", "rid": request_id, **entry}
        names = {f"#f{i}": name for i, name in enumerate(values)}
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#PRIVACY"}, "sk": {"S": f"req#{request_id}"}},
            UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":f{i}": to_av(v) for i, v in enumerate(values.values())},
        )

    def tally(self, workspace_id: str, request_id: str, counts: dict[str, int]) -> None:
        self.t.add_counts(f"W#{workspace_id}#PRIVACY", f"req#{request_id}", counts, kind="privacy")

    def save_export(self, workspace_id: str, request_id: str, payload: bytes, ttl_days: int) -> None:
        self.t.put(export_item(workspace_id, request_id, payload, ttl_days))

    def requests(self, workspace_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#PRIVACY", limit=100, newest_first=False)
        return [
            {k: v for k, v in i.items() if k not in ("pk", "sk", "t", "body")}
            for i in items
            if i.get("t") == "privacy"
        ]

    def export(self, workspace_id: str, request_id: str) -> dict[str, Any] | None:
        item = self.t.get(f"W#{workspace_id}#PRIVACY", f"export#{request_id}", consistent=True)
        return json.loads(gzip.decompress(item["body"])) if item else None
