"""Ports of the privacy requests and of erasing a source (docs/privacy: the ingest stream carries
them out). Split from domain/ports.py, which keeps every other context's ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing the ports costs nothing at cold start
    from chalicelib.domain.customer_profile import CustomerProfile
    from chalicelib.domain.erasure_values import (
        ErasureProgress,
        Holding,
        IngestRef,
        ItemRef,
        MergedPointer,
        ProfileRemains,
        RunItem,
        SourceRecords,
    )
    from chalicelib.domain.ingest_images import (
        Image,
    )


# -- privacy requests ----------------------------------------------------------
class PrivacyStore(Protocol):
    def erase_profile(self, workspace_id: str, customer_id: str, pointer_ids: list[str]) -> int:
        """Delete the customer's profile, its moved entries and engagement, and those of the
        pointers (ids) that point into it; returns items deleted."""
        ...

    def redact_records(
        self, workspace_id: str, order_ids: Sequence[str], customers: Sequence[tuple[str, str]] = ()
    ) -> int:
        """Remove the person from ingest items: orders (public ids) and customer records
        (source id, platform customer id); returns items changed."""
        ...

    def mark_erased(self, workspace_id: str, customer_ids: list[str], at: datetime) -> None:
        """Leave an erasure mark under each id (the first time kept): data the stores made
        before it, delivered or replayed later, must not make a profile again."""
        ...

    def record(self, workspace_id: str, request_id: str, entry: dict[str, Any]) -> None: ...

    def save_export(self, workspace_id: str, request_id: str, payload: bytes, ttl_days: int) -> None: ...

    def tally(self, workspace_id: str, request_id: str, counts: dict[str, int]) -> None:
        """ADD these counts to the request's audit entry."""
        ...

    def export(self, workspace_id: str, request_id: str) -> dict[str, Any] | None: ...


class ErasureStore(Protocol):
    """What holds a person outside their profile (adapters/erasure.py)."""

    def hold(self, workspace_id: str, holdings: Sequence[Holding], ttl_days: int | None = None) -> None:
        """List what holds each person, for their erasure (kept `ttl_days` when given)."""
        ...

    def erase_person(self, workspace_id: str, person_id: str, hashes: set[str]) -> dict[str, int]: ...

    def redact_attributions(self, workspace_id: str, order_ids: Sequence[str]) -> int:
        """The attributions of these orders (public ids) lose their customer and message."""
        ...

    def redact_ingest(self, pk: str) -> bool: ...


class RequestSink(Protocol):
    def put(self, workspace_id: str, request_id: str, request: str, customer_id: str) -> None: ...


