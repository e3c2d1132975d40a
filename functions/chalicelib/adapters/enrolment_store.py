"""Membership in the CRM table: the profile's `ms`, the member-number counter and the
enrolment audit (docs/data-model.md, "Membership")."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.codec import batch_write, from_item, to_av, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.profile_items import profile_item, profile_pk
from chalicelib.domain.customer_profile import CustomerProfile, EnrolmentAudit
from chalicelib.domain.errors import Conflict

AUDIT = "MS#"  # sort-key prefix of the audit entries in the profile's partition


def counter_key(workspace_id: str) -> tuple[str, str]:
    return f"W#{workspace_id}#MEMBERNO", "N"


def audit_item(audit: EnrolmentAudit) -> dict[str, Any]:
    """The stored audit entry (its reason, when given, is the only free text)."""
    item: dict[str, Any] = {
        "pk": profile_pk(audit.workspace_id, audit.customer_id),
        "sk": f"{AUDIT}{audit.at}#{audit.kind}",
        "t": "enrolment",
        "ws": audit.workspace_id,
        "cid": audit.customer_id,
        "k": audit.kind,
        "at": audit.at,
        "ch": audit.channel,
        "by": audit.by,
        "n": audit.number,
        "why": audit.reason,
    }
    return {k: v for k, v in item.items() if v is not None}


def audit_of(item: dict[str, Any]) -> EnrolmentAudit:
    return EnrolmentAudit(
        workspace_id=str(item["ws"]),
        customer_id=str(item["cid"]),
        kind=str(item["k"]),
        at=str(item["at"]),
        channel=str(item["ch"]),
        by=str(item["by"]),
        number=None if item.get("n") is None else str(item["n"]),
        reason=None if item.get("why") is None else str(item["why"]),
    )


class DynamoEnrolmentStore:
    """ports.EnrolmentStore, and the audit's reader."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def next_number(self, workspace_id: str) -> int:
        pk, sk = counter_key(workspace_id)
        answer = self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="ADD n :one SET t = :t",
            ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"S": "counter"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["n"]["N"])

    def record(self, profile: CustomerProfile, expected_rev: int | None, audit: EnrolmentAudit) -> None:
        if expected_rev is None:
            condition, values = "attribute_not_exists(pk)", {}
        else:
            condition, values = "rev = :rev", {":rev": to_av(expected_rev)}
        put: dict[str, Any] = {"TableName": self.t.table, "Item": to_item(profile_item(profile))}
        put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = values
        entry = {
            "TableName": self.t.table,
            "Item": to_item(audit_item(audit)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self.t.client.transact_write_items(TransactItems=[{"Put": put}, {"Put": entry}])
        except self.t.client.exceptions.TransactionCanceledException as exc:
            raise Conflict("profile changed") from exc

    def audit(self, workspace_id: str, customer_id: str) -> list[EnrolmentAudit]:
        """The profile's audit entries, oldest first."""
        return [audit_of(i) for i in audit_items(self.t.client, self.t.table, workspace_id, customer_id)]

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[EnrolmentAudit], str | None]:
        """loyalty.ports.EnrolmentAuditReader: a page of the audit, newest first (one Query,
        backwards over the `MS#` sort keys); the cursor is the last entry's sort key."""
        pk = profile_pk(workspace_id, customer_id)
        items, last = self.t.query(pk, limit, cursor, newest_first=True, prefix=AUDIT, consistent=True)
        return [audit_of(i) for i in items], last


def audit_items(client: Any, table: str, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Every audit entry item under one customer id's partition (consistent reads)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {
            ":pk": {"S": profile_pk(workspace_id, customer_id)},
            ":p": {"S": AUDIT},
        },
        "ConsistentRead": True,
    }
    found: list[dict[str, Any]] = []
    while True:
        page = client.query(**kwargs)
        found.extend(from_item(i) or {} for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_audit(client: Any, table: str, workspace_id: str, customer_id: str) -> int:
    """Erase the audit entries under one customer id's partition (its reasons are free
    text); returns how many."""
    keys = [
        {"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}}
        for i in audit_items(client, table, workspace_id, customer_id)
    ]
    batch_write(client, table, [{"DeleteRequest": {"Key": k}} for k in keys])
    return len(keys)
