"""Ports: what the domain needs from the outside world. Adapters implement them.

Every Protocol of the domain outside messaging (which keeps its own) is here, by context (the
privacy requests' and source erasure's in privacy_ports.py); their value
types come from leaf modules (models, outcomes, workspace_settings, scoring, model_params), so every service
can import this one. Except customers.EngagementReader (messaging's EngagementView): it stays with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports costs nothing at cold start
    from chalicelib.domain.catalogue import CatalogueEntry, StoredProduct
    from chalicelib.domain.customer_profile import CustomerProfile, EnrolmentAudit, OrderEntry
    from chalicelib.domain.erasure_values import (
        Holding,
    )
    from chalicelib.domain.ingest_images import (
        CheckoutImage,
        Image,
        IngestChange,
        OrderImage,
        PrivacyRequestImage,
    )
    from chalicelib.domain.model_params import ModelParams
    from chalicelib.domain.models import Delivery, IngestPayload, Product, ProductDeletion, Source
    from chalicelib.domain.nightly_cursor import NightlyCursor
    from chalicelib.domain.order_snapshot import OrderDetail
    from chalicelib.domain.outcomes import ApplyResult, MembershipChange
    from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
    from chalicelib.domain.scoring import RfmEdges
    from chalicelib.domain.segment_values import MembershipRecord, SegmentDefinition, Sweep
    from chalicelib.domain.store_admin import AdminCredentials
    from chalicelib.domain.workspace_settings import WorkspaceSettings

WriteOutcome = Literal["stored", "duplicate", "stale"]


# -- ingest ------------------------------------------------------------------------
class SourceDirectory(Protocol):
    def find_source(self, platform: str, shop_key: str) -> Source | None: ...

    def set_shop_zone(self, source: Source, zone: str) -> bool:
        """The shop's own zone on its source, and the workspace's default zone if it has
        none yet; False when the source already had this zone (nothing written)."""
        ...


class SecretStore(Protocol):
    def webhook_secrets(self, secret_ref: str) -> Sequence[str]: ...


class IngestStore(Protocol):
    """Holds the latest state of each storefront resource; one conditional write per delivery."""

    def apply(self, delivery: Delivery, payload: IngestPayload) -> WriteOutcome: ...


class ImportWriter(Protocol):
    """How a history import writes a chunk's items (adapters/ingest_store.py)."""

    def write_chunk(
        self, writes: Sequence[tuple[Delivery, IngestPayload]]
    ) -> tuple[list[WriteOutcome], list[Image]]:
        """Each (delivery, payload) as `IngestStore.apply` would write it, in order: the
        outcome of each, and the state each item holds after the chunk, each item once,
        in first-named order."""
        ...


class ImportRecompute(Protocol):
    """After a history import: memberships and scores, once for the workspace."""

    def recompute(self, workspace_id: str, customer_ids: Sequence[str], now: datetime) -> dict[str, Any]: ...


class CatalogueStore(Protocol):
    """Products per workspace and source: a write lands only over an older version."""

    def save(self, delivery: Delivery, product: Product) -> WriteOutcome: ...

    def delete(self, delivery: Delivery, deletion: ProductDeletion) -> WriteOutcome:
        """Mark it deleted, keeping its last known title, URL and image."""
        ...


class CatalogueReader(Protocol):
    def products(self, workspace_id: str, refs: Sequence[tuple[str, str]]) -> list[CatalogueEntry]:
        """The stored products of these (source id, product id) pairs, one batch read."""
        ...

    def product(self, workspace_id: str, source_id: str, product_id: str) -> StoredProduct | None: ...


class Quarantine(Protocol):
    def put(
        self,
        workspace_id: str,
        source_id: str,
        platform: str,
        headers: Mapping[str, str],
        body: bytes,
        errors: list[dict[str, Any]],
        people: Sequence[str] = (),
    ) -> str: ...


# -- profiles ----------------------------------------------------------------------
class WorkspaceReader(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        """Set a pending (empty) workspace currency, only if still unset; the settings after."""
        ...


class ProfileStore(Protocol):
    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        """Live profiles holding any of the identity keys (pointers followed)."""
        ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        """Moved order entries under those customers' partitions (consistent reads), the
        newest version of each order key; only `keys` when given, else all of them."""
        ...

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        """The latest erasure mark under these ids (PrivacyStore.mark_erased), if any."""
        ...

    def save(
        self,
        profile: CustomerProfile,
        expected_rev: int | None,
        extra: Sequence[IdentityPointer | MergeRecord],
        retired: Sequence[tuple[CustomerProfile, int]],
        moved: Sequence[tuple[str, OrderEntry]] = (),
    ) -> None:
        """Write the profile if its rev (`expected_rev`; None: it must not exist yet) is
        unchanged; raise Conflict otherwise.

        `moved` entries (order key, entry) are first written to their own items, each
        only over an older version; the profile write that drops them from its recent
        entries decides. `extra` identity pointers and merge records are created with
        the profile, and `retired` profiles (each at its rev) become pointers to it,
        atomically.
        """
        ...


class ProfileReader(Protocol):
    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        """The live profile of a customer id (pointers followed), strongly consistent."""
        ...

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        """Profiles by id, eventually consistent; ids holding no profile are absent."""
        ...

    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        """Live profiles holding any of the identity keys (pointers followed)."""
        ...

    def get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None: ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]: ...


