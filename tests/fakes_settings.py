"""An in-memory SettingsStore, as DynamoSettingsStore keeps the settings and their version
(tests/integration/test_contract_settings_store.py runs one suite on both)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chalicelib.domain.models import Source
from chalicelib.domain.workspace_api.model import SettingsChanges
from chalicelib.domain.workspace_settings import WorkspaceSettings


@dataclass
class FakeSettingsStore:
    held: dict[str, tuple[WorkspaceSettings, int]] = field(default_factory=dict)
    sources_of: dict[str, list[Source]] = field(default_factory=dict)

    def create(self, workspace_id: str) -> None:
        self.held[workspace_id] = (WorkspaceSettings(workspace_id, "USD", "salt"), 0)

    def current(self, workspace_id: str) -> tuple[WorkspaceSettings, int] | None:
        return self.held.get(workspace_id)

    def sources(self, workspace_id: str) -> list[Source]:
        return list(self.sources_of.get(workspace_id, []))

    def update(self, workspace_id: str, changes: SettingsChanges, expected: int | None) -> bool:
        if workspace_id not in self.held:
            raise LookupError(workspace_id)
        settings, version = self.held[workspace_id]
        if expected is not None and expected != version:
            return False
        given = {
            "notifications": changes.notifications,
            "sender_email": changes.sender_email,
            "sms_sender_id": changes.sms_sender_id,
            "attribution_days": changes.attribution_days,
            "engagement_rules": changes.engagement,
            "quiet_start": changes.quiet_start,
            "quiet_end": changes.quiet_end,
            "daily_caps": changes.daily_caps,
            "low_every_days": changes.low_every_days,
            "default_timezone": changes.default_timezone,
            "no_marketing_on_open_complaint": changes.no_marketing_on_open_complaint,
        }
        self.held[workspace_id] = (
            replace(settings, **{k: v for k, v in given.items() if v is not None}),
            version + 1,
        )
        return True
