"""Membership records (sparse recheck index) and member index items in the CRM table."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.adapters.codec import batch_write, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.domain.models import now_utc
from chalicelib.domain.segment_values import RECHECK_SHARDS, MembershipRecord
from chalicelib.domain.timemath import iso


def membership_of(item: dict[str, Any]) -> MembershipRecord:
    """A stored membership record (`segs` is absent when the customer is in no segment)."""
    return MembershipRecord(frozenset(item.get("segs") or ()), item.get("nchk"), item.get("ver"))


def recheck_shard(customer_id: str) -> int:
    """The recheck shard of a customer: the last four hex digits of its id."""
    try:
        return int(customer_id[-4:], 16) % RECHECK_SHARDS
    except ValueError:
        return 0


def recheck_bucket(day: str, shard: int) -> str:
    """Hash key of the sparse recheck index (`rk`): the UTC day (YYYY-MM-DD) and shard."""
    return f"R#{day}#{shard:02d}"


class DynamoMembershipStore:
    """Membership records (sparse recheck index) and member index items."""

    def __init__(self, table: CrmTable, recheck_index: str = "by_recheck") -> None:
        self.t = table
        self.recheck_index = recheck_index

    def get_record(self, workspace_id: str, customer_id: str) -> MembershipRecord | None:
        item = self.t.get(f"W#{workspace_id}#PM#{customer_id}", "M", consistent=True)
        return membership_of(item) if item is not None else None

    def save(
        self,
        workspace_id: str,
        customer_id: str,
        members: set[str],
        next_check: str | None,
        entered: list[str],
        exited: list[str],
        expected_version: str | None,
    ) -> None:
        """Index items first (idempotent), then the record, conditioned on its version.

        The record is the commit point: a crash before it leaves the old record, so a retry
        computes the same difference again and rewrites the same index items. No counters:
        a segment's size is counted from its index items when asked (`size`), so it cannot
        drift, and a membership change costs no transaction. A concurrent change fails the
        condition: Conflict, retry.
        """
        requests = [
            {
                "PutRequest": {
                    "Item": to_item({"pk": f"W#{workspace_id}#SEGM#{s}", "sk": customer_id, "t": "member"})
                }
            }
            for s in entered
        ]
        requests += [
            {"DeleteRequest": {"Key": {"pk": {"S": f"W#{workspace_id}#SEGM#{s}"}, "sk": {"S": customer_id}}}}
            for s in exited
        ]
        batch_write(self.t.client, self.t.table, requests)
        record = {
            "pk": f"W#{workspace_id}#PM#{customer_id}",
            "sk": "M",
            "t": "membership",
            "ws": workspace_id,
            "cid": customer_id,
            "segs": set(members) or None,
            "nchk": next_check,
            "rk": recheck_bucket(next_check[:10], recheck_shard(customer_id)) if next_check else None,
            "ver": iso(now_utc()),
        }
        self.t.put_versioned(record, expected_version, "membership record")

    def due(self, day: date, shard: int, until: str) -> list[tuple[str, str]]:
        keys = []
        for pk, _ in self.t.due_keys(self.recheck_index, recheck_bucket(day.isoformat(), shard), until):
            _, workspace_id, _, customer_id = pk.split("#", 3)
            keys.append((workspace_id, customer_id))
        return keys

    def recheck_watermark(self) -> str | None:
        return self.t.watermark("RECHECK")

    def set_recheck_watermark(self, until: str) -> None:
        self.t.set_watermark("RECHECK", until)

    def size(self, workspace_id: str, segment_id: str) -> int:
        """Members counted from the index: about 70 members per read unit (a million-member
        segment costs about 7,000 eventually consistent units, about $0.001, and 1 MB pages)."""
        return self.t.count(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"W#{workspace_id}#SEGM#{segment_id}"}},
        )

    def members(
        self, workspace_id: str, segment_id: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        items, last = self.t.query(
            f"W#{workspace_id}#SEGM#{segment_id}", limit=limit, start=cursor, newest_first=False
        )
        return [i["sk"] for i in items], last