class EnrolmentStore(Protocol):  # loyalty membership (domain/enrolment.py, docs/loyalty.md)
    def next_number(self, workspace_id: str) -> int: ...  # the workspace's next member number, atomically

    def record(self, profile: CustomerProfile, expected_rev: int | None, audit: EnrolmentAudit) -> None: ...


# -- order entries -------------------------------------------------------------
class MovedEntries(Protocol):
    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]: ...


# -- customer walks ------------------------------------------------------------
class MemberLists(Protocol):
    def members(
        self, workspace_id: str, segment_id: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]: ...


class ProfilePages(Protocol):
    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]: ...


# -- privacy records met by the profile stream -----------------------------------
class PrivacyHandler(Protocol):
    def handle(self, item: PrivacyRequestImage) -> ApplyResult: ...
    def index_checkout(self, old: CheckoutImage | None, new: CheckoutImage) -> ApplyResult: ...


# -- customers -----------------------------------------------------------------
class OrderReader(Protocol):
    def order_details(self, workspace_id: str, order_ids: list[str]) -> list[OrderDetail]:
        """The stored orders of these public ids (`source.order`), each read once."""
        ...


# -- segments ------------------------------------------------------------------
class SegmentStore(Protocol):
    def put_segment(self, segment: SegmentDefinition) -> None: ...
    def get_segment(self, workspace_id: str, segment_id: str) -> SegmentDefinition | None: ...
    def list_segments(self, workspace_id: str) -> list[SegmentDefinition]: ...
    def delete_segment(self, workspace_id: str, segment_id: str) -> bool: ...


class SweepStore(Protocol):
    def add(self, workspace_id: str, segment_id: str, not_before: str) -> None: ...
    def pending(self) -> list[Sweep]: ...
    def advance(self, workspace_id: str, segment_id: str, cursor: str, processed: int) -> bool: ...
    def finish(self, workspace_id: str, segment_id: str) -> None: ...
    def get(self, workspace_id: str, segment_id: str) -> Sweep | None: ...


# -- membership ----------------------------------------------------------------
class MembershipStore(Protocol):
    def get_record(self, workspace_id: str, customer_id: str) -> MembershipRecord | None: ...
    def save(
        self,
        workspace_id: str,
        customer_id: str,
        members: set[str],
        next_check: str | None,
        entered: list[str],
        exited: list[str],
        expected_version: str | None,
    ) -> None: ...
    def due(self, day: date, shard: int, until: str) -> list[tuple[str, str]]:
        """(workspace id, customer id) of the records in a day's recheck shard due by `until`."""
        ...

    def recheck_watermark(self) -> str | None: ...
    def set_recheck_watermark(self, until: str) -> None: ...
    def size(self, workspace_id: str, segment_id: str) -> int: ...
    def members(
        self, workspace_id: str, segment_id: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]: ...


