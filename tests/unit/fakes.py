"""In-memory stand-ins for the profile ports, and ingest-item builders, for unit tests.

The fake profile store keeps the same conditions as DynamoProfileStore: the profile
is written only if its rev is unchanged (or it does not exist yet), `extra` items
are created only if absent, retired profiles become pointers only if their rev is
unchanged, all or nothing. Items go through the DynamoDB codec, as they would on
the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters import records
from chalicelib.adapters.codec import from_item, to_item
from chalicelib.adapters.entry_store import entry_item
from chalicelib.adapters.membership_store import recheck_bucket, recheck_shard
from chalicelib.adapters.profile_items import (
    guest_profile,
    link_item,
    order_entry,
    pointer_of_retired,
    profile_item,
    profile_of,
    profile_pk,
)
from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import Delivery, Order, Platform, RecordVersion, RefundEvent
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
from chalicelib.domain.profiles import ProfileService
from chalicelib.domain.segment_values import MembershipRecord, SegmentDefinition, Sweep
from chalicelib.domain.workspace_settings import WorkspaceSettings
from chalicelib.parsers import generic, run_parser, shopify, woocommerce
from tests.conftest import event_bytes

WS = "ws_test"
SALT = "salt"
MAX_POINTER_HOPS = 5
REGISTRIES = {
    Platform.SHOPIFY: shopify.PARSERS,
    Platform.WOOCOMMERCE: woocommerce.PARSERS,
    Platform.GENERIC: generic.PARSERS,
}
RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def stored(item: dict[str, Any]) -> dict[str, Any]:
    """What DynamoDB would hand back for an item written now (None attributes dropped)."""
    for name, value in item.items():
        if isinstance(value, set | frozenset) and not value:
            raise ValueError(f"DynamoDB rejects the empty set in {name!r}")
    result = from_item(to_item(item))
    assert result is not None
    return result


class FakeWorkspaces:
    def __init__(self, *known: str) -> None:
        self.known = set(known or (WS,))

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        if workspace_id not in self.known:
            return None
        return WorkspaceSettings(workspace_id, currency="USD", id_salt=SALT, rates={"EUR": Decimal("1.10")})


class FakeProfileStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.saves: list[dict[str, Any]] = []  # every successful save, as given
        self.attempts = 0
        self.moved_reads = 0
        self.before_save: Callable[[], None] | None = None  # runs once, before the next save

    # -- reads -------------------------------------------------------------------
    def _get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        return self.items.get((profile_pk(workspace_id, customer_id), "P"))

    def get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None:
        item = self._get(workspace_id, customer_id)
        for _ in range(MAX_POINTER_HOPS):
            if item is None or "into" not in item:
                return stored(item) if item else None
            item = self._get(workspace_id, item["into"])
        return None

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        item = self.get(workspace_id, customer_id)
        return profile_of(item) if item is not None and item.get("t") == "profile" else None

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        found = (self._get(workspace_id, c) for c in dict.fromkeys(customer_ids))
        return {i["cid"]: profile_of(stored(i)) for i in found if i is not None and i.get("t") == "profile"}

    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        return [profile_of(i) for i in self.find(workspace_id, salt, keys)]

    def guest(self, workspace_id: str, customer_id: str, contact: Mapping[str, Any]) -> CustomerProfile:
        return guest_profile(workspace_id, customer_id, contact)

    def find(self, workspace_id: str, salt: str, keys: list[str]) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = []
        for key in keys:
            direct = self._get(workspace_id, customer_id_for(salt, key))
            if direct is not None:
                hits.append(direct)
            kind, _, value = key.partition(":")
            attr = {"phone": "phone_k", "ext": "ext_k"}.get(kind)
            if attr:
                wanted = f"{workspace_id}#{value}"
                hits.extend(
                    i for i in self.items.values() if i.get("ws") == workspace_id and i.get(attr) == wanted
                )
        live: dict[str, dict[str, Any]] = {}
        for hit in hits:
            item: dict[str, Any] | None = hit
            for _ in range(MAX_POINTER_HOPS):
                if item is None:
                    break
                if "into" not in item:
                    live[item["cid"]] = item
                    break
                item = self._get(workspace_id, item["into"])
        return [stored(i) for i in live.values()]  # copies: the caller mutates them

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        marks = [self.items.get((profile_pk(workspace_id, c), "X")) for c in customer_ids]
        times = [t for m in marks if m and (t := timemath.parse_iso(m.get("at"))) is not None]
        return max(times, default=None)

    def mark_erased(self, workspace_id: str, customer_ids: list[str], at: datetime) -> None:
        """As DynamoPrivacyStore.mark_erased: the first mark's time stays."""
        for customer_id in dict.fromkeys(customer_ids):
            key = (profile_pk(workspace_id, customer_id), "X")
            mark = self.items.setdefault(key, {"pk": key[0], "sk": "X", "t": "erased"})
            mark.setdefault("at", timemath.iso(at))

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        self.moved_reads += 1
        out: dict[str, OrderEntry] = {}
        for customer_id in customer_ids:
            pk = profile_pk(workspace_id, customer_id)
            for (ipk, sk), item in self.items.items():
                if ipk != pk or not sk.startswith("O#") or (keys is not None and item["k"] not in keys):
                    continue
                if item["k"] not in out or out[item["k"]].version < int(item["e"]["v"]):
                    out[item["k"]] = order_entry(stored(item["e"]))
        return out

    # -- writes ------------------------------------------------------------------
    def save(
        self,
        state: CustomerProfile,
        expected_rev: int | None,
        links: Sequence[IdentityPointer | MergeRecord],
        retiring: Sequence[tuple[CustomerProfile, int]],
        moved: Sequence[tuple[str, OrderEntry]] = (),
    ) -> None:
        self.attempts += 1
        # The items DynamoProfileStore would write (the same mapping), under its conditions.
        profile = profile_item(state)
        extra = [link_item(state.workspace_id, link) for link in links]
        retired = [(profile_item(old), rev) for old, rev in retiring]
        # Moved entries are written first, each only over an older version (as DynamoDB's
        # conditional put in entry_store); the profile's own conditions decide after.
        for key, entry in moved:
            at = (profile["pk"], "O#" + key)
            if at not in self.items or int(self.items[at]["v"]) <= entry.version:
                self.items[at] = stored(entry_item(state.workspace_id, state.customer_id, key, entry))
        if self.before_save is not None:
            hook, self.before_save = self.before_save, None
            hook()
        key = (profile["pk"], profile["sk"])
        current = self.items.get(key)
        if expected_rev is None:
            if current is not None:
                raise Conflict("profile already exists")
        elif current is None or current.get("rev") != expected_rev:
            raise Conflict("profile changed")
        for item in extra:
            if (item["pk"], item["sk"]) in self.items:
                raise Conflict(f"{item['pk']} already exists")
        for old, rev in retired:
            now = self.items.get((old["pk"], old["sk"]))
            if now is None or now.get("rev") != rev:
                raise Conflict("retired profile changed")
        # Every condition holds: write all of it.
        self.items[key] = stored(profile)
        for item in extra:
            self.items[(item["pk"], item["sk"])] = stored(item)
        for old_state, rev in retiring:
            pointer = pointer_of_retired(old_state, state.customer_id, rev)
            self.items[(pointer["pk"], pointer["sk"])] = stored(pointer)
        self.saves.append(
            {
                "profile": stored(profile),
                "expected_rev": expected_rev,
                "extra": [stored(i) for i in extra],
                "retired": [(stored(o), r) for o, r in retired],
            }
        )

    # -- views for assertions ---------------------------------------------------------
    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [stored(i) for i in self.items.values() if i.get("t") == kind]

    def profiles(self) -> list[dict[str, Any]]:
        return self.of_type("profile")

    def profile(self) -> dict[str, Any]:
        (only,) = self.profiles()
        return only

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {k: stored(v) for k, v in self.items.items()}


