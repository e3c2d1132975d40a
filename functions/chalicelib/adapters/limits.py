"""Sending limits in the CRM table: opt-outs, suppressions, frequency caps, spacing and the
SMS credit balance."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def address_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


LIST_SHARDS = 16  # opt-outs and suppressions: every send reads them, so they are spread


def opt_out_key(workspace_id: str, channel: str, customer_id: str) -> tuple[str, str]:
    """`W#<ws>#OPT#<NN>` / `<channel>#<cid>`: NN from the customer id's hash, so the reads
    of a big campaign fall on 16 partitions, not one."""
    shard = int(hashlib.sha256(customer_id.encode()).hexdigest()[:4], 16) % LIST_SHARDS
    return f"W#{workspace_id}#OPT#{shard:02d}", f"{channel}#{customer_id}"


def suppression_key(workspace_id: str, channel: str, address: str) -> tuple[str, str]:
    """`W#<ws>#SUP#<NN>` / `<channel>#<sha256(address)>`: NN from the address's hash."""
    digest = address_hash(address)
    return f"W#{workspace_id}#SUP#{int(digest[:4], 16) % LIST_SHARDS:02d}", f"{channel}#{digest}"


class DynamoLimits:
    """Suppressions, frequency caps, spacing and the SMS credit balance."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def suppress(self, workspace_id: str, channel: str, address: str, reason: str) -> None:
        pk, sk = suppression_key(workspace_id, channel, address)
        self.t.put(
            {
                "pk": pk,
                "sk": sk,
                "t": "suppression",
                "why": reason,
                "at": iso(now_utc()),
            }
        )

    def opt_out(self, workspace_id: str, channel: str, customer_id: str, source: str) -> None:
        pk, sk = opt_out_key(workspace_id, channel, customer_id)
        self.t.put(
            {
                "pk": pk,
                "sk": sk,
                "t": "opt_out",
                "src": source,
                "at": iso(now_utc()),
            }
        )

    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool:
        return self.t.get(*opt_out_key(workspace_id, channel, customer_id), consistent=True) is not None

    def is_suppressed(self, workspace_id: str, channel: str, address: str) -> bool:
        return self.t.get(*suppression_key(workspace_id, channel, address)) is not None

    def listed(
        self, workspace_id: str, channel: str, customer_ids: list[str], addresses: list[str]
    ) -> tuple[set[str], set[str]]:
        """Of these customers, those who opted out; of these addresses, those suppressed:
        one consistent batched read (100 keys a call), not a read for each."""
        opt = {opt_out_key(workspace_id, channel, cid): cid for cid in customer_ids}
        sup = {suppression_key(workspace_id, channel, a): a for a in addresses}
        found = {(i["pk"], i["sk"]) for i in self.t.batch_get([*opt, *sup], consistent=True)}
        return {cid for key, cid in opt.items() if key in found}, {
            a for key, a in sup.items() if key in found
        }

    def blocked(self, workspace_id: str, channel: str, addresses: dict[str, str]) -> set[str]:
        """Of these customers (id -> address), those who opted out or whose address is
        suppressed: one batched read (100 keys a call) instead of two reads per customer."""
        opt = {opt_out_key(workspace_id, channel, cid): cid for cid in addresses}
        sup = {suppression_key(workspace_id, channel, a): cid for cid, a in addresses.items()}
        found = self.t.batch_get([*opt, *sup], consistent=False)
        return {({**opt, **sup})[(i["pk"], i["sk"])] for i in found}

    def take_cap(self, workspace_id: str, customer_id: str, period: str, cap: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAP#{customer_id}", period),
                UpdateExpression="ADD n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(n) OR n < :cap",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":cap": {"N": str(cap)},
                    ":ttl": {"N": str(int((now_utc() + timedelta(days=3)).timestamp()))},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def return_cap(self, workspace_id: str, customer_id: str, period: str) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"W#{workspace_id}#CAP#{customer_id}", period),
            UpdateExpression="ADD n :minus",
            ExpressionAttributeValues={":minus": {"N": "-1"}},
        )

    def take_spacing(self, workspace_id: str, customer_id: str, now: datetime, gap: timedelta) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAP#{customer_id}", "LAST"),
                UpdateExpression="SET #at = :now",
                ConditionExpression="attribute_not_exists(#at) OR #at <= :earliest",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={
                    ":now": {"S": iso(now) or ""},
                    ":earliest": {"S": iso(now - gap) or ""},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def take_sms_credits(self, workspace_id: str, parts: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"WS#{workspace_id}", "WS"),
                UpdateExpression="SET smsc = smsc - :p",
                ConditionExpression="smsc >= :p",
                ExpressionAttributeValues={":p": {"N": str(parts)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def return_sms_credits(self, workspace_id: str, parts: int) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"WS#{workspace_id}", "WS"),
            UpdateExpression="ADD smsc :p",
            ExpressionAttributeValues={":p": {"N": str(parts)}},
        )