class EventSink(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...


class MembershipApplier(Protocol):
    """The membership service as the segment backfill and the nightly job use it."""

    @property
    def store(self) -> MemberLists: ...

    def evaluate(
        self,
        workspace_id: str,
        profile: CustomerProfile,
        now: datetime,
        settings: WorkspaceSettings | None = None,
    ) -> tuple[set[str], datetime | None]: ...

    def apply(
        self,
        workspace_id: str,
        customer_id: str,
        profile: CustomerProfile | None,
        now: datetime | None = None,
    ) -> MembershipChange: ...


# -- nightly scores ------------------------------------------------------------
class Rescorer(Protocol):
    """The nightly scoring of one workspace, now (ScoringService.rescore)."""

    def rescore(
        self, workspace_id: str, now: datetime, profiles: Iterable[CustomerProfile] = ()
    ) -> dict[str, Any]: ...


class NightlyStore(Protocol):
    def cursors(self) -> dict[str, NightlyCursor]: ...
    def start(self, workspace_id: str, day: str) -> NightlyCursor | None: ...
    def advance(self, cursor: NightlyCursor, **changes: Any) -> NightlyCursor | None:
        """Commit `changes` (NightlyCursor fields) at the version read; None when another
        invocation moved the cursor meanwhile."""
        ...

    def put_rows(self, workspace_id: str, day: str, page: int, rows: list[list[Any]]) -> None: ...
    def rows(self, workspace_id: str, day: str) -> list[list[Any]]: ...


# -- ingest pipeline -----------------------------------------------------------
class ProfileApplier(Protocol):
    def apply_change(self, change: IngestChange) -> ApplyResult: ...


class OrderNotifier(Protocol):
    def on_order_change(self, change: IngestChange, now: datetime) -> list[Any]: ...


class IngestTriggers(Protocol):
    def on_ingest_change(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> list[str]: ...


class OrderAttribution(Protocol):
    def on_order(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> dict[str, Any] | None: ...


class OrderCoupons(Protocol):
    def on_order(self, change: IngestChange, now: datetime) -> list[Any]: ...  # what it redeemed


class HeldNotifications(Protocol):
    """Orders whose notifications the provider refused for now, by their ingest key."""

    def hold(self, workspace_id: str, item_key: str, at: datetime) -> None: ...  # idempotent
    def held(self, limit: int) -> list[tuple[str, str]]: ...  # (workspace_id, item key)
    def release(self, workspace_id: str, item_key: str) -> None: ...


class OrderItems(Protocol):
    def order_images(self, keys: list[str]) -> list[OrderImage]: ...


class SettingsReader(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...


# -- audience exports ----------------------------------------------------------
class ConsentLists(Protocol):
    def listed(
        self, workspace_id: str, channel: str, customer_ids: list[str], addresses: list[str]
    ) -> tuple[set[str], set[str]]: ...  # (opted out, suppressed) of these


class ExportWriter(Protocol):
    def write(self, key: str, body: bytes, content_type: str) -> str: ...


class PersonIndex(Protocol):
    def hold(self, workspace_id: str, holdings: Sequence[Holding], ttl_days: int | None = None) -> None:
        """List what holds each person, for their erasure (kept `ttl_days` when given)."""
        ...


# -- tenancy -------------------------------------------------------------------
class WorkspaceAdmin(Protocol):
    def create_workspace(
        self, workspace_id: str, name: str, currency: str | None, api_key_hash: str, key_tail: str = ""
    ) -> None: ...
    def workspace(self, workspace_id: str) -> dict[str, Any] | None: ...
    def add_source(self, source: Source) -> None: ...
    def set_consent_keys(
        self, source: Source, email_keys: tuple[str, ...] | None, sms_keys: tuple[str, ...] | None
    ) -> None: ...
    def set_rate(self, workspace_id: str, currency: str, rate: Decimal) -> None: ...
    def adopt_default_zone(self, workspace_id: str, zone: str) -> None: ...  # only if it has none
    def set_admin_api(self, connected: Source) -> None: ...  # its admin_ref, version, endpoint


class SecretWriter(Protocol):
    def create(self, name: str, secret: str, tags: dict[str, str]) -> str: ...
    def rotate(self, secret_ref: str, new_secret: str) -> None: ...
    def finish_rotation(self, secret_ref: str) -> None: ...
    def save_admin_credentials(
        self, name: str, credentials: AdminCredentials, tags: dict[str, str], secret_ref: str | None
    ) -> str: ...


class SecretEraser(Protocol):
    def delete_secret(self, secret_ref: str) -> bool:
        """Deleted at once, without a recovery window; False when it was gone already."""
        ...


class AdminCredentialStore(Protocol):
    """A connected source's Admin API credentials (Source.admin_ref, admin_api_version)."""

    def admin_credentials(self, secret_ref: str, api_version: str | None) -> AdminCredentials: ...


class WorkspaceScores(Protocol):
    """The workspaces as the nightly job reads and scores them."""

    def workspace_ids(self) -> list[str]: ...

    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...

    def save_scores(
        self, workspace_id: str, edges: RfmEdges, rhythm_days: float | None, model: ModelParams | None = None
    ) -> None: ...


class SourceEraser(Protocol):
    """shop/redact's executor (chalicelib.domain.source_erasure.SourceErasureService)."""

    def handle(self, request: PrivacyRequestImage) -> ApplyResult: ...


# -- request limits and operational reports ------------------------------------------
class WindowCounter(Protocol):
    def take(self, workspace_id: str, window: str, limit: int, expires: int) -> bool: ...


class WorkspaceDirectory(Protocol):
    def workspace_ids(self) -> list[str]: ...


class QuarantineCounter(Protocol):
    def count_open(self, workspace_id: str) -> int: ...