def new_service(*workspaces: str) -> tuple[ProfileService, FakeProfileStore]:
    store = FakeProfileStore()
    return ProfileService(store, FakeWorkspaces(*workspaces)), store


# -- ingest items, laid out as DynamoIngestStore writes them ---------------------------


def make_delivery(
    platform: Platform, topic: str, workspace_id: str = WS, source_id: str = "src_1"
) -> Delivery:
    return Delivery(
        workspace_id=workspace_id,
        source_id=source_id,
        platform=platform,
        topic=topic,
        webhook_id="wh-" + topic,
        received_at=RECEIVED,
    )


def body_of(fixture: str | dict[str, Any] | bytes) -> bytes:
    if isinstance(fixture, bytes):
        return fixture
    if isinstance(fixture, dict):
        return json.dumps(fixture).encode()
    return event_bytes(fixture)


def order_item(
    platform: Platform,
    topic: str,
    fixture: str | dict[str, Any] | bytes,
    v: int = 1,
    workspace_id: str = WS,
    source_id: str = "src_1",
) -> dict[str, Any]:
    """The ingest-table item after `v` accepted writes, the last one being this order."""
    delivery = make_delivery(platform, topic, workspace_id, source_id)
    order = run_parser(REGISTRIES[platform], body_of(fixture), delivery)
    assert isinstance(order, Order)
    values = records.header_fields(delivery, "order") | records.order_fields(order)
    values["pk"] = records.order_pk(workspace_id, source_id, order.order_id)
    values["ver"] = RecordVersion(updated_at=order.updated_at, triggered_at=delivery.triggered_at).key()
    values["v"] = v
    values["hist"] = [[order.status.value, timemath.iso(order.updated_at)]]
    for refund in order.refunds:
        values[records.REFUND_PREFIX + refund.refund_id] = records.refund_value(refund)
    return stored(values)


