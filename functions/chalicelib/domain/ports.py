"""Ports: what the domain needs from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from chalicelib.domain.models import Delivery, IngestPayload, Source

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
