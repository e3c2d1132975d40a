"""The ports of the workspace API (api_keys.py): domain/ports.py is full."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.workspace_api.model import ApiKey


class ApiKeyStore(Protocol):
    def add(self, key: ApiKey, most: int) -> None:
        """The key, its lookup by hash and the live count, at once; KeyRefused
        `too_many_keys` when `most` keys are live."""

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None: ...

    def keys(self, workspace_id: str) -> list[ApiKey]: ...

    def rotate(self, key: ApiKey, rotated: ApiKey) -> None:
        """Swap the lookup from `key`'s hash to `rotated`'s, if `key` is still as read;
        KeyRefused `changed` otherwise."""

    def revoke(self, key: ApiKey, revoked: ApiKey) -> None:
        """Drop the lookup and mark the key, if it is still as read (KeyRefused `changed`)
        and not the workspace's last live key (KeyRefused `last_key`)."""

    def key_id_for(self, key_hash: str) -> str | None: ...
