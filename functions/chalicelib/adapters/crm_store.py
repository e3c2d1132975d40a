"""DynamoDB CRM table: workspaces, API keys, sources, profiles, merges, quarantine."""

from __future__ import annotations

import contextlib
import gzip
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.adapters.codec import batch_get, batch_write, from_item, to_av, to_item
from chalicelib.adapters.entry_store import EntryItems
from chalicelib.adapters.person_index import index_items
from chalicelib.adapters.retry import DEFAULT, Backoff, send_message_batch
from chalicelib.adapters.source_settings import (
    consent_key_fields,
    consent_keys_of,
    keys_of,
    update_consent_keys,
)
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import Platform, Source, now_utc
from chalicelib.domain.predict import ModelParams
from chalicelib.domain.profiles import WorkspaceSettings, profile_pk
from chalicelib.domain.records import iso, parse_iso
from chalicelib.domain.scoring import RfmEdges

MAX_POINTER_HOPS = 5
ERASED_SK = "X"  # an erasure mark in a customer id's partition (mark_erased)
FREE_SMS = 50  # a new workspace's SMS credits


def counter_update(
    table: str, pk: str, sk: str, counts: Mapping[str, int | Decimal], kind: str | None = None
) -> dict[str, Any] | None:
    """UpdateItem arguments that ADD each non-zero count to the item's counters (None: no
    count moves). `kind` sets `t` on an item the ADD creates. Also a transaction's `Update`."""
    moving = {name: value for name, value in counts.items() if value}
    if not moving:
        return None
    return {
        "TableName": table,
        "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
        "UpdateExpression": ("SET t = :t " if kind else "")
        + "ADD "
        + ", ".join(f"#c{i} :c{i}" for i in range(len(moving))),
        "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(moving)},
        "ExpressionAttributeValues": {f":c{i}": to_av(v) for i, v in enumerate(moving.values())}
        | ({":t": {"S": kind}} if kind else {}),
    }