def with_refund(
    item: dict[str, Any],
    fixture: str | dict[str, Any] | bytes,
    platform: Platform = Platform.SHOPIFY,
    topic: str = "refunds/create",
) -> dict[str, Any]:
    """The same item after a separately delivered refund was written to it."""
    delivery = make_delivery(platform, topic, item["ws"], item["src"])
    event = run_parser(REGISTRIES[platform], body_of(fixture), delivery)
    assert isinstance(event, RefundEvent)
    assert event.order_id == item["oid"]
    values = dict(item) | records.header_fields(delivery, "order")
    values[records.REFUND_PREFIX + event.refund.refund_id] = records.refund_value(event.refund)
    values["v"] = int(item["v"]) + 1
    values["hist"] = [
        *item.get("hist", []),
        ["refund", timemath.iso(event.refund.created_at), str(event.refund.amount)],
    ]
    return stored(values)


class RecordingEffects:
    """Notifications, flow triggers and attribution for the ingest pipeline: each call is
    recorded (kind, the record's `t`, the customer id the triggers were given); none acts."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str | None]] = []

    def on_order_change(self, change: Any, now: Any) -> list[Any]:
        self.calls.append(("notifications", _kind(change), None))
        return []

    def on_ingest_change(self, change: Any, now: Any, customer_id: str | None = None) -> list[str]:
        self.calls.append(("triggers", _kind(change), customer_id))
        return []

    def on_order(self, change: Any, now: Any, customer_id: str | None = None) -> None:
        self.calls.append(("attribution", _kind(change), customer_id))


def _kind(change: Any) -> str | None:
    """The kind of the change's new image ("order", "checkout", "customer", "privacy")."""
    kinds = {"OrderImage": "order", "CheckoutImage": "checkout", "CustomerImage": "customer"}
    return (kinds | {"PrivacyRequestImage": "privacy"}).get(type(change.after).__name__)


# -- segments and memberships, with DynamoSegmentStore's and DynamoMembershipStore's rules --


