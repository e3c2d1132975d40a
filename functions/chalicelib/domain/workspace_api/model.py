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


class Refused(Conflict):
    """A business rule refused the change (a key, the settings): 409 with the `reason`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})


@dataclass(frozen=True)
class SettingsChanges:
    """The settings a caller changes, checked (None: unchanged); `notifications` replaces
    the kinds switched on, `engagement` and `daily_caps` are merged into the stored ones."""

    notifications: frozenset[str] | None = None
    sender_email: str | None = None
    sms_sender_id: str | None = None
    attribution_days: int | None = None
    engagement: dict[str, int] | None = None
    quiet_start: int | None = None
    quiet_end: int | None = None
    daily_caps: dict[str, int] | None = None
    low_every_days: int | None = None
    default_timezone: str | None = None
    no_marketing_on_open_complaint: bool | None = None
