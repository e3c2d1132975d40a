"""Erasure of one person outside their profile, and the person index that makes it reachable.

- `W#<ws>#PX#<pid>` / `<kind>#<ref>`: the person index (docs/data-model.md, "Erasure: one
  person, everywhere"). `pid` is a customer id: the profile's, or the one an identity key
  gives. `K#` checkout (ingest pk), `Q#` quarantined body, `CPN#` coupon, `XP#` audience
  export object, `DR#` data-request export.
- Partitions named by a customer id: flow runs `FR`, message claims `MSG`, caps `CAP`, and
  the engagement item `ENG`.
- `W#<ws>#ATTR` / `<order pk>`: attributions, redacted (the item stays as the write-once guard).

Every delete asks for the old item back and every redaction for the old person, so each
count is of what this call changed: a retry counts nothing twice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.codec import batch_write, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.ingest_store import order_keys
from chalicelib.adapters.person_index import holding_refs, index_items, index_pk
from chalicelib.adapters.records import privacy_pk
from chalicelib.adapters.sales_store import redact_opportunities
from chalicelib.adapters.ticket_store import redact_tickets
from chalicelib.domain.erasure_values import Holding
from chalicelib.domain.errors import Conflict
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso

PARTITIONS = {"FR": "flow_runs_deleted", "MSG": "claims_deleted", "CAP": "caps_deleted"}
KINDS = {
    "K": "checkouts_redacted",
    "Q": "quarantined_deleted",
    "CPN": "coupons_deleted",
    "XP": "exports_rewritten",
    "DR": "data_exports_deleted",
}


class S3Exports:
    """Audience exports in the stage's bucket: rewritten without a person's rows."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def without(self, key: str, hashes: set[str], attempts: int = 5) -> bool:
        """Rewrite the CSV without the rows holding any of these hashes; True if it changed.
        The write is conditioned on the ETag read (`If-Match`): two erasures rewriting the
        same file at once cannot undo each other's; the loser reads it again."""
        for _ in range(attempts):
            try:
                got = self._client.get_object(Bucket=self.bucket, Key=key)
            except self._client.exceptions.ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    return False  # expired (30 days) or removed
                raise
            rows = list(csv.reader(io.StringIO(got["Body"].read().decode())))
            kept = [r for r in rows if not hashes.intersection(r)]
            if len(kept) == len(rows):
                return False
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(kept)
            try:
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=out.getvalue().encode(),
                    ContentType="text/csv",
                    ServerSideEncryption="AES256",
                    IfMatch=got["ETag"],
                )
            except self._client.exceptions.ClientError as exc:
                if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    continue  # rewritten meanwhile: read it again
                raise
            return True
        raise Conflict(f"export {key} kept changing; retry the request")


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class DynamoErasure:
    def __init__(
        self, table: CrmTable, ingest_client: Any, ingest_table: str, exports: S3Exports | None = None
    ) -> None:
        self.t = table
        self.ingest_client = ingest_client
        self.ingest_table = ingest_table
        self.exports = exports

    # -- the person index ------------------------------------------------------------
    def hold(self, workspace_id: str, holdings: Sequence[Holding], ttl_days: int | None = None) -> None:
        self.add(workspace_id, holding_refs(holdings), ttl_days)

    def add(self, workspace_id: str, refs: Sequence[tuple[str, str]], ttl_days: int | None = None) -> None:
        items = index_items(workspace_id, refs, ttl_days)
        if len(items) == 1:
            self.t.put(items[0])
        elif items:
            batch_write(self.t.client, self.t.table, [{"PutRequest": {"Item": to_item(i)}} for i in items])

    # -- erasure -----------------------------------------------------------------------
    def erase_person(self, workspace_id: str, person_id: str, hashes: set[str]) -> dict[str, int]:
        """Everything under this customer id's own partitions and its person index."""
        counts: dict[str, int] = {}

        def tally(name: str, n: int = 1) -> None:
            counts[name] = counts.get(name, 0) + n

        for prefix, name in PARTITIONS.items():
            for item in self._keys(f"W#{workspace_id}#{prefix}#{person_id}"):
                if self._delete(item["pk"], item["sk"]):
                    tally(name)
        if self._delete(f"W#{workspace_id}#ENG#{person_id}", "E"):
            tally("engagement_deleted")
        if tickets := redact_tickets(self.t, workspace_id, person_id):
            tally("tickets_redacted", tickets)
        if opportunities := redact_opportunities(self.t, workspace_id, person_id):
            tally("opportunities_redacted", opportunities)
        for item in self._keys(index_pk(workspace_id, person_id)):
            kind, _, ref = item["sk"].partition("#")
            if self._follow(workspace_id, kind, ref, hashes):
                tally(KINDS.get(kind, "other_deleted"))
            if self._delete(item["pk"], item["sk"]):
                tally("index_items_deleted")
        return counts

    def _follow(self, workspace_id: str, kind: str, ref: str, hashes: set[str]) -> bool:
        if kind == "K":
            return self.redact_ingest(ref)
        if kind == "Q":
            return self._delete(f"W#{workspace_id}#Q", ref)
        if kind == "CPN":
            return self._delete(f"W#{workspace_id}#CPN", ref)
        if kind == "DR":
            return self._delete(f"W#{workspace_id}#PRIVACY", f"export#{ref}")
        if kind == "XP":
            return self.exports is not None and self.exports.without(ref, hashes)
        return False

    def redact_attributions(self, workspace_id: str, order_ids: Sequence[str]) -> int:
        """The attributions of these orders lose their customer and message (kept as the
        guard that counts each order once in the statistics)."""
        changed = 0
        client = self.t.client
        for order_pk in dict.fromkeys(order_keys(workspace_id, order_ids)):
            try:
                answer = client.update_item(
                    TableName=self.t.table,
                    Key={"pk": {"S": f"W#{workspace_id}#ATTR"}, "sk": {"S": order_pk}},
                    UpdateExpression="REMOVE cid, mk SET rdx = :yes",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                    ReturnValues="UPDATED_OLD",
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue
            changed += "cid" in answer.get("Attributes", {})
        return changed

    def redact_ingest(self, pk: str) -> bool:
        """Remove the person (and a privacy request's customer id) from an ingest item: a
        checkout, a handled privacy request. True if it held a person."""
        client = self.ingest_client
        try:
            answer = client.update_item(
                TableName=self.ingest_table,
                Key={"pk": {"S": pk}},
                UpdateExpression="REMOVE p, cid SET rdx = :yes",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
                ReturnValues="UPDATED_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return "p" in answer.get("Attributes", {})

    def _keys(self, pk: str) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        while True:
            page = self.t.client.query(**kwargs)
            found.extend({"pk": i["pk"]["S"], "sk": i["sk"]["S"]} for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete(self, pk: str, sk: str) -> bool:
        answer = self.t.client.delete_item(
            TableName=self.t.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))


class DynamoPrivacyRequests:
    """Privacy requests made through the admin API: stored in the ingest table as a webhook's
    are (`W#<ws>#R#api#<request id>`), with the customer id instead of a person, so the
    ingest stream carries them out the same way."""

    SOURCE = "api"

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(self, workspace_id: str, request_id: str, request: str, customer_id: str) -> None:
        item = {
            "pk": privacy_pk(workspace_id, self.SOURCE, request_id),
            "t": "privacy",
            "ws": workspace_id,
            "src": self.SOURCE,
            "req": request,
            "rid": request_id,
            "cid": customer_id,
            "rcv": iso(now_utc()),
        }
        self.client.put_item(
            TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )
