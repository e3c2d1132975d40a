"""Placements: where recommendations are shown (`email`, `sms`, `web` and any the workspace
names), each with its category rules and its default number of products, as
`GET/PUT /recommendations/settings` and `patron recommend settings get|set` read and write
them (docs/recommendations.md, "API"). Stored with a version; a write at an older version
is refused (409 `stale_version`). The three built-in placements always exist: a stored
settings document that leaves one out gets its default."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.workspace_api.model import Refused

NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"
MAX_PLACEMENTS = 20
MAX_LIMIT = 50


def folded(categories: Collection[str]) -> set[str]:
    """Categories compared without case or surrounding spaces."""
    return {c.strip().casefold() for c in categories if c.strip()}


class Placement(BaseModel):
    """One placement's rules: a product is shown only if one of its categories is in
    `include_categories` (when any are given) and none is in `exclude_categories`; `limit`
    products unless the request asks for another number."""

    model_config = ConfigDict(extra="forbid")

    include_categories: list[str] = Field(default_factory=list, max_length=100)
    exclude_categories: list[str] = Field(default_factory=list, max_length=100)
    limit: int = Field(default=8, ge=1, le=MAX_LIMIT)

    def allows(self, categories: Collection[str]) -> bool:
        """Whether a product of these categories may be shown here (a product of unknown
        category passes no include rule)."""
        mine = folded(categories)
        if mine & folded(self.exclude_categories):
            return False
        include = folded(self.include_categories)
        return not include or bool(mine & include)


DEFAULT_PLACEMENTS: dict[str, Placement] = {
    "email": Placement(limit=4),
    "sms": Placement(limit=1),
    "web": Placement(limit=8),
}


class RecommendationSettingsIn(BaseModel):
    """`PUT /recommendations/settings`: the placements by name (`email`, `sms` and `web`
    keep their defaults when left out)."""

    model_config = ConfigDict(extra="forbid")

    placements: dict[str, Placement] = Field(max_length=MAX_PLACEMENTS)

    @field_validator("placements")
    @classmethod
    def _names(cls, value: dict[str, Placement]) -> dict[str, Placement]:
        bad = [name for name in value if not re.fullmatch(NAME, name)]
        if bad:
            raise ValueError(f"a placement's name is 1 to 32 of a-z, 0-9, _ and - (not {bad[0]!r})")
        return value


class RecommendationSettingsOut(BaseModel):
    """`GET /recommendations/settings`: every placement (the built-in ones included), the
    `version` (also the ETag; 0: never written) and whether they are the `default`."""

    placements: dict[str, Placement]
    version: int
    default: bool


@dataclass(frozen=True)
class StoredPlacements:
    settings: RecommendationSettingsIn
    version: int


class PlacementStore(Protocol):
    """The settings item (docs/data-model.md, "Recommendation placements")."""

    def read(self, workspace_id: str) -> StoredPlacements | None: ...

    def write(self, workspace_id: str, settings: RecommendationSettingsIn, expected: int, by: str) -> bool:
        """Write version `expected + 1`, only while the stored version is `expected` (0: none
        stored): False when another write came first (nothing written)."""
        ...


class RecommendationSettings:
    """The workspace's placements: read, replaced at a version, one looked up by name."""

    def __init__(self, store: PlacementStore) -> None:
        self.store = store

    def current(self, workspace_id: str) -> RecommendationSettingsOut:
        found = self.store.read(workspace_id)
        if found is None:
            return RecommendationSettingsOut(placements=dict(DEFAULT_PLACEMENTS), version=0, default=True)
        return RecommendationSettingsOut(
            placements=DEFAULT_PLACEMENTS | found.settings.placements, version=found.version, default=False
        )

    def placement(self, workspace_id: str, name: str) -> Placement:
        """The named placement; 400 naming the workspace's placements when unknown."""
        placements = self.current(workspace_id).placements
        found = placements.get(name)
        if found is None:
            known = ", ".join(sorted(placements))
            raise BadRequest(
                f"unknown placement {name!r}: one of {known}",
                [{"field": "placement", "error": "unknown"}],
            )
        return found

    def replace(
        self, workspace_id: str, settings: RecommendationSettingsIn, expected: int | None, by: str
    ) -> RecommendationSettingsOut:
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
    return Refused(
        f"the recommendation settings changed since they were read{now}: read them again", "stale_version"
    )
