"""Profiles, merge pointers and erasure marks in the CRM table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters.codec import to_av, to_item
from chalicelib.adapters.crm_table import MAX_POINTER_HOPS, CrmTable
from chalicelib.adapters.entry_store import EntryItems
from chalicelib.adapters.profile_items import (
    guest_profile,
    link_item,
    pointer_of_retired,
    profile_item,
    profile_of,
    profile_pk,
)
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
from chalicelib.domain.timemath import parse_iso

ERASED_SK = "X"  # an erasure mark in a customer id's partition (mark_erased)


class DynamoProfileStore:
    """Profiles with optimistic locking, identity pointers and merge records."""

    def __init__(self, table: CrmTable, phone_index: str = "by_phone", ext_index: str = "by_ext") -> None:
        self.t = table
        self.phone_index = phone_index
        self.ext_index = ext_index
        self.entries = EntryItems(table.client, table.table)

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        return self.entries.newest(workspace_id, customer_ids, keys)

    def get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        item = self.t.get(profile_pk(workspace_id, customer_id), "P")
        for _ in range(MAX_POINTER_HOPS):
            if item is None or "into" not in item:
                return item
            item = self.t.get(profile_pk(workspace_id, item["into"]), "P")
        return None

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        """The live profile of a customer id (pointers followed), strongly consistent."""
        item = self.get(workspace_id, customer_id)
        return profile_of(item) if item is not None and item.get("t") == "profile" else None

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        """Profiles by id, eventually consistent (batch jobs); an id that holds no profile
        (missing, or a pointer to the profile it was merged into) is absent."""
        items = self.get_many(workspace_id, customer_ids)
        return {cid: profile_of(i) for cid, i in items.items() if i.get("t") == "profile"}

    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        """Live profiles holding any of the identity keys (pointers followed)."""
        return [profile_of(i) for i in self.find(workspace_id, salt, keys)]

    def guest(self, workspace_id: str, customer_id: str, contact: Mapping[str, Any]) -> CustomerProfile:
        """A guest's profile from a checkout's contact (order_items.CONTACT: profile attributes)."""
        return guest_profile(workspace_id, customer_id, contact)

    def find(self, workspace_id: str, salt: str, keys: list[str]) -> list[dict[str, Any]]:
        direct = self.t.batch_get([(profile_pk(workspace_id, customer_id_for(salt, k)), "P") for k in keys])
        found_ids = {i["cid"] for i in direct}
        items = list(direct)
        for key in keys:
            if customer_id_for(salt, key) in found_ids:
                continue
            kind, _, value = key.partition(":")
            if kind == "phone":
                hits = self.t.query_index(self.phone_index, "phone_k", f"{workspace_id}#{value}")
            elif kind == "ext":
                hits = self.t.query_index(self.ext_index, "ext_k", f"{workspace_id}#{value}")
            else:
                continue
            ids = {h["pk"].rsplit("#", 1)[1] for h in hits} - {i["cid"] for i in items}
            items.extend(self.t.batch_get([(profile_pk(workspace_id, c), "P") for c in ids]))
        live: dict[str, dict[str, Any]] = {}
        for item in items:
            for _ in range(MAX_POINTER_HOPS):
                if "into" not in item:
                    live[item["cid"]] = item
                    break
                nxt = self.t.get(profile_pk(workspace_id, item["into"]), "P", consistent=True)
                if nxt is None:
                    break
                item = nxt
        return list(live.values())

    def save(
        self,
        profile: CustomerProfile,
        expected_rev: int | None,
        extra: Sequence[IdentityPointer | MergeRecord],
        retired: Sequence[tuple[CustomerProfile, int]],
        moved: Sequence[tuple[str, OrderEntry]] = (),
    ) -> None:
        ws, cid = profile.workspace_id, profile.customer_id
        self.entries.write(ws, cid, moved)  # before the profile: see entry_store
        item = profile_item(profile)
        condition, cvalues = _rev_condition(expected_rev)
        if not extra and not retired:
            try:
                self.t.put(item, condition, cvalues)
            except self.t.client.exceptions.ConditionalCheckFailedException as exc:
                raise Conflict("profile changed") from exc
            return
        actions: list[dict[str, Any]] = [_put(self.t.table, item, condition, cvalues)]
        for link in extra:
            actions.append(_put(self.t.table, link_item(ws, link), "attribute_not_exists(pk)", None))
        for old, rev in retired:
            cond, vals = _rev_condition(rev)
            actions.append(_put(self.t.table, pointer_of_retired(old, cid, rev), cond, vals))
        try:
            self.t.client.transact_write_items(TransactItems=actions)
        except self.t.client.exceptions.TransactionCanceledException as exc:
            raise Conflict("profile or identity changed during merge") from exc

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        wanted = [(profile_pk(workspace_id, c), ERASED_SK) for c in dict.fromkeys(customer_ids)]
        # Eventually consistent (half the units): a mark is written before its erasure starts,
        # and an order applied at that very moment races the erasure whatever the read.
        marks = self.t.batch_get(wanted, consistent=False)
        times = [t for m in marks if (t := parse_iso(m.get("at"))) is not None]
        return max(times, default=None)

    def get_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Profile items by id, eventually consistent (batch jobs); missing ids are absent."""
        items = self.t.batch_get([(profile_pk(workspace_id, c), "P") for c in customer_ids], consistent=False)
        return {i["pk"].rsplit("#", 1)[1]: i for i in items}

    def merges(self, workspace_id: str, limit: int = 50) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#MERGE", limit=limit)
        return items


def _rev_condition(rev: int | None) -> tuple[str, dict[str, Any] | None]:
    if rev is None:
        return "attribute_not_exists(pk)", None
    return "rev = :rev", {":rev": rev}


def _put(table: str, item: dict[str, Any], condition: str, values: dict[str, Any] | None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": to_item(item), "ConditionExpression": condition}
    if values:
        put["ExpressionAttributeValues"] = {k: to_av(v) for k, v in values.items()}
    return {"Put": put}
