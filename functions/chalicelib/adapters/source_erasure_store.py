"""DynamoDB side of erasing a source (`shop/redact`): the progress item, the source mark,
the source's items found by key, and their erasure.

- `ERASE` / `<ws>#<source id>`: the progress item (`ph` walk/verify/rest/done, `cur`, `pg`,
  `pcur`, `pend`, counters `c_<kind>`, `v`), every change conditioned on `v`;
- `SRC#<platform>#<shop>` and `W#<ws>#SRC` / `<source id>`: `ers` marks the source;
- ingest items are erased by a tombstone (`t` = `erased`): no function may delete there.

See docs/data-model.md ("Erasing a source").
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Container, Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.catalogue_store import catalogue_partition
from chalicelib.adapters.codec import batch_get, batch_write, from_item, to_av, to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.ingest_store import order_keys
from chalicelib.adapters.order_items import image
from chalicelib.adapters.profile_items import profile_of, profile_pk
from chalicelib.adapters.source_settings import ADMIN_ATTRIBUTES, source_keys
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.erasure_values import (
    ErasureProgress,
    IngestRef,
    ItemRef,
    MergedPointer,
    ProfileRemains,
    RunItem,
    SourceRecords,
)
from chalicelib.domain.ingest_images import Image
from chalicelib.domain.source_erasure import Overtaken

PK = "ERASE"
COUNTER = "c_"
TOMBSTONE = "erased"
MOVED = "O#"  # a moved order entry's sort key prefix, in its customer's profile partition
INDEX_KEYS = {"phone": "phone_k", "external_id": "ext_k"}  # a pointer's index keys


def progress_of(item: dict[str, Any]) -> ErasureProgress:
    """The progress item (`ERASE` / `<ws>#<source>`) as the domain reads it."""
    return ErasureProgress(
        workspace_id=str(item["ws"]),
        source_id=str(item["src"]),
        request_id=str(item["rid"]),
        phase=str(item["ph"]),
        version=int(item["v"]),
        pages=int(item.get("pg", 0)),
        cursor=str(item.get("cur") or ""),
        started_at=item.get("at"),
        finished_at=item.get("done_at"),
        counts={k[len(COUNTER) :]: int(v) for k, v in item.items() if k.startswith(COUNTER)},
        journal_cursor=str(item.get("pcur", "")),
        journal=json.loads(item["pend"]) if item.get("pend") else None,
    )


def _index_value(stored: Any) -> str | None:
    return None if not stored else str(stored).split("#", 1)[1]


def _sk(workspace_id: str, source_id: str) -> str:
    return f"{workspace_id}#{source_id}"


def source_record_keys(
    workspace_id: str,
    source_id: str,
    order_ids: Sequence[str],
    customer_ids: Sequence[str],
    checkout_ids: Sequence[str],
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The ingest keys of a source's orders, customer records and checkouts, by id."""
    return (
        {o: k for o in order_ids for k in order_keys(workspace_id, [o])},
        {c: records.customer_pk(workspace_id, source_id, c) for c in customer_ids},
        {c: records.checkout_pk(workspace_id, source_id, c) for c in checkout_ids},
    )


def live_records(
    keys: tuple[dict[str, str], dict[str, str], dict[str, str]], live: Container[str]
) -> SourceRecords:
    """The records among `keys` (source_record_keys) whose ingest item is live."""
    orders, customers, checkouts = ({i: k for i, k in kind.items() if k in live} for kind in keys)
    return SourceRecords(orders=orders, customers=customers, checkouts=checkouts)


def privacy_request_keys(workspace_id: str, source_id: str, request_ids: Sequence[str]) -> list[str]:
    return [records.privacy_pk(workspace_id, source_id, r) for r in request_ids]


