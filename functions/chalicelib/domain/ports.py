"""Ports: what the domain needs from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from chalicelib.domain.models import Delivery, IngestPayload, Source
from chalicelib.domain.workspace_settings import WorkspaceSettings

WriteOutcome = Literal["stored", "duplicate", "stale"]


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
    def find(self, workspace_id: str, salt: str, keys: list[str]) -> list[dict[str, Any]]:
        """Live profile items holding any of the identity keys (pointers followed)."""
        ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Moved order entries under those customers' partitions (consistent reads), the
        newest version of each order key; only `keys` when given, else all of them."""
        ...

    def erased_at(self, workspace_id: str, customer_ids: list[str]) -> datetime | None:
        """The latest erasure mark under these ids (PrivacyStore.mark_erased), if any."""
        ...

    def save(
        self,
        profile: dict[str, Any],
        expected_rev: int | None,
        extra: list[dict[str, Any]],
        retired: list[tuple[dict[str, Any], int]],
        moved: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Write the profile if its rev is unchanged; raise Conflict otherwise.

        `moved` entries (order key, entry) are first written to their own items, each
        only over an older version; the profile write that drops them from `o` decides.
        `extra` items (identity pointers, merge records) are created with the profile,
        and `retired` profiles become pointers to it, atomically.
        """
        ...


class ProfileReader(Protocol):
    def get(self, workspace_id: str, customer_id: str) -> dict[str, Any] | None: ...

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, dict[str, Any]]: ...
