"""The ports of the workspace API (api_keys.py): domain/ports.py is full."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.models import Source
from chalicelib.domain.workspace_api.model import ApiKey, SettingsChanges
from chalicelib.domain.workspace_settings import WorkspaceSettings


class ApiKeyStore(Protocol):
    def add(self, key: ApiKey, most: int) -> None:
        """The key, its lookup by hash and the live count, at once; Refused
        `too_many_keys` when `most` keys are live."""

    def adopt(self, key: ApiKey, most: int) -> None:
        """List a key made before keys had ids (its lookup has no key id): its lookup gets
        `key`'s id, the key is listed and counted, at once; Refused `not_adoptable` when the
        hash is no unlisted key of the workspace."""

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None: ...

    def keys(self, workspace_id: str) -> list[ApiKey]: ...

    def rotate(self, key: ApiKey, rotated: ApiKey) -> None:
        """Swap the lookup from `key`'s hash to `rotated`'s, if `key` is still as read;
        Refused `changed` otherwise."""

    def revoke(self, key: ApiKey, revoked: ApiKey) -> None:
        """Drop the lookup and mark the key, if it is still as read (Refused `changed`)
        and not the workspace's last live key (Refused `last_key`)."""

    def key_id_for(self, key_hash: str) -> str | None: ...


class SettingsStore(Protocol):
    def current(self, workspace_id: str) -> tuple[WorkspaceSettings, int] | None:
        """The workspace's settings and their version (a consistent read, not cached)."""

    def sources(self, workspace_id: str) -> list[Source]: ...

    def update(self, workspace_id: str, changes: SettingsChanges, expected: int | None) -> bool:
        """Write the changes and move the version by one, in one conditional write; False (and
        nothing written) when `expected` is given and the version is no longer it."""
