"""A workspace's service settings: its business calendar and its ordered SLA policies, as
`GET/PUT /service/sla` and `patron service sla show|set` read and write them (docs/service.md,
"SLA operations"). Stored with a version; a write at an older version is refused (409
`stale_version`). A workspace that never wrote any gets `default_settings` (version 0).

A policy may name its own calendar; without one it uses the workspace's. `policies()` turns
the settings into the engine's `SlaPolicies` (domain/service/sla.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import NotFound
from chalicelib.domain.ports import WorkspaceReader
from chalicelib.domain.service.calendar import BusinessCalendar, Interval
from chalicelib.domain.service.sla import SlaFilter, SlaPolicies, SlaPolicy, SlaTargets
from chalicelib.domain.workspace_api.model import Refused

DEFAULT_POLICY_ID = "default"
# The default: Monday to Friday 09:00-17:00 in the workspace's zone; first and next reply
# within 8 business hours, resolution within 5 business days (40 business hours).
DEFAULT_HOURS = (Interval(start="09:00", end="17:00"),)
DEFAULT_TARGETS = SlaTargets(first_reply=8 * 60, next_reply=8 * 60, resolution=5 * 8 * 60)


class SlaPolicyIn(BaseModel):
    """One policy: a filter, targets in business minutes, optionally its own calendar."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(default="", max_length=200)
    filter: SlaFilter = Field(default_factory=SlaFilter)
    targets: SlaTargets
    calendar: BusinessCalendar | None = None  # None: the workspace's calendar
    pause_on_hold: bool = False


class SlaSettingsIn(BaseModel):
    """`PUT /service/sla`: the business calendar and the policies, in order (the first whose
    filter matches a ticket applies; a ticket none matches has no SLA)."""

    model_config = ConfigDict(extra="forbid")

    calendar: BusinessCalendar
    policies: list[SlaPolicyIn] = Field(min_length=1, max_length=50)
    near_breach_share: Decimal = Field(default=Decimal("0.8"), gt=0, lt=1)

    @field_validator("policies")
    @classmethod
    def _unique_ids(cls, value: list[SlaPolicyIn]) -> list[SlaPolicyIn]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("each policy has its own id")
        return value

    def to_policies(self) -> SlaPolicies:
        return SlaPolicies(
            policies=[
                SlaPolicy(
                    id=p.id,
                    name=p.name,
                    filter=p.filter,
                    targets=p.targets,
                    calendar=p.calendar or self.calendar,
                    pause_on_hold=p.pause_on_hold,
                )
                for p in self.policies
            ],
            near_breach_share=self.near_breach_share,
        )


class SlaSettingsOut(SlaSettingsIn):
    """`GET /service/sla`: the settings, their `version` (also the ETag; 0: never written)
    and whether they are the `default`."""

    version: int
    default: bool


def default_settings(zone: str) -> SlaSettingsIn:
    """Monday to Friday 09:00-17:00 in `zone`; one policy for every ticket."""
    weekdays = {day: list(DEFAULT_HOURS) for day in ("mon", "tue", "wed", "thu", "fri")}
    return SlaSettingsIn(
        calendar=BusinessCalendar(zone=zone, week=weekdays),
        policies=[SlaPolicyIn(id=DEFAULT_POLICY_ID, name="Every ticket", targets=DEFAULT_TARGETS)],
    )


@dataclass(frozen=True)
class StoredSettings:
    settings: SlaSettingsIn
    version: int


class SlaSettingsStore(Protocol):
    """The settings item (docs/data-model.md, "SLA settings")."""

    def read(self, workspace_id: str) -> StoredSettings | None: ...

    def write(self, workspace_id: str, settings: SlaSettingsIn, expected: int, by: str) -> bool:
        """Write version `expected + 1`, only while the stored version is `expected` (0: none
        stored): False when another write came first (nothing written)."""
        ...


class SlaSettingsService:
    def __init__(self, store: SlaSettingsStore, workspaces: WorkspaceReader) -> None:
        self.store = store
        self.workspaces = workspaces

    def current(self, workspace_id: str) -> SlaSettingsOut:
        found = self.store.read(workspace_id)
        if found is not None:
            return SlaSettingsOut(**found.settings.model_dump(), version=found.version, default=False)
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            raise NotFound(f"workspace {workspace_id} not found")
        shown = default_settings(settings.default_timezone or "UTC")
        return SlaSettingsOut(**shown.model_dump(), version=0, default=True)

    def policies(self, workspace_id: str) -> tuple[SlaPolicies, BusinessCalendar]:
        """The engine's policies and the workspace calendar."""
        current = self.current(workspace_id)
        return current.to_policies(), current.calendar

    def replace(
        self, workspace_id: str, settings: SlaSettingsIn, expected: int | None, by: str
    ) -> SlaSettingsOut:
        """Write the settings at version `expected` (409 `stale_version` when it moved);
        `expected` None (the CLI) writes over the version just read."""
        version = self.current(workspace_id).version
        if expected is not None and expected != version:
            raise _stale(version)
        if not self.store.write(workspace_id, settings, version, by):
            raise _stale(None)
        return self.current(workspace_id)


def _stale(version: int | None) -> Refused:
    now = f" (now {version})" if version is not None else ""
    return Refused(f"the SLA settings changed since they were read{now}: read them again", "stale_version")
