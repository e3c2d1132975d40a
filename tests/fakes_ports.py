"""In-memory stand-ins for the ingest side's ports: SourceDirectory and the workspace
settings (find_source, set_shop_zone, adopt_currency), SecretStore, IngestStore,
Quarantine and WindowCounter.

Each keeps the conditions of its DynamoDB adapter, and items go through the DynamoDB
codec as they would on the wire. tests/integration/test_contract_*.py runs one scenario
suite against the fake and against the adapter on moto, so neither can drift.

The fake ingest store also plays the table's stream: every accepted write appends its
(old image, new image) to `stream`, as DynamoDB's NEW_AND_OLD_IMAGES stream would.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.codec import from_item, to_item
from chalicelib.adapters.ingest_store import order_keys
from chalicelib.adapters.order_items import image as image_of
from chalicelib.adapters.order_items import order_detail
from chalicelib.adapters.secrets import admin_secret, credentials_of
from chalicelib.domain import timemath
from chalicelib.domain.ingest_images import Image as IngestImage
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
    Source,
    now_utc,
)
from chalicelib.domain.order_snapshot import OrderDetail
from chalicelib.domain.ports import WriteOutcome
from chalicelib.domain.profiles import WorkspaceSettings
from chalicelib.domain.store_admin import AdminCredentials

Image = dict[str, Any]


def wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """What DynamoDB would hand back for an item written now (None attributes dropped)."""
    result = from_item(to_item(dict(item)))
    assert result is not None
    return result


# -- IngestStore ----------------------------------------------------------------------


class FakeIngestStore:
    """DynamoIngestStore's rules on a dict: a newer version wins, the same body again is a
    duplicate, an older one is stale; refunds once per id, deletions and restorations once
    per delivery id; privacy requests once; an erased person (`rdx`) stays erased."""

    def __init__(self) -> None:
        self.items: dict[str, Image] = {}
        self.stream: list[tuple[Image | None, Image]] = []
        self.writes = 0

    def apply(self, delivery: Delivery, payload: IngestPayload) -> WriteOutcome:
        if isinstance(payload, Order):
            if payload.restores:
                marked = self._mark(
                    delivery, payload.order_id, records.RESTORATIONS, "restored", delivery.received_at
                )
                outcome = self._state(delivery, payload)
                return "stored" if "stored" in (marked, outcome) else outcome
            return self._state(delivery, payload)
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
            pk = records.privacy_pk(delivery.workspace_id, delivery.source_id, payload.request_id)
            if pk in self.items:
                return "duplicate"
            fields = records.header_fields(delivery, "privacy") | records.privacy_fields(payload)
            return self._commit(pk, {"pk": pk, **fields})
        raise TypeError(f"unsupported payload {type(payload).__name__}")

    def write_chunk(
        self, writes: Sequence[tuple[Delivery, IngestPayload]]
    ) -> tuple[list[WriteOutcome], list[IngestImage]]:
        """As DynamoIngestStore.write_chunk: each as `apply` writes it; each item after, once."""
        outcomes = [self.apply(delivery, payload) for delivery, payload in writes]
        keys = dict.fromkeys(
            k for d, p in writes if (k := records.payload_pk(d.workspace_id, d.source_id, p))
        )
        return outcomes, [found for k in keys if (found := image_of(self.items.get(k))) is not None]

    # -- the adapter's write rules -------------------------------------------------------
    @staticmethod
    def _version(delivery: Delivery, updated_at: datetime, progress: int = 0) -> str:
        return RecordVersion(
            updated_at=updated_at, triggered_at=delivery.triggered_at, progress=progress
        ).key()

    @staticmethod
    def _settled(stored: Image, ver: str, body_hash: str | None) -> WriteOutcome | None:
        if stored.get("ver") is not None and stored["ver"] > ver:
            return "stale"
        if body_hash and stored.get("h") == body_hash:
            return "duplicate"
        return None

    def _newer(self, stored: Image, ver: str, body_hash: str | None) -> bool:
        """NEWER: attribute_not_exists(ver) OR (ver <= :ver AND (no h OR h <> :h))."""
        if "ver" not in stored:
            return True
        return bool(stored["ver"] <= ver and ("h" not in stored or stored["h"] != (body_hash or "")))

    def _state(self, delivery: Delivery, order: Order) -> WriteOutcome:
        ver = self._version(delivery, order.updated_at, order.progress)
        values = records.header_fields(delivery, "order") | records.order_fields(order)
        values |= records.historical_mark(delivery, order)
        values["ver"] = ver
        values["h"] = delivery.body_hash
        for refund in order.refunds:
            values[records.REFUND_PREFIX + refund.refund_id] = records.refund_value(refund)
        pk = records.order_pk(delivery.workspace_id, delivery.source_id, order.order_id)
        stored = self.items.get(pk, {})
        known = self._settled(stored, ver, delivery.body_hash)
        if known is not None:
            return known
        if not self._newer(stored, ver, delivery.body_hash):
            return "stale" if stored.get("ver", "") > ver else "duplicate"
        if "rdx" in stored:  # the person was erased from this order: later states count anonymously
            values["p"] = None
        return self._update(pk, values, [order.status.value, timemath.iso(order.updated_at)])

    def _refund(self, delivery: Delivery, event: RefundEvent) -> WriteOutcome:
        name = records.REFUND_PREFIX + event.refund.refund_id
        pk = records.order_pk(delivery.workspace_id, delivery.source_id, event.order_id)
        if name in self.items.get(pk, {}):
            return "duplicate"
        values = records.header_fields(delivery, "order") | {
            "oid": event.order_id,
            name: records.refund_value(event.refund),
        }
        entry = ["refund", timemath.iso(event.refund.created_at), str(event.refund.amount)]
        return self._update(pk, values, entry)

    def _mark(self, delivery: Delivery, order_id: str, attr: str, event: str, at: datetime) -> WriteOutcome:
        mark = delivery.webhook_id or delivery.body_hash or timemath.iso(at) or ""
        pk = records.order_pk(delivery.workspace_id, delivery.source_id, order_id)
        stored = self.items.get(pk, {})
        if mark in stored.get(attr, set()):
            return "duplicate"
        values = records.header_fields(delivery, "order") | {"oid": order_id}
        values = {k: v for k, v in values.items() if v is not None}
        values[attr] = set(stored.get(attr, set())) | {mark}
        return self._update(pk, values, [event, timemath.iso(at)])

    def _update(self, pk: str, values: Image, history_entry: list[Any]) -> WriteOutcome:
        """UpdateItem: SET the given attributes, REMOVE the null ones, `v` + 1, `hist` + entry."""
        item = dict(self.items.get(pk, {"pk": pk}))
        for key, value in values.items():
            if value is None:
                item.pop(key, None)
            else:
                item[key] = value
        item["v"] = int(item.get("v", 0)) + 1
        item["hist"] = [*item.get("hist", []), history_entry]
        return self._commit(pk, item)

    def _put_versioned(
        self, pk: str, delivery: Delivery, kind: str, fields: Image, updated_at: datetime
    ) -> WriteOutcome:
        ver = self._version(delivery, updated_at)
        stored = self.items.get(pk, {})
        known = self._settled(stored, ver, delivery.body_hash)
        if known is not None:
            return known
        if not self._newer(stored, ver, delivery.body_hash):
            return "stale" if stored.get("ver", "") > ver else "duplicate"
        item = {
            "pk": pk,
            "ver": ver,
            "h": delivery.body_hash,
            **records.header_fields(delivery, kind),
            **fields,
        }
        return self._commit(pk, item)

    def _commit(self, pk: str, item: Image) -> WriteOutcome:
        old = self.items.get(pk)
        new = wire(item)
        self.items[pk] = new
        self.writes += 1
        self.stream.append((wire(old) if old is not None else None, wire(new)))
        return "stored"

    # -- reads (DynamoOrderReader) ---------------------------------------------------------
    def get_orders(self, keys: list[str]) -> list[Image]:
        return [wire(self.items[k]) for k in dict.fromkeys(keys) if k in self.items]

    def order_details(self, workspace_id: str, order_ids: list[str]) -> list[OrderDetail]:
        return [order_detail(i) for i in self.get_orders(order_keys(workspace_id, order_ids))]


# -- SourceDirectory and workspace settings ------------------------------------------------


class FakeWorkspaceDirectory:
    """Workspaces and their sources, as DynamoWorkspaceStore keeps them: the shop zone is set
    on the source only when it differs, then becomes the workspace's default zone if it has
    none; a pending currency is set once (the first one stands)."""

    def __init__(self) -> None:
        self.workspaces: dict[str, Image] = {}
        self.by_shop: dict[tuple[str, str], Source] = {}

    def create_workspace(
        self,
        workspace_id: str,
        name: str,
        currency: str | None,
        api_key_hash: str = "",
        *,
        salt: str = "salt",
        rates: Image | None = None,
    ) -> None:
        if workspace_id in self.workspaces:
            raise ValueError("workspace exists")
        item: Image = {"ws": workspace_id, "name": name, "salt": salt, "rates": dict(rates or {})}
        if currency is not None:  # absent: pending, set by the first order (adopt_currency)
            item["currency"] = currency
        self.workspaces[workspace_id] = item

    def add_source(self, source: Source) -> None:
        key = (source.platform.value, source.shop_domain)
        if key in self.by_shop:
            raise ValueError("source exists")
        self.by_shop[key] = source

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        item = self.workspaces.get(workspace_id)
        if item is None:
            return None
        return WorkspaceSettings(
            workspace_id=workspace_id,
            currency=item.get("currency", ""),
            id_salt=item["salt"],
            rates={k: Decimal(str(v)) for k, v in item["rates"].items()},
            default_timezone=item.get("dtz") or "UTC",
        )

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        item = self.workspaces.get(workspace_id)
        if item is None:
            raise LookupError(f"workspace {workspace_id} not found")
        item.setdefault("currency", currency)
        settings = self.settings(workspace_id)
        assert settings is not None
        return settings

    def find_source(self, platform: str, shop_key: str) -> Source | None:
        return self.by_shop.get((platform, shop_key))

    def set_admin_api(self, connected: Source) -> None:
        key = (connected.platform.value, connected.shop_domain)
        current = self.by_shop[key]
        self.by_shop[key] = current.model_copy(
            update={
                name: getattr(connected, name)
                for name in ("admin_ref", "admin_api_version", "admin_endpoint")
            }
        )

    def set_shop_zone(self, source: Source, zone: str) -> bool:
        key = (source.platform.value, source.shop_domain)
        current = self.by_shop.get(key)
        if current is None or current.timezone == zone:
            return False
        self.by_shop[key] = current.model_copy(update={"timezone": zone})
        workspace = self.workspaces.get(source.workspace_id)
        if workspace is not None:
            workspace.setdefault("dtz", zone)
        return True


# -- SecretStore --------------------------------------------------------------------------


class FakeSecretStore:
    """Secrets Manager's webhook secrets: the current one, and the previous one while a
    rotation is under way."""

    def __init__(self) -> None:
        self.values: dict[str, Image] = {}
        self._n = 0

    def create(self, name: str, secret: str, tags: dict[str, str]) -> str:
        self._n += 1
        ref = f"arn:fake:secret:{name}-{self._n}"
        self.values[ref] = {"current": secret}
        return ref

    def webhook_secrets(self, secret_ref: str) -> Sequence[str]:
        value = self.values[secret_ref]
        return tuple(v for v in (value.get("current"), value.get("previous")) if v)

    def rotate(self, secret_ref: str, new_secret: str) -> None:
        current = self.webhook_secrets(secret_ref)
        self.values[secret_ref] = {"current": new_secret, "previous": current[0] if current else None}

    def finish_rotation(self, secret_ref: str) -> None:
        current = self.webhook_secrets(secret_ref)
        if current:
            self.values[secret_ref] = {"current": current[0]}

    def save_admin_credentials(
        self, name: str, credentials: AdminCredentials, tags: dict[str, str], secret_ref: str | None
    ) -> str:
        ref = secret_ref or self.create(name, "", tags)
        self.values[ref] = admin_secret(credentials)
        return ref

    def admin_credentials(self, secret_ref: str, api_version: str | None) -> AdminCredentials:
        return credentials_of(dict(self.values[secret_ref]), api_version)


# -- Quarantine ---------------------------------------------------------------------------


class FakeQuarantine:
    """Signed bodies that could not be parsed, newest first; replays mark their state."""

    def __init__(self, ttl_days: int = 30) -> None:
        self.items: dict[str, dict[str, Image]] = {}  # workspace -> qid -> item
        self.ttl_days = ttl_days
        self._n = 0

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
        at = now_utc()
        self._n += 1
        qid = f"q_{at:%Y%m%dT%H%M%S}_{self._n:08x}"
        self.items.setdefault(workspace_id, {})[qid] = wire(
            {
                "qid": qid,
                "src": source_id,
                "pl": platform,
                "hdr": dict(headers),
                "body": gzip.compress(body),
                "errors": json.dumps(errors),
                "at": timemath.iso(at),
                "state": "open",
                "ttl": int((at + timedelta(days=self.ttl_days)).timestamp()),
            }
        )
        return qid

    def _view(self, item: Image) -> Image:
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

    def get(self, workspace_id: str, qid: str) -> Image | None:
        item = self.items.get(workspace_id, {}).get(qid)
        if item is None:
            return None
        return self._view(item) | {"body": gzip.decompress(item["body"])}

    def mark(self, workspace_id: str, qid: str, state: str, detail: str) -> None:
        # UpdateItem without a condition: an unknown id makes an item of its own
        item = self.items.setdefault(workspace_id, {}).setdefault(qid, {"qid": qid})
        item.update(state=state, detail=detail, replayed_at=timemath.iso(now_utc()))

    def count_open(self, workspace_id: str) -> int:
        return sum(1 for i in self.items.get(workspace_id, {}).values() if i.get("state") == "open")

    def _matching(self, workspace_id: str, where: Any) -> list[Image]:
        def stamp(at: datetime) -> str:
            return f"q_{at:%Y%m%dT%H%M%S}"

        lo = stamp(where.since) if where.since else "q_"
        hi = stamp(where.until) if where.until else "q_~"
        out = []
        for qid in sorted(self.items.get(workspace_id, {}), reverse=True):
            item = self.items[workspace_id][qid]
            if not lo <= qid <= hi:
                continue
            if where.source_id and item.get("src") != where.source_id:
                continue
            if where.reason and where.reason not in item.get("errors", ""):
                continue
            out.append(item)
        return out

    def count(self, workspace_id: str, where: Any = None) -> int:
        from chalicelib.adapters.quarantine import QuarantineFilter

        return len(self._matching(workspace_id, where or QuarantineFilter()))

    def page(
        self, workspace_id: str, limit: int = 50, after: str | None = None, where: Any = None
    ) -> tuple[list[Image], str | None]:
        from chalicelib.adapters.quarantine import QuarantineFilter

        items = self._matching(workspace_id, where or QuarantineFilter())
        if after is not None:
            items = [i for i in items if i["qid"] < after]
        found = [self._view(i) for i in items[: limit + 1]]
        if len(found) > limit:
            return found[:limit], found[limit - 1]["quarantine_id"]
        return found, None


# -- WindowCounter ------------------------------------------------------------------------


class FakeWindowCounter:
    """`ADD n :one` only while `n < limit`; the window's item expires at `expires`."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, str], Image] = {}

    def take(self, workspace_id: str, window: str, limit: int, expires: int) -> bool:
        item = self.windows.get((workspace_id, window))
        if item is not None and item["n"] >= limit:
            return False
        n = (item["n"] if item else 0) + 1
        self.windows[(workspace_id, window)] = {"n": n, "ttl": expires}
        return True