class FakeSegmentStore:
    """Segment definitions of each workspace, listed in id order (the table's sort key)."""

    def __init__(self) -> None:
        self.segments: dict[tuple[str, str], SegmentDefinition] = {}

    def put_segment(self, segment: SegmentDefinition) -> None:
        key = (segment.workspace_id, segment.segment_id)
        if key in self.segments:
            raise Conflict("segment already exists")  # (the adapter's put is conditional too)
        self.segments[key] = segment

    def get_segment(self, workspace_id: str, segment_id: str) -> SegmentDefinition | None:
        return self.segments.get((workspace_id, segment_id))

    def list_segments(self, workspace_id: str) -> list[SegmentDefinition]:
        return [s for (ws, _), s in sorted(self.segments.items()) if ws == workspace_id]

    def delete_segment(self, workspace_id: str, segment_id: str) -> bool:
        return self.segments.pop((workspace_id, segment_id), None) is not None


class FakeMembershipStore:
    """Membership records (written only at the version they were read with), the member
    index in customer-id order, the recheck buckets and a watermark that only moves on."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[MembershipRecord, str | None]] = {}
        self.index: dict[tuple[str, str], set[str]] = {}
        self.watermark: str | None = None
        self.versions = 0

    def get_record(self, workspace_id: str, customer_id: str) -> MembershipRecord | None:
        found = self.records.get((workspace_id, customer_id))
        return found[0] if found else None

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
        for segment_id in entered:
            self.index.setdefault((workspace_id, segment_id), set()).add(customer_id)
        for segment_id in exited:
            self.index.get((workspace_id, segment_id), set()).discard(customer_id)
        current = self.get_record(workspace_id, customer_id)
        if (current.version if current else None) != expected_version:
            raise Conflict("membership record changed")
        self.versions += 1
        version = f"v{self.versions:08d}"
        record = MembershipRecord(frozenset(members), next_check, version)
        shard = recheck_bucket(next_check[:10], recheck_shard(customer_id)) if next_check else None
        self.records[(workspace_id, customer_id)] = (record, shard)

    def due(self, day: date, shard: int, until: str) -> list[tuple[str, str]]:
        bucket = recheck_bucket(day.isoformat(), shard)
        return sorted(
            (ws, cid)
            for (ws, cid), (record, shard) in self.records.items()
            if shard == bucket and record.next_check is not None and record.next_check <= until
        )

    def recheck_watermark(self) -> str | None:
        return self.watermark

    def set_recheck_watermark(self, until: str) -> None:
        if self.watermark is None or self.watermark < until:
            self.watermark = until

    def size(self, workspace_id: str, segment_id: str) -> int:
        return len(self.index.get((workspace_id, segment_id), set()))

    def members(
        self, workspace_id: str, segment_id: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        listed = self.index.get((workspace_id, segment_id), set())
        ids = sorted(c for c in listed if cursor is None or c > cursor)
        page = ids[:limit]
        return page, (page[-1] if page and len(ids) >= limit else None)


class FakeSweepStore:
    """Pending segment backfills, in (workspace, segment) order as the `SWEEP` partition."""

    def __init__(self) -> None:
        self.sweeps: dict[tuple[str, str], Sweep] = {}

    def add(self, workspace_id: str, segment_id: str, not_before: str) -> None:
        self.sweeps[(workspace_id, segment_id)] = Sweep(workspace_id, segment_id, not_before)

    def pending(self) -> list[Sweep]:
        return [s for _, s in sorted(self.sweeps.items(), key=lambda kv: f"{kv[0][0]}#{kv[0][1]}")]

    def advance(self, workspace_id: str, segment_id: str, cursor: str, processed: int) -> bool:
        sweep = self.sweeps.get((workspace_id, segment_id))
        if sweep is None:
            return False  # the segment was deleted
        moved = replace(sweep, cursor=cursor, processed=sweep.processed + processed)
        self.sweeps[(workspace_id, segment_id)] = moved
        return True

    def finish(self, workspace_id: str, segment_id: str) -> None:
        self.sweeps.pop((workspace_id, segment_id), None)

    def get(self, workspace_id: str, segment_id: str) -> Sweep | None:
        return self.sweeps.get((workspace_id, segment_id))