# -- erasing a source ----------------------------------------------------------
class SourceErasureStore(Protocol):
    """Erasing a source: its progress, and the source's items found by workspace, source,
    customer and order ids (adapters/source_erasure_store.py lays out their keys). Items to
    remove come back as opaque references (erasure_values.ItemRef, IngestRef)."""

    def progress(self, workspace_id: str, source_id: str) -> ErasureProgress | None: ...
    def begin(self, workspace_id: str, source_id: str, request_id: str, at: str) -> ErasureProgress:
        """The progress, created once (a second start reads the first one's)."""
        ...

    def journal(
        self, workspace_id: str, source_id: str, version: int, cursor: str, counts: dict[str, int]
    ) -> None:
        """What the page starting at `cursor` removes, before it acts; raises Overtaken when
        the progress is no longer at `version` (as commit and add do)."""
        ...

    def commit(
        self,
        workspace_id: str,
        source_id: str,
        version: int,
        phase: str,
        cursor: str | None,
        counts: dict[str, int],
        done_at: str | None = None,
    ) -> None:
        """The page's counts added, the cursor and phase moved, the journal cleared."""
        ...

    def add(self, workspace_id: str, source_id: str, version: int, counts: dict[str, int]) -> None: ...
    def mark_source(self, workspace_id: str, source_id: str, request_id: str) -> bool: ...
    def continue_later(self, ingest_key: str, pages: int) -> None: ...
    # -- the source's ingest records
    def source_records(
        self,
        workspace_id: str,
        source_id: str,
        order_ids: Sequence[str],
        customer_ids: Sequence[str],
        checkout_ids: Sequence[str],
    ) -> SourceRecords:
        """Which of these records (public order ids, platform customer ids, checkout ids)
        are live, with their references."""
        ...

    def live_privacy_requests(
        self, workspace_id: str, source_id: str, request_ids: Sequence[str]
    ) -> list[IngestRef]: ...
    # the keys of ingest items, as the adapter lays them out (opaque here): rewritten() reads them
    def order_keys(self, workspace_id: str, order_ids: Sequence[str]) -> list[str]: ...
    def customer_key(self, workspace_id: str, source_id: str, customer_id: str) -> str: ...
    def ingest_images(self, keys: list[str]) -> list[Image]:
        """The live ingest items under these keys, decoded (adapters/order_items.py)."""
        ...

    def erase_ingest(self, keys: Sequence[IngestRef]) -> None: ...
    # -- CRM items, by the ids they belong to
    def flow_run_items(self, workspace_id: str, customer_ids: Sequence[str]) -> list[RunItem]: ...
    def send_claims(
        self,
        workspace_id: str,
        customer_id: str,
        source_id: str | None = None,
        runs: Sequence[tuple[str, str]] = (),
    ) -> list[ItemRef]:
        """All the customer's send claims without a source; with one, those of the source's
        orders and of these runs (flow id, trigger key)."""
        ...

    def coupons(self, workspace_id: str, codes: Sequence[str]) -> list[ItemRef]: ...
    def attributions(self, workspace_id: str, order_ids: Sequence[str]) -> list[ItemRef]: ...
    def profile_remains(
        self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str], entry_ids: Sequence[str]
    ) -> ProfileRemains: ...
    def moved_entry_refs(
        self, workspace_id: str, customer_ids: Sequence[str], order_ids: Sequence[str]
    ) -> list[ItemRef]: ...
    def pointers_into(
        self, workspace_id: str, customer_id: str, pointer_ids: Sequence[str]
    ) -> list[ItemRef]: ...
    def merged_pointers(self, workspace_id: str, customer_ids: Sequence[str]) -> list[MergedPointer]: ...
    def privacy_requests(self, workspace_id: str, source_id: str) -> list[str]: ...
    def privacy_exports(self, workspace_id: str, request_ids: Sequence[str]) -> list[ItemRef]: ...
    def quarantined(self, workspace_id: str, source_id: str) -> list[ItemRef]: ...
    def catalogue(self, workspace_id: str, source_id: str) -> list[ItemRef]:
        """The source's catalogue products (one Query of the source's product partition)."""
        ...

    def admin_secret(self, workspace_id: str, source_id: str) -> str | None:
        """The ref of the source's Admin API credentials (None: not connected)."""
        ...

    def disconnect(self, workspace_id: str, source_id: str) -> None:
        """Both source items forget their Admin API connection (ref, version, endpoint)."""
        ...

    def delete(self, keys: Sequence[ItemRef]) -> None: ...
    def profile(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        """The profile stored under this very id (None: none, or a pointer), consistent."""
        ...

    def drop_pointer_keys(self, workspace_id: str, customer_id: str, into: str, names: list[str]) -> None:
        """The pointer (if into `into`) is no longer found by these identities (`phone`,
        `external_id`)."""
        ...


class ErasureAudit(Protocol):
    def erase_profile(self, workspace_id: str, customer_id: str, pointer_ids: list[str]) -> int: ...
    def record(self, workspace_id: str, request_id: str, entry: dict[str, Any]) -> None: ...


class ExportFiles(Protocol):
    def older(self, prefix: str, before: datetime) -> list[str]: ...
    def delete(self, keys: list[str]) -> None: ...