class DynamoSourceErasureStore:
    def __init__(self, table: CrmTable, ingest_client: Any, ingest_table: str) -> None:
        self.t = table
        self.ingest = ingest_client
        self.ingest_table = ingest_table

    # -- progress ------------------------------------------------------------------
    def progress(self, workspace_id: str, source_id: str) -> ErasureProgress | None:
        item = self.t.get(PK, _sk(workspace_id, source_id), consistent=True)
        return None if item is None else progress_of(item)

    def begin(self, workspace_id: str, source_id: str, request_id: str, at: str) -> ErasureProgress:
        """The progress item, created once (a second start reads the first one's)."""
        item = {
            "pk": PK,
            "sk": _sk(workspace_id, source_id),
            "t": "source_erasure",
            "ws": workspace_id,
            "src": source_id,
            "rid": request_id,
            "ph": "walk",
            "pg": 0,
            "v": 0,
            "at": at,
        }
        with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
            self.t.put(item, "attribute_not_exists(pk)")  # a second start reads the first's
        found = self.progress(workspace_id, source_id)
        assert found is not None
        return found

    def journal(
        self, workspace_id: str, source_id: str, version: int, cursor: str, counts: Mapping[str, int]
    ) -> None:
        """What the page starting at `cursor` removes, before it acts."""
        self._update(
            workspace_id,
            source_id,
            version,
            "SET pcur = :pc, pend = :pe, v = v + :one",
            {":pc": cursor, ":pe": json.dumps(dict(counts), sort_keys=True)},
        )

    def commit(
        self,
        workspace_id: str,
        source_id: str,
        version: int,
        phase: str,
        cursor: str | None,
        counts: Mapping[str, int],
        done_at: str | None = None,
    ) -> None:
        """The page's counts added, the cursor moved, the journal cleared: one write."""
        values: dict[str, Any] = {":ph": phase, ":cur": cursor or ""}
        adds = []
        names: dict[str, str] = {}
        for i, (kind, n) in enumerate(sorted(counts.items())):
            if n:
                names[f"#c{i}"] = COUNTER + kind
                values[f":c{i}"] = int(n)
                adds.append(f"#c{i} :c{i}")
        sets = "SET ph = :ph, cur = :cur, v = v + :one, pg = pg + :one"
        if done_at:
            sets += ", done_at = :done"
            values[":done"] = done_at
        expression = sets + " REMOVE pcur, pend" + (" ADD " + ", ".join(adds) if adds else "")
        self._update(workspace_id, source_id, version, expression, values, names)

    def _update(
        self,
        workspace_id: str,
        source_id: str,
        version: int,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": {"pk": {"S": PK}, "sk": {"S": _sk(workspace_id, source_id)}},
            "UpdateExpression": expression,
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {k: to_av(v) for k, v in values.items()}
            | {":v": to_av(version), ":one": to_av(1)},
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self.t.client.update_item(**kwargs)
        except self.t.client.exceptions.ConditionalCheckFailedException as exc:
            raise Overtaken("source erasure progressed elsewhere") from exc

    def add(self, workspace_id: str, source_id: str, version: int, counts: Mapping[str, int]) -> None:
        """Counts added after the walk (the operator's purge of audience exports)."""
        names = {f"#c{i}": COUNTER + k for i, k in enumerate(counts)}
        values: dict[str, Any] = {f":c{i}": int(n) for i, n in enumerate(counts.values())}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        self._update(workspace_id, source_id, version, "SET v = v + :one ADD " + adds, values, names)

    def mark_source(self, workspace_id: str, source_id: str, request_id: str) -> bool:
        """`ers` on both items of the source (its webhooks are refused); False: no source."""
        listed = self.t.get(f"W#{workspace_id}#SRC", source_id, consistent=True)
        if listed is None:
            return False
        for pk, sk in source_keys(listed["pl"], listed["shop"], workspace_id, source_id):
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="SET ers = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":r": {"S": request_id}},
            )
        return True

    def continue_later(self, ingest_key: str, pages: int) -> None:
        """A new stream record of the request's ingest item carries the work on (only when
        it moves forward: a stale attempt starts no second chain)."""
        try:
            self.ingest.update_item(
                TableName=self.ingest_table,
                Key={"pk": {"S": ingest_key}},
                UpdateExpression="SET stp = :n",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(stp) OR stp < :n)",
                ExpressionAttributeValues={":n": {"N": str(pages)}},
            )
        except self.ingest.exceptions.ConditionalCheckFailedException:
            return

    # -- ingest items ----------------------------------------------------------------
    def order_keys(self, workspace_id: str, order_ids: Sequence[str]) -> list[str]:
        return order_keys(workspace_id, order_ids)

    def customer_key(self, workspace_id: str, source_id: str, customer_id: str) -> str:
        return records.customer_pk(workspace_id, source_id, customer_id)

    def checkout_key(self, workspace_id: str, source_id: str, checkout_id: str) -> str:
        return records.checkout_pk(workspace_id, source_id, checkout_id)

    def source_records(
        self,
        workspace_id: str,
        source_id: str,
        order_ids: Sequence[str],
        customer_ids: Sequence[str],
        checkout_ids: Sequence[str],
    ) -> SourceRecords:
        """Which of these records of the source are live (one BatchGetItem for them all)."""
        keys = source_record_keys(workspace_id, source_id, order_ids, customer_ids, checkout_ids)
        return live_records(keys, self.ingest_items([k for kind in keys for k in kind.values()]))

    def live_privacy_requests(
        self, workspace_id: str, source_id: str, request_ids: Sequence[str]
    ) -> list[IngestRef]:
        """The ingest items of these privacy requests of the source that are not erased."""
        keys = privacy_request_keys(workspace_id, source_id, request_ids)
        live = self.ingest_items(keys)
        return [k for k in keys if k in live]

    def ingest_images(self, keys: list[str]) -> list[Image]:
        """The live orders and customer records (...) under these keys, decoded."""
        return [i for item in self.ingest_items(keys).values() if (i := image(item)) is not None]

    def ingest_items(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Live (not erased) ingest items by key, eventually consistent."""
        unique = list(dict.fromkeys(keys))
        items = batch_get(self.ingest, self.ingest_table, [{"pk": {"S": k}} for k in unique])
        return {i["pk"]: i for i in items if i.get("t") != TOMBSTONE}

    def erase_ingest(self, keys: Sequence[IngestRef]) -> None:
        """Overwrite each item with a tombstone (only an item that exists, not one already)."""
        for key in dict.fromkeys(keys):
            parts = key.split("#")
            try:
                self.ingest.put_item(
                    TableName=self.ingest_table,
                    Item=to_item({"pk": key, "t": TOMBSTONE, "ws": parts[1], "rdx": True}),
                    ConditionExpression="attribute_exists(pk) AND t <> :t",
                    ExpressionAttributeValues={":t": {"S": TOMBSTONE}},
                )
            except self.ingest.exceptions.ConditionalCheckFailedException:
                continue

    # -- CRM items, by the ids they belong to -------------------------------------------
    def flow_run_items(self, workspace_id: str, customer_ids: Sequence[str]) -> list[RunItem]:
        """Every item of these customers' flow-run partitions (`W#<ws>#FR#<cid>`), one Query each."""
        return [
            RunItem(
                ref=(i["pk"], i["sk"]),
                customer_id=str(i.get("cid", "")),
                is_run=i.get("t") == "flowrun",
                flow_id=str(i.get("flow")),
                key=str(i.get("key")),
            )
            for c in customer_ids
            for i in self._partition(f"W#{workspace_id}#FR#{c}")
        ]

    def send_claims(
        self,
        workspace_id: str,
        customer_id: str,
        source_id: str | None = None,
        runs: Sequence[tuple[str, str]] = (),
    ) -> list[ItemRef]:
        """The customer's send claims (`W#<ws>#MSG#<cid>`): all of them without a source;
        with one, those of the source's orders and of these runs (flow id, trigger key)."""
        pk = f"W#{workspace_id}#MSG#{customer_id}"
        if source_id is None:
            claims = self._partition(pk)
        else:
            claims = self._partition(pk, f"txn:W#{workspace_id}#O#{source_id}#")
            for flow_id, key in runs:
                claims += self._partition(pk, f"flow:{flow_id}:{key}:")
        return [(i["pk"], i["sk"]) for i in claims]

    def coupons(self, workspace_id: str, codes: Sequence[str]) -> list[ItemRef]:
        """The issued coupons among these codes (`W#<ws>#CPN` / `<code>`)."""
        return list(self._existing([(f"W#{workspace_id}#CPN", c) for c in codes]))

    def attributions(self, workspace_id: str, order_ids: Sequence[str]) -> list[ItemRef]:
        """The attributions of these orders (`W#<ws>#ATTR` / `<order pk>`) that exist."""
        keys = order_keys(workspace_id, order_ids)
        return list(self._existing([(f"W#{workspace_id}#ATTR", k) for k in keys]))

    def profile_remains(
        self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str], entry_ids: Sequence[str]
    ) -> ProfileRemains:
        """What erasing the profile also removes: one BatchGetItem (the pointers, its
        engagement and membership record), one Query per id for moved entries."""
        engagement = (f"W#{workspace_id}#ENG#{customer_id}", "E")
        membership = (f"W#{workspace_id}#PM#{customer_id}", "M")
        pointers = [(profile_pk(workspace_id, c), "P") for c in pointer_ids]
        found = self._existing([*pointers, engagement, membership])
        return ProfileRemains(
            pointers_into=sum(1 for key in pointers if found.get(key, {}).get("into") == customer_id),
            moved_entries=sum(len(self._partition(profile_pk(workspace_id, c), MOVED)) for c in entry_ids),
            engagement=engagement in found,
            segment_memberships=len(found.get(membership, {}).get("segs") or ()),
        )

    def moved_entry_refs(
        self, workspace_id: str, customer_ids: Sequence[str], order_ids: Sequence[str]
    ) -> list[ItemRef]:
        """The moved entry items these orders may have under these customers' partitions."""
        return [(profile_pk(workspace_id, c), MOVED + k) for c in customer_ids for k in order_ids]

    def pointers_into(self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str]) -> list[ItemRef]:
        """The identity pointers among these ids that point into the customer's profile."""
        found = self._existing([(profile_pk(workspace_id, c), "P") for c in pointer_ids])
        return [key for key, i in found.items() if i.get("t") == "pointer" and i.get("into") == customer_id]

    def merged_pointers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[MergedPointer]:
        """The items of these (merged-away) ids, with the identities an index finds them by."""
        found = self._existing([(profile_pk(workspace_id, c), "P") for c in customer_ids])
        return [
            MergedPointer(
                customer_id=str(i["cid"]),
                into=i.get("into"),
                phone=_index_value(i.get("phone_k")),
                external_id=_index_value(i.get("ext_k")),
            )
            for i in found.values()
        ]

    def privacy_requests(self, workspace_id: str, source_id: str) -> list[str]:
        """The ids of the source's privacy requests in the workspace's audit."""
        return [
            str(i["rid"])
            for i in self._partition(f"W#{workspace_id}#PRIVACY", "req#")
            if i.get("source_id") == source_id
        ]

    def privacy_exports(self, workspace_id: str, request_ids: Sequence[str]) -> list[ItemRef]:
        """The data exports of these privacy requests that are still there."""
        return list(self._existing([(f"W#{workspace_id}#PRIVACY", f"export#{r}") for r in request_ids]))

    # -- CRM items ---------------------------------------------------------------------
    def _partition(self, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        """Every item of one partition (optionally: whose sort key begins with `prefix`)."""
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}} | ({":p": {"S": prefix}} if prefix else {}),
            "ConsistentRead": True,
        }
        out: list[dict[str, Any]] = []
        while True:
            page = self.t.client.query(**kwargs)
            out.extend(from_item(i) or {} for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _existing(self, keys: list[ItemRef]) -> dict[ItemRef, dict[str, Any]]:
        found = self.t.batch_get(keys, consistent=True)
        return {(i["pk"], i["sk"]): i for i in found}

    def delete(self, keys: Sequence[ItemRef]) -> None:
        requests = [
            {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in dict.fromkeys(keys)
        ]
        batch_write(self.t.client, self.t.table, requests)

    def profile(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        item = self.t.get(profile_pk(workspace_id, customer_id), "P", consistent=True)
        return profile_of(item) if item is not None and item.get("t") == "profile" else None

    def drop_pointer_keys(self, workspace_id: str, customer_id: str, into: str, names: list[str]) -> None:
        """A pointer into `into` is no longer found by these identities (`phone`,
        `external_id`): REMOVE its index keys (`phone_k`, `ext_k`)."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": "P"}},
                UpdateExpression="REMOVE " + ", ".join(INDEX_KEYS[n] for n in names),
                ConditionExpression="#into = :into",
                ExpressionAttributeNames={"#into": "into"},
                ExpressionAttributeValues={":into": {"S": into}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return

    def quarantined(self, workspace_id: str, source_id: str) -> list[ItemRef]:
        """The source's quarantined bodies (a filter on the workspace's partition)."""
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "src = :src",
            "ProjectionExpression": "sk",
            "ExpressionAttributeValues": {":pk": {"S": f"W#{workspace_id}#Q"}, ":src": {"S": source_id}},
        }
        out: list[ItemRef] = []
        while True:
            page = self.t.client.query(**kwargs)
            out.extend((f"W#{workspace_id}#Q", i["sk"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def catalogue(self, workspace_id: str, source_id: str) -> list[ItemRef]:
        """The source's catalogue products: a keys-only Query of its product partition."""
        pk = catalogue_partition(workspace_id, source_id)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "KeyConditionExpression": "pk = :pk",
            "ProjectionExpression": "sk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        out: list[ItemRef] = []
        while True:
            page = self.t.client.query(**kwargs)
            out.extend((pk, i["sk"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def admin_secret(self, workspace_id: str, source_id: str) -> str | None:
        listed = self.t.get(f"W#{workspace_id}#SRC", source_id, consistent=True)
        return str(listed["adm"]) if listed is not None and listed.get("adm") else None

    def disconnect(self, workspace_id: str, source_id: str) -> None:
        """REMOVE the Admin API attributes on both source items (once the secret is gone)."""
        listed = self.t.get(f"W#{workspace_id}#SRC", source_id, consistent=True)
        if listed is None:
            return
        for pk, sk in source_keys(listed["pl"], listed["shop"], workspace_id, source_id):
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="REMOVE " + ", ".join(ADMIN_ATTRIBUTES),
                ConditionExpression="attribute_exists(pk)",
            )


class S3ExportPurge:
    """Audience exports (`exports/<ws>/...` in the stage's bucket) made before a time: they
    mix every source's customers, so an erasure takes them all. Operator credentials only
    (no function has S3 rights)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def older(self, prefix: str, before: datetime) -> list[str]:
        keys: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if o["LastModified"] <= before]
        return keys

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
