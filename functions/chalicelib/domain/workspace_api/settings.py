"""A workspace's messaging and sending settings read and written through the API and the CLI
(one model, one service): a version moved by every write, so an editor holding an older one
is refused (409 `stale_version`) instead of overwriting another's change. Secrets are never
shown: a source's webhook secret and Admin API credentials appear masked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.messaging import sending
from chalicelib.domain.messaging.engagement import Rules
from chalicelib.domain.messaging.notifications import KINDS
from chalicelib.domain.timezones import is_zone
from chalicelib.domain.workspace_api.model import Refused, SettingsChanges
from chalicelib.domain.workspace_api.ports import SettingsStore
from chalicelib.domain.workspace_settings import WorkspaceSettings

MASK = "********"
ATTEMPTS = 5  # an unconditional (CLI) write, retried while other writes come first


class SettingsPatch(BaseModel):
    """`PATCH /workspace/settings` (and `patron workspace sending`): the fields to change."""

    model_config = ConfigDict(extra="forbid")
    notifications: list[str] | None = Field(default=None, max_length=20)
    sender_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sms_sender_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,11}$")
    attribution_days: int | None = Field(default=None, ge=1, le=90)
    engagement: dict[str, int] | None = None
    quiet_hours: str | None = Field(default=None, pattern=r"^\d{1,2}-\d{1,2}$")
    daily_caps: dict[str, int] | None = None
    low_every_days: int | None = Field(default=None, ge=1, le=90)
    default_timezone: str | None = Field(default=None, max_length=64)
    no_marketing_on_open_complaint: bool | None = None


class SourceSettings(BaseModel):
    source_id: str
    platform: str
    shop_domain: str
    webhook_secret: str = MASK  # write-only: `patron source rotate-secret`
    admin_api_connected: bool  # its credentials are never shown


class SettingsOut(BaseModel):
    """`GET /workspace/settings`; `version` is also the ETag to send back as If-Match."""

    workspace_id: str
    version: int
    name: str
    currency: str | None
    rates: dict[str, str]
    notifications: list[str]
    sender_email: str | None
    sms_sender_id: str | None
    attribution_days: int
    engagement: dict[str, int]
    quiet_hours: str
    daily_caps: dict[str, int]
    low_every_days: int
    default_timezone: str
    no_marketing_on_open_complaint: bool
    sources: list[SourceSettings]


def _field(name: str, message: str) -> BadRequest:
    return BadRequest(message, [{"field": name, "error": message}])


class SettingsService:
    def __init__(self, store: SettingsStore) -> None:
        self.store = store

    def read(self, workspace_id: str) -> SettingsOut:
        found = self.store.current(workspace_id)
        if found is None:
            raise NotFound(f"workspace {workspace_id} not found")
        settings, version = found
        return self._shown(settings, version, workspace_id)

    def update(self, workspace_id: str, patch: SettingsPatch, expected: int | None) -> SettingsOut:
        """Check the patch against the current settings, write it if the version is still
        `expected`, and answer the settings written. With `expected` None (the CLI) it is
        written at the version just read, read again and retried if another write came first:
        the merged caps and thresholds never overwrite a change made meanwhile."""
        for _ in range(ATTEMPTS):
            found = self.store.current(workspace_id)
            if found is None:
                raise NotFound(f"workspace {workspace_id} not found")
            settings, version = found
            if expected is not None and expected != version:
                raise _stale(version)
            if self.store.update(workspace_id, self.changes(settings, patch), version):
                return self.read(workspace_id)
            if expected is not None:
                raise _stale(None)
        raise Conflict("the settings kept changing; try again")

    @staticmethod
    def changes(settings: WorkspaceSettings, patch: SettingsPatch) -> SettingsChanges:
        """The patch checked by the rules the CLI has always applied."""
        kinds = None
        if patch.notifications is not None:
            unknown = sorted(set(patch.notifications) - set(KINDS))
            if unknown:
                raise _field("notifications", f"unknown notification {', '.join(unknown)}")
            kinds = frozenset(patch.notifications)
        engagement = None
        if patch.engagement is not None:
            unknown = sorted(set(patch.engagement) - set(Rules.__dataclass_fields__))
            if unknown:
                raise _field("engagement", f"unknown engagement threshold {', '.join(unknown)}")
            merged = Rules.of({**Rules.of(settings.engagement_rules).as_dict(), **patch.engagement})
            merged.check()
            engagement = merged.as_dict()
        caps = None
        if patch.daily_caps is not None:
            caps = ",".join(f"{tier}={value}" for tier, value in patch.daily_caps.items())
        if patch.default_timezone is not None and not is_zone(patch.default_timezone):
            raise _field("default_timezone", "default_timezone takes an IANA zone, e.g. America/Los_Angeles")
        checked = sending.changes(
            settings, patch.quiet_hours, caps, patch.low_every_days, patch.default_timezone
        )
        return SettingsChanges(
            notifications=kinds,
            sender_email=patch.sender_email,
            sms_sender_id=patch.sms_sender_id,
            attribution_days=patch.attribution_days,
            engagement=engagement,
            quiet_start=checked.quiet_start,
            quiet_end=checked.quiet_end,
            daily_caps=checked.daily_caps,
            low_every_days=checked.low_every_days,
            default_timezone=checked.default_timezone,
            no_marketing_on_open_complaint=patch.no_marketing_on_open_complaint,
        )

    def _shown(self, settings: WorkspaceSettings, version: int, workspace_id: str) -> SettingsOut:

        rules: dict[str, Any] = sending.shown(settings)
        return SettingsOut(
            workspace_id=workspace_id,
            version=version,
            name=settings.name,
            currency=settings.currency or None,
            rates={k: str(v) for k, v in sorted(settings.rates.items())},
            notifications=sorted(settings.notifications),
            sender_email=settings.sender_email or None,
            sms_sender_id=settings.sms_sender_id or None,
            attribution_days=settings.attribution_days,
            engagement=Rules.of(settings.engagement_rules).as_dict(),
            quiet_hours=rules["quiet_hours"],
            daily_caps=rules["daily_caps"],
            low_every_days=rules["low_every_days"],
            default_timezone=rules["default_timezone"],
            no_marketing_on_open_complaint=settings.no_marketing_on_open_complaint,
            sources=[
                SourceSettings(
                    source_id=s.source_id,
                    platform=s.platform.value,
                    shop_domain=s.shop_domain,
                    admin_api_connected=s.admin_ref is not None,
                )
                for s in self.store.sources(workspace_id)
            ],
        )


def _stale(version: int | None) -> Refused:
    now = f" (now {version})" if version is not None else ""
    return Refused(f"the settings changed since they were read{now}: read them again", "stale_version")