class CrmTable:
    """Shared low-level access to the CRM table."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def get(self, pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=consistent
        )
        return from_item(response.get("Item"))

    def batch_get(self, keys: list[tuple[str, str]], consistent: bool = True) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(keys))
        return batch_get(
            self.client, self.table, [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique], consistent
        )

    def put(
        self,
        values: dict[str, Any],
        condition: str | None = None,
        values_for_condition: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": to_item(values)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values_for_condition:
            kwargs["ExpressionAttributeValues"] = {k: to_av(v) for k, v in values_for_condition.items()}
        self.client.put_item(**kwargs)

    def query(
        self, pk: str, limit: int = 50, start: str | None = None, newest_first: bool = True
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        if start:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": start}}
        response = self.client.query(**kwargs)
        items = [from_item(i) or {} for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (last["sk"]["S"] if last else None)

    def count(self, **query: Any) -> int:
        """Items a query matches (Select=COUNT), over all its pages."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Select": "COUNT", **query}
        total = 0
        while True:
            page = self.client.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_versioned(self, values: dict[str, Any], expected_version: Any, what: str) -> None:
        """Create the item (`expected_version` None) or replace it only at the `ver` it was
        read with: Conflict when another writer moved it meanwhile."""
        if expected_version is None:
            condition, check = "attribute_not_exists(pk)", None
        else:
            condition, check = "ver = :ver", {":ver": expected_version}
        try:
            self.put(values, condition, check)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict(f"{what} changed") from exc

    def add_counts(
        self,
        pk: str,
        sk: str,
        counts: Mapping[str, int | Decimal],
        kind: str | None = None,
        must_exist: bool = False,
    ) -> None:
        """ADD each non-zero count to the item's counters, atomically (no read). `kind` sets
        `t` on an item the ADD creates; `must_exist` refuses to create one."""
        update = counter_update(self.table, pk, sk, counts, kind)
        if update is None:
            return
        if must_exist:
            update["ConditionExpression"] = "attribute_exists(pk)"
        self.client.update_item(**update)

    def due_keys(self, index: str, bucket: str, until: str) -> list[tuple[str, str]]:
        """(pk, sk) of the items in a due-time bucket of the sparse index (`rk`, `nchk`)
        that are due by `until`: membership rechecks (`R#...`) and flow runs (`F#...`)."""
        keys: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "rk = :b AND nchk <= :u",
            "ExpressionAttributeValues": {":b": {"S": bucket}, ":u": {"S": until}},
        }
        while True:
            page = self.client.query(**kwargs)
            keys.extend((i["pk"]["S"], i["sk"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return keys
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def watermark(self, name: str) -> str | None:
        """How far a scheduled job got (`<name>` / `WM`)."""
        item = self.get(name, "WM", consistent=True)
        return str(item["until"]) if item else None

    def set_watermark(self, name: str, until: str) -> None:
        """Moves forward only (a late, overlapping run cannot move it back)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": name}, "sk": {"S": "WM"}},
                UpdateExpression="SET #u = :u",
                ConditionExpression="attribute_not_exists(#u) OR #u < :u",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues={":u": {"S": until}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    def query_index(self, index: str, attribute: str, value: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
            Limit=10,
        )
        return [from_item(i) or {} for i in response.get("Items", [])]


def _workspace_settings(workspace_id: str, item: dict[str, Any]) -> WorkspaceSettings:
    edges = item.get("rfm")
    return WorkspaceSettings(
        workspace_id=workspace_id,
        currency=item.get("currency", ""),
        id_salt=item["salt"],
        rates={k: Decimal(str(v)) for k, v in (item.get("rates") or {}).items()},
        rfm_edges=RfmEdges.from_dict(edges) if edges else None,
        rhythm_days=float(item["rhythm"]) if item.get("rhythm") is not None else None,
        model=ModelParams.from_dict(item["model"]) if item.get("model") else None,
        name=item.get("name", ""),
        notifications=frozenset(item.get("notify") or ()),
        sender_email=item.get("sender", ""),
        sms_sender_id=item.get("smsid", ""),
        engagement_rules={k: int(v) for k, v in (item.get("engr") or {}).items()},
        attribution_days=int(item.get("attrd") or 5),
        quiet_start=int(item.get("qs", 21)),
        quiet_end=int(item.get("qe", 9)),
        daily_caps={k: int(v) for k, v in (item.get("caps") or {}).items()},
        low_every_days=int(item.get("lowd") or 3),
        default_timezone=item.get("dtz") or "UTC",
    )


class DynamoWorkspaceStore:
    """Workspaces, their API keys (hashed) and storefront sources."""

    def __init__(self, table: CrmTable, cache_seconds: float = 300) -> None:
        self.t = table
        self._settings: TtlCache[WorkspaceSettings | None] = TtlCache(min(cache_seconds, 60))
        # Unknown shops and keys are remembered briefly: a flood of them costs few reads.
        self._sources: TtlCache[Source | None] = TtlCache(cache_seconds, negative_seconds=5)
        self._keys: TtlCache[str | None] = TtlCache(cache_seconds, negative_seconds=5)

    # workspaces
    def create_workspace(self, workspace_id: str, name: str, currency: str | None, api_key_hash: str) -> None:
        at = iso(now_utc())
        item = {
            "pk": f"WS#{workspace_id}",
            "sk": "WS",
            "t": "workspace",
            "ws": workspace_id,
            "name": name,
            "salt": secrets.token_hex(16),
            "rates": {},
            "smsc": FREE_SMS,
            "ca": at,
        }
        if currency is not None:  # absent: pending, set by the first order (adopt_currency)
            item["currency"] = currency
        self.t.put(item, "attribute_not_exists(pk)")
        # The directory of workspaces: scheduled jobs and ops list it without a scan.
        self.t.put({"pk": "WSLIST", "sk": workspace_id, "t": "workspace_ref", "name": name, "ca": at})
        self.t.put(
            {"pk": f"KEY#{api_key_hash}", "sk": "KEY", "t": "api_key", "ws": workspace_id, "ca": at},
            "attribute_not_exists(pk)",
        )

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        def load() -> WorkspaceSettings | None:
            item = self.t.get(f"WS#{workspace_id}", "WS")
            return None if item is None else _workspace_settings(workspace_id, item)

        return self._settings.get(workspace_id, load)

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        """The first order's currency becomes the workspace's, if it has none yet: a
        conditional write, so of two first orders racing, one sets it and both see it."""
        self._set_if_unset(workspace_id, "currency", currency)
        item = self.t.get(f"WS#{workspace_id}", "WS", consistent=True)
        if item is None:
            raise LookupError(f"workspace {workspace_id} not found")
        return _workspace_settings(workspace_id, item)

    def save_scores(
        self,
        workspace_id: str,
        edges: RfmEdges,
        rhythm_days: float | None,
        model: ModelParams | None = None,
    ) -> None:
        values: dict[str, Any] = {
            ":rfm": to_av({k: [Decimal(str(round(v, 6))) for v in vs] for k, vs in edges.as_dict().items()}),
            ":at": to_av(iso(now_utc())),
        }
        expression = "SET rfm = :rfm, scored_at = :at"
        if rhythm_days is not None:
            values[":rhythm"] = to_av(Decimal(str(round(rhythm_days, 4))))
            expression += ", rhythm = :rhythm"
        if model is not None:
            values[":model"] = to_av(
                {k: Decimal(f"{v:.8g}") if isinstance(v, float) else v for k, v in model.as_dict().items()}
            )
            expression += ", model = :model"
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )
        self._settings.invalidate(workspace_id)

    def set_messaging(
        self,
        workspace_id: str,
        notifications: list[str],
        sender_email: str | None,
        sms_sender_id: str | None,
    ) -> None:
        """Switch transactional notifications and set the senders (None: unchanged)."""
        names = {"#n": "notify"}
        sets: list[str] = []
        values: dict[str, Any] = {}
        if notifications:
            sets.append("#n = :n")
            values[":n"] = {"SS": sorted(set(notifications))}
        for attribute, value in (("sender", sender_email), ("smsid", sms_sender_id)):
            if value is not None:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
        clauses = ["SET " + ", ".join(sets)] if sets else []
        if not notifications:
            clauses.append("REMOVE #n")
        expression = " ".join(clauses)
        kwargs: dict[str, Any] = {
            "TableName": self.t.table,
            "Key": {"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        self.t.client.update_item(**kwargs)
        self._settings.invalidate(workspace_id)

    def set_engagement(
        self, workspace_id: str, rules: dict[str, int] | None, attribution_days: int | None
    ) -> None:
        """Engagement tier thresholds (`engr`, replaced whole) and the attribution window in
        days (`attrd`); None leaves either unchanged."""
        sets: list[str] = []
        values: dict[str, Any] = {}
        if rules is not None:
            sets.append("engr = :r")
            values[":r"] = to_av({k: int(v) for k, v in rules.items()})
        if attribution_days is not None:
            sets.append("attrd = :d")
            values[":d"] = to_av(int(attribution_days))
        if not sets:
            return
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values,
        )
        self._settings.invalidate(workspace_id)

    def set_sending(self, workspace_id: str, values: dict[str, Any]) -> None:
        """Sending settings (checked by chalicelib.domain.messaging.sending): quiet hours
        `qs`/`qe`, caps by tier `caps` (replaced whole), `lowd`, default zone `dtz`."""
        if not values:
            return
        names = {f"#{k}": k for k in values}
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":{k}": to_av(v) for k, v in values.items()},
        )
        self._settings.invalidate(workspace_id)

    def adopt_default_zone(self, workspace_id: str, zone: str) -> None:
        """A source's shop zone becomes the workspace's default zone if it has none yet."""
        self._set_if_unset(workspace_id, "dtz", zone)

    def _set_if_unset(self, workspace_id: str, attribute: str, value: str) -> None:
        """SET one workspace attribute only if it has none (a failed condition: another
        writer set it first, and theirs stands); the cached settings are dropped."""
        with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
                UpdateExpression="SET #a = :v",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#a)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )
        self._settings.invalidate(workspace_id)

    def workspace(self, workspace_id: str) -> dict[str, Any] | None:
        item = self.t.get(f"WS#{workspace_id}", "WS")
        if item:
            item.pop("salt", None)
        return item

    def set_rate(self, workspace_id: str, currency: str, rate: Decimal) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WS"}},
            UpdateExpression="SET rates.#c = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#c": currency},
            ExpressionAttributeValues={":r": to_av(rate)},
        )
        self._settings.invalidate(workspace_id)

    def workspace_ids(self) -> list[str]:
        ids: list[str] = []
        start = None
        while True:
            items, start = self.t.query("WSLIST", limit=1000, start=start, newest_first=False)
            ids.extend(i["sk"] for i in items)
            if start is None:
                return ids

    def workspace_for_key(self, api_key_hash: str) -> str | None:
        def load() -> str | None:
            item = self.t.get(f"KEY#{api_key_hash}", "KEY")
            return str(item["ws"]) if item else None

        return self._keys.get(api_key_hash, load)

    # sources
    def add_source(self, source: Source) -> None:
        (by_shop, by_shop_sk), (listed, listed_sk) = keys_of(source)
        item = {
            "pk": by_shop,
            "sk": by_shop_sk,
            "t": "source",
            "ws": source.workspace_id,
            "sid": source.source_id,
            "pl": source.platform.value,
            "shop": source.shop_domain,
            "secret": source.secret_ref,
            "ca": iso(now_utc()),
        }
        if source.default_region:
            item["rg"] = source.default_region
        if source.timezone:
            item["tz"] = source.timezone
        if source.birthday_meta_key:
            item["bk"] = source.birthday_meta_key
        item |= consent_key_fields(source.email_consent_keys, source.sms_consent_keys)
        self.t.put(item, "attribute_not_exists(pk)")
        self.t.put({**item, "pk": listed, "sk": listed_sk})

    def find_source(self, platform: str, shop_key: str) -> Source | None:
        def load() -> Source | None:
            item = self.t.get(f"SRC#{platform}#{shop_key}", "SRC")
            if item is None:
                return None
            return Source(
                workspace_id=item["ws"],
                source_id=item["sid"],
                platform=Platform(item["pl"]),
                shop_domain=item["shop"],
                secret_ref=item["secret"],
                default_region=item.get("rg"),
                timezone=item.get("tz"),
                birthday_meta_key=item.get("bk"),
                **consent_keys_of(item),
                erasing=bool(item.get("ers")),
            )

        return self._sources.get(f"{platform}#{shop_key}", load)

    def set_shop_zone(self, source: Source, zone: str) -> bool:
        """`tz` on both source items, each only if it differs (a repeat writes nothing more);
        then the workspace's default zone, if it has none."""
        changed = False
        for pk, sk in keys_of(source):
            with contextlib.suppress(self.t.client.exceptions.ConditionalCheckFailedException):
                self.t.client.update_item(
                    TableName=self.t.table,
                    Key={"pk": {"S": pk}, "sk": {"S": sk}},
                    UpdateExpression="SET tz = :z",
                    ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(tz) OR tz <> :z)",
                    ExpressionAttributeValues={":z": {"S": zone}},
                )
                changed = True
        self._sources.invalidate(f"{source.platform.value}#{source.shop_domain}")
        if changed:
            self.adopt_default_zone(source.workspace_id, zone)
        return changed

    def set_consent_keys(
        self, source: Source, email_keys: tuple[str, ...] | None, sms_keys: tuple[str, ...] | None
    ) -> None:
        update_consent_keys(self.t.client, self.t.table, source, email_keys, sms_keys)
        self._sources.invalidate(f"{source.platform.value}#{source.shop_domain}")

    def sources(self, workspace_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#SRC", limit=100, newest_first=False)
        return items


class DynamoProfileStore:
    """Profiles with optimistic locking, identity pointers and merge records."""

    def __init__(self, table: CrmTable, phone_index: str = "by_phone", ext_index: str = "by_ext") -> None:
        self.t = table
        self.phone_index = phone_index
        self.ext_index = ext_index
        self.entries = EntryItems(table.client, table.table)

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        return self.entries.newest(workspace_id, customer_ids, keys)

    def get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        item = self.t.get(profile_pk(workspace_id, customer_id), "P")
        for _ in range(MAX_POINTER_HOPS):
            if item is None or "into" not in item:
                return item
            item = self.t.get(profile_pk(workspace_id, item["into"]), "P")
        return None

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
        profile: dict[str, Any],
        expected_rev: int | None,
        extra: list[dict[str, Any]],
        retired: list[tuple[dict[str, Any], int]],
        moved: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        self.entries.write(profile["ws"], profile["cid"], moved)  # before the profile: see entry_store
        condition, cvalues = _rev_condition(expected_rev)
        if not extra and not retired:
            try:
                self.t.put(profile, condition, cvalues)
            except self.t.client.exceptions.ConditionalCheckFailedException as exc:
                raise Conflict("profile changed") from exc
            return
        actions: list[dict[str, Any]] = [_put(self.t.table, profile, condition, cvalues)]
        for item in extra:
            actions.append(_put(self.t.table, item, "attribute_not_exists(pk)", None))
        for old, rev in retired:
            pointer: dict[str, Any] = {
                k: old[k] for k in ("pk", "sk", "ws", "cid", "phone_k", "ext_k", "ca") if k in old
            }
            pointer.update({"t": "pointer", "into": profile["cid"], "rev": rev + 1, "kind": "merge"})
            cond, vals = _rev_condition(rev)
            actions.append(_put(self.t.table, pointer, cond, vals))
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


class DynamoPrivacyStore:
    """Erasure of profiles, redaction of ingest items, privacy audit and exports."""

    def __init__(self, table: CrmTable, ingest_client: Any, ingest_table: str) -> None:
        self.t = table
        self.ingest_client = ingest_client
        self.ingest_table = ingest_table

    def erase_profile(self, workspace_id: str, profile: dict[str, Any], pointer_ids: list[str]) -> int:
        deleted = 0
        client = self.t.client
        for customer_id in dict.fromkeys(pointer_ids):
            try:  # only pointers into this profile; a shared id that moved elsewhere stays
                client.delete_item(
                    TableName=self.t.table,
                    Key={"pk": {"S": profile_pk(workspace_id, customer_id)}, "sk": {"S": "P"}},
                    ConditionExpression="#into = :cid",
                    ExpressionAttributeNames={"#into": "into"},
                    ExpressionAttributeValues={":cid": {"S": profile["cid"]}},
                )
                deleted += 1
            except client.exceptions.ConditionalCheckFailedException:
                continue
        # Its moved order entries, and those of the profiles merged into it, go first: a
        # retry of the request finds the profile again until everything is gone.
        entries = EntryItems(client, self.t.table)
        for customer_id in dict.fromkeys([profile["cid"], *pointer_ids]):
            deleted += entries.delete_all(workspace_id, customer_id)
        client.delete_item(TableName=self.t.table, Key={"pk": {"S": profile["pk"]}, "sk": {"S": "P"}})
        # the customer's engagement (opens, clicks, the last click) goes with the profile
        client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#ENG#{profile['cid']}"}, "sk": {"S": "E"}},
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

    def redact_records(self, keys: list[str]) -> int:
        """Items that held a person (a retry counts none twice)."""
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
        at = now_utc()
        self.t.put(
            {
                "pk": f"W#{workspace_id}#PRIVACY",
                "sk": f"export#{request_id}",
                "t": "export",
                "rid": request_id,
                "body": payload,
                "at": iso(at),
                "ttl": int((at + timedelta(days=ttl_days)).timestamp()),
            }
        )

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


class DynamoSegmentStore:
    def __init__(self, table: CrmTable, cache_seconds: float = 30) -> None:
        self.t = table
        # A warm stream processor sees a new or deleted segment within this many seconds.
        self._lists: TtlCache[list[dict[str, Any]]] = TtlCache(cache_seconds)

    def put_segment(self, workspace_id: str, item: dict[str, Any]) -> None:
        self.t.put(item, "attribute_not_exists(pk)")
        self._lists.invalidate(workspace_id)

    def get_segment(self, workspace_id: str, segment_id: str) -> dict[str, Any] | None:
        return self.t.get(f"W#{workspace_id}#SEG", segment_id, consistent=True)

    def list_segments(self, workspace_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            items, _ = self.t.query(f"W#{workspace_id}#SEG", limit=1000, newest_first=False)
            return items

        return self._lists.get(workspace_id, load)

    def delete_segment(self, workspace_id: str, segment_id: str) -> bool:
        response = self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": f"W#{workspace_id}#SEG"}, "sk": {"S": segment_id}},
            ReturnValues="ALL_OLD",
        )
        self._lists.invalidate(workspace_id)
        return "Attributes" in response


class DynamoMembershipStore:
    """Membership records (sparse recheck index) and member index items."""

    def __init__(self, table: CrmTable, recheck_index: str = "by_recheck") -> None:
        self.t = table
        self.recheck_index = recheck_index

    def get_record(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        return self.t.get(f"W#{workspace_id}#PM#{customer_id}", "M", consistent=True)

    def save(
        self,
        workspace_id: str,
        customer_id: str,
        members: set[str],
        next_check: str | None,
        shard_key: str | None,
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
            "rk": shard_key,
            "ver": iso(now_utc()),
        }
        self.t.put_versioned(record, expected_version, "membership record")

    def due(self, bucket: str, until: str) -> list[str]:
        keys = []
        for pk, _ in self.t.due_keys(self.recheck_index, bucket, until):
            _, workspace_id, _, customer_id = pk.split("#", 3)
            keys.append(f"{workspace_id}|{customer_id}")
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


class DynamoSweepStore:
    """Pending segment backfills: one small partition (`SWEEP`) the minute job reads."""

    PK = "SWEEP"

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def add(self, workspace_id: str, segment_id: str, not_before: str) -> None:
        self.t.put(
            {
                "pk": self.PK,
                "sk": f"{workspace_id}#{segment_id}",
                "t": "sweep",
                "ws": workspace_id,
                "seg": segment_id,
                "nb": not_before,
                "n": 0,
                "ca": iso(now_utc()),
            }
        )

    def pending(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.t.query(self.PK, limit=100, start=cursor, newest_first=False)
            items.extend(page)
            if cursor is None:
                return items

    def advance(self, workspace_id: str, segment_id: str, cursor: str, processed: int) -> bool:
        """Record progress; False when the sweep is gone (its segment was deleted)."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": self.PK}, "sk": {"S": f"{workspace_id}#{segment_id}"}},
                UpdateExpression="SET cur = :c ADD n :n",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":c": {"S": cursor}, ":n": {"N": str(processed)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(self, workspace_id: str, segment_id: str) -> None:
        self.t.client.delete_item(
            TableName=self.t.table,
            Key={"pk": {"S": self.PK}, "sk": {"S": f"{workspace_id}#{segment_id}"}},
        )

    def get(self, workspace_id: str, segment_id: str) -> dict[str, Any] | None:
        return self.t.get(self.PK, f"{workspace_id}#{segment_id}")


class SqsEventSink:
    """Segment enter/exit events to the stage's queue, ten per request. Entries the answer
    lists as `Failed` are sent again with backoff; if they still fail it raises, so the
    stream record fails and is retried (no event is dropped without a trace)."""

    def __init__(self, client: Any, queue_url: str, backoff: Backoff = DEFAULT) -> None:
        self._client = client
        self.queue_url = queue_url
        self.backoff = backoff

    def publish(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 10):
            chunk = events[start : start + 10]
            send_message_batch(
                self._client,
                self.queue_url,
                [{"Id": str(i), "MessageBody": json.dumps(event)} for i, event in enumerate(chunk)],
                self.backoff,
            )


class DynamoWindowCounter:
    """`W#<ws>#RATE` / `<window>`: requests counted with a conditional ADD, expired by TTL."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def take(self, workspace_id: str, window: str, limit: int, expires: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key={"pk": {"S": f"W#{workspace_id}#RATE"}, "sk": {"S": window}},
                UpdateExpression="ADD n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":ttl": {"N": str(expires)},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
