"""The workspace API's value types: an API key as stored, and a refusal with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import Conflict


@dataclass(frozen=True)
class ApiKey:
    """One key of a workspace. `key_hash` is the SHA-256 of its current secret, `tail` its
    last 4 characters (shown so a person can tell keys apart; "" for a migrated key)."""

    workspace_id: str
    key_id: str
    name: str
    key_hash: str
    tail: str
    created_at: datetime
    created_by: str
    rotated_at: datetime | None = None
    rotated_by: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class KeyRefused(Conflict):
    """A business rule refused the change: 409 with the `reason`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
