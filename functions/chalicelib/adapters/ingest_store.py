"""DynamoDB ingest table: the latest state of every storefront resource.

Each delivery is one conditional write. Versions only move forward: a
redelivered or older state fails the condition and changes nothing.

A failed conditional write is billed a whole write unit, and a third of all deliveries
repeat a stored state (another topic of the same change, storefront retries). So each
delivery first reads what is stored, eventually consistent (half a read unit, a tenth
of a write's price), and writes only when the read does not already settle it. The read
can lag, but only towards letting a write through: the write's condition still decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.codec import batch_get, from_item, to_av, to_item
from chalicelib.adapters.order_items import image, order_detail, order_image
from chalicelib.domain import timemath
from chalicelib.domain.ingest_images import Image, OrderImage
from chalicelib.domain.models import (
    Checkout,
    Customer,
    Delivery,
    IngestPayload,
    Order,
    OrderDeletion,
    PrivacyRequest,
    RecordVersion,
    RefundEvent,
)
from chalicelib.domain.order_snapshot import OrderDetail, split_public_order_id
from chalicelib.domain.ports import WriteOutcome

# A newer version wins; the same body again (another topic, a retry) is no change. Two
# different bodies with the same version (WooCommerce stamps seconds and sends no trigger
# time, so two changes within one second tie): the later arrival wins rather than be lost.
NEWER = "attribute_not_exists(ver) OR (ver <= :ver AND (attribute_not_exists(h) OR h <> :h))"


class DynamoIngestStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self.table = table

    def apply(self, delivery: Delivery, payload: IngestPayload) -> WriteOutcome:
        if isinstance(payload, Order):
            return self._order(delivery, payload)
        if isinstance(payload, RefundEvent):
            return self._refund(delivery, payload)
        if isinstance(payload, OrderDeletion):
            return self._mark(delivery, payload.order_id, records.DELETIONS, "deleted", payload.at)
        if isinstance(payload, Customer):
            pk = records.customer_pk(delivery.workspace_id, delivery.source_id, payload.customer_id)
            return self._put_versioned(
                pk, delivery, "customer", records.customer_fields(payload), payload.updated_at
            )
        if isinstance(payload, Checkout):
            pk = records.checkout_pk(delivery.workspace_id, delivery.source_id, payload.checkout_id)
            return self._put_versioned(
                pk, delivery, "checkout", records.checkout_fields(payload), payload.updated_at
            )
        if isinstance(payload, PrivacyRequest):
            return self._privacy(delivery, payload)
        raise TypeError(f"unsupported payload {type(payload).__name__}")

    def _version(self, delivery: Delivery, updated_at: Any, progress: int = 0) -> str:
        return RecordVersion(
            updated_at=updated_at, triggered_at=delivery.triggered_at, progress=progress
        ).key()

    def _order(self, delivery: Delivery, order: Order) -> WriteOutcome:
        if order.restores:
            # the restoration counts whatever the state's version: a restore that arrives
            # after a later update still undoes one deletion
            marked = self._mark(
                delivery, order.order_id, records.RESTORATIONS, "restored", delivery.received_at
            )
            outcome = self._state(delivery, order)
            return "stored" if "stored" in (marked, outcome) else outcome
        return self._state(delivery, order)

    def _order_values(self, delivery: Delivery, order: Order) -> tuple[str, dict[str, Any], list[Any]]:
        """An order state's key, the attributes it sets (None: removes) and its `hist` entry."""
        values = records.header_fields(delivery, "order") | records.order_fields(order)
        values |= records.historical_mark(delivery, order)
        values["ver"] = self._version(delivery, order.updated_at, order.progress)
        values["h"] = delivery.body_hash
        for refund in order.refunds:
            values[records.REFUND_PREFIX + refund.refund_id] = records.refund_value(refund)
        event = [order.status.value, timemath.iso(order.updated_at)]
        return records.order_pk(delivery.workspace_id, delivery.source_id, order.order_id), values, event

    def write_chunk(
        self, writes: Sequence[tuple[Delivery, IngestPayload]]
    ) -> tuple[list[WriteOutcome], list[Image]]:
        """A history import's chunk (domain/batch_import.py): one consistent BatchGetItem of
        its items (per 100) instead of a read per record; then an order whose item does not
        exist is put whole, conditioned on that (`v` 1, `hist` its one entry: the item the
        update would make), and everything else, or a put that finds the item after all, is
        `apply`'d as one delivery. Returns each outcome, and the state each item holds after
        the chunk, decoded, each once in first-named order: what was put is known, the rest
        (a refund updates its order's item, a newer state a webhook stored is the profile's)
        is read back in one more consistent batch. A webhook that writes a put item in the
        meantime is applied by the stream's consumer anyway: its version wins."""
        keys = [records.payload_pk(d.workspace_id, d.source_id, p) for d, p in writes]
        unique = list(dict.fromkeys(k for k in keys if k))
        present = {i["pk"] for i in self._read(unique)}
        put: dict[str, dict[str, Any]] = {}
        outcomes: list[WriteOutcome] = []
        for (delivery, payload), key in zip(writes, keys, strict=True):
            item = None
            if isinstance(payload, Order) and not payload.restores and key and key not in present:
                item = self._put_new(delivery, payload)
            if item is not None:
                put[str(key)] = item
                outcomes.append("stored")
                present.add(str(key))
                continue
            outcomes.append(self.apply(delivery, payload))
            put.pop(key or "", None)
            present.add(key or "")
        found = {i["pk"]: i for i in self._read([k for k in unique if k not in put])} | put
        return outcomes, [decoded for k in unique if (decoded := image(found.get(k))) is not None]

    def _read(self, keys: list[str]) -> list[dict[str, Any]]:
        return batch_get(self._client, self.table, [{"pk": {"S": k}} for k in keys], True) if keys else []

    def _put_new(self, delivery: Delivery, order: Order) -> dict[str, Any] | None:
        """The new order's item, put on condition that none is there (None: one is)."""
        pk, values, event = self._order_values(delivery, order)
        item = to_item({"pk": pk, **values, "v": 1, "hist": [event]})
        try:
            self._client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None  # written meanwhile (a webhook): the update path decides
        return from_item(item)

    def _state(self, delivery: Delivery, order: Order) -> WriteOutcome:
        pk, values, event = self._order_values(delivery, order)
        ver = values["ver"]
        stored = self._stored(pk, "ver", "h", "rdx") or {}
        known = self._settled(stored, ver, delivery.body_hash)
        if known is not None:
            return known
        condition_values = {":ver": to_av(ver), ":h": to_av(delivery.body_hash or "")}
        if "rdx" not in stored:
            outcome = self._update(
                pk, values, f"({NEWER}) AND attribute_not_exists(rdx)", condition_values, event
            )
            if outcome == "stored" or "rdx" not in (self._stored(pk, "rdx") or {}):
                return outcome
        # The person was erased from this order (a privacy request): its later states still
        # count, anonymously; the store's copy of the person is not taken back.
        return self._update(pk, values | {"p": None}, NEWER, condition_values, event)

    def _refund(self, delivery: Delivery, event: RefundEvent) -> WriteOutcome:
        name = records.REFUND_PREFIX + event.refund.refund_id
        values = records.header_fields(delivery, "order") | {
            "oid": event.order_id,
            name: records.refund_value(event.refund),
        }
        entry = ["refund", timemath.iso(event.refund.created_at), str(event.refund.amount)]
        pk = records.order_pk(delivery.workspace_id, delivery.source_id, event.order_id)
        if self._stored(pk, name):
            return "duplicate"
        return self._update(
            pk,
            values,
            "attribute_not_exists(#c0)",
            {},
            entry,
            condition_names={"#c0": name},
        )

    def _mark(self, delivery: Delivery, order_id: str, attr: str, event: str, at: Any) -> WriteOutcome:
        """Add this delivery's id to the order's deletions or restorations (a string set):
        once per delivery, whatever the order's version; `v` moves so the profile follows."""
        mark = delivery.webhook_id or delivery.body_hash or timemath.iso(at) or ""
        pk = records.order_pk(delivery.workspace_id, delivery.source_id, order_id)
        stored = self._stored(pk, attr) or {}
        if mark in stored.get(attr, {}).get("SS", []):
            return "duplicate"
        header = records.header_fields(delivery, "order") | {"oid": order_id}
        values = {k: v for k, v in header.items() if v is not None}
        names = {f"#a{i}": k for i, k in enumerate(values)} | {"#m": attr}
        vals = {f":a{i}": to_av(v) for i, v in enumerate(values.values())}
        sets = [f"#a{i} = :a{i}" for i in range(len(values))] + [
            "v = if_not_exists(v, :zero) + :one",
            "hist = list_append(if_not_exists(hist, :empty), :hist)",
        ]
        vals |= {
            ":m": {"SS": [mark]},
            ":ms": {"S": mark},
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":empty": {"L": []},
            ":hist": {"L": [to_av([event, timemath.iso(at)])]},
        }
        return self._write(
            "update_item",
            Key={"pk": {"S": pk}},
            UpdateExpression="SET " + ", ".join(sets) + " ADD #m :m",
            ConditionExpression="attribute_not_exists(#m) OR NOT contains(#m, :ms)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=vals,
        )

    def _update(
        self,
        pk: str,
        values: dict[str, Any],
        condition: str,
        condition_values: dict[str, Any],
        history_entry: list[Any],
        condition_names: dict[str, str] | None = None,
    ) -> WriteOutcome:
        """SET the given attributes, REMOVE the null ones, bump `v`, append to `hist`."""
        names: dict[str, str] = dict(condition_names or {})
        vals: dict[str, Any] = dict(condition_values)
        sets, removes = [], []
        for i, (key, value) in enumerate(values.items()):
            names[f"#a{i}"] = key
            if value is None:
                removes.append(f"#a{i}")
            else:
                vals[f":a{i}"] = to_av(value)
                sets.append(f"#a{i} = :a{i}")
        sets.append("v = if_not_exists(v, :zero) + :one")
        sets.append("hist = list_append(if_not_exists(hist, :empty), :hist)")
        vals[":zero"] = {"N": "0"}
        vals[":one"] = {"N": "1"}
        vals[":empty"] = {"L": []}
        vals[":hist"] = {"L": [to_av(history_entry)]}
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        return self._write(
            "update_item",
            Key={"pk": {"S": pk}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=vals,
        )

    def _put_versioned(
        self, pk: str, delivery: Delivery, kind: str, fields: dict[str, Any], updated_at: Any
    ) -> WriteOutcome:
        ver = self._version(delivery, updated_at)
        known = self._known(pk, ver, delivery.body_hash)
        if known is not None:
            return known
        item = to_item(
            {"pk": pk, "ver": ver, "h": delivery.body_hash, **records.header_fields(delivery, kind), **fields}
        )
        return self._write(
            "put_item",
            Item=item,
            ConditionExpression=NEWER,
            ExpressionAttributeValues={":ver": {"S": ver}, ":h": {"S": delivery.body_hash or ""}},
        )

    def _privacy(self, delivery: Delivery, request: PrivacyRequest) -> WriteOutcome:
        pk = records.privacy_pk(delivery.workspace_id, delivery.source_id, request.request_id)
        if self._stored(pk, "pk"):
            return "duplicate"
        item = to_item(
            {"pk": pk, **records.header_fields(delivery, "privacy"), **records.privacy_fields(request)}
        )
        return self._write("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")

    def _stored(self, pk: str, *names: str) -> dict[str, Any] | None:
        """The named attributes of the stored item, read eventually consistent (None: no item,
        or none of them)."""
        response = self._client.get_item(
            TableName=self.table,
            Key={"pk": {"S": pk}},
            ProjectionExpression=", ".join(f"#n{i}" for i in range(len(names))),
            ExpressionAttributeNames={f"#n{i}": n for i, n in enumerate(names)},
        )
        item: dict[str, Any] | None = response.get("Item") or None
        return item

    def _known(self, pk: str, ver: str, body_hash: str | None) -> WriteOutcome | None:
        """'stale' or 'duplicate' when the stored state already settles this delivery, None
        to write. The same signature is the same body, hence no newer state than the one
        read: a read that lags can only return None where the write would fail."""
        return self._settled(self._stored(pk, "ver", "h") or {}, ver, body_hash)

    @staticmethod
    def _settled(stored: dict[str, Any], ver: str, body_hash: str | None) -> WriteOutcome | None:
        stored_ver = stored.get("ver", {}).get("S")
        if stored_ver is not None and stored_ver > ver:
            return "stale"
        if body_hash and stored.get("h", {}).get("S") == body_hash:
            return "duplicate"
        return None

    def _write(self, operation: str, **kwargs: Any) -> WriteOutcome:
        client = self._client
        try:
            getattr(client, operation)(
                TableName=self.table, ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item") or {}
            mine = kwargs.get("ExpressionAttributeValues", {}).get(":ver", {}).get("S")
            stored = old.get("ver", {}).get("S")
            if mine is not None and stored is not None and stored > mine:
                return "stale"
            return "duplicate"
        return "stored"


def order_keys(workspace_id: str, order_ids: Sequence[str]) -> list[str]:
    """The ingest keys of these public order ids (`source.order`; others are no order's)."""
    return [records.order_pk(workspace_id, *p) for o in order_ids if (p := split_public_order_id(o))]


class DynamoOrderReader:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self.table = table

    def get_orders(self, keys: list[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(keys))
        return batch_get(self._client, self.table, [{"pk": {"S": k}} for k in unique])

    def order_details(self, workspace_id: str, order_ids: list[str]) -> list[OrderDetail]:
        return [order_detail(i) for i in self.get_orders(order_keys(workspace_id, order_ids))]

    def order_images(self, keys: list[str]) -> list[OrderImage]:
        """The orders stored under these keys, decoded (adapters/order_items.py)."""
        return [order_image(i) for i in self.get_orders(keys) if i.get("t") == "order"]

    def order_images_of(self, workspace_id: str, order_ids: list[str]) -> list[OrderImage]:
        """The stored orders of these public ids, decoded, read consistently (the historical
        points' reads, just after the import wrote them)."""
        keys = list(dict.fromkeys(order_keys(workspace_id, order_ids)))
        items = batch_get(self._client, self.table, [{"pk": {"S": k}} for k in keys], True) if keys else []
        return [order_image(i) for i in items if i.get("t") == "order"]
