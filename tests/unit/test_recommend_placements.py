"""The recommendation placements: defaults, category rules, versioned writes
(domain/recommend/placements.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.recommend.placements import (
    Placement,
    RecommendationSettings,
    RecommendationSettingsIn,
)
from chalicelib.domain.workspace_api.model import Refused
from tests.unit.recommend_world import WS, FakePlacementStore


def test_a_workspace_starts_with_the_three_default_placements():
    shown = RecommendationSettings(FakePlacementStore()).current(WS)
    assert (shown.version, shown.default) == (0, True)
    assert {name: p.limit for name, p in shown.placements.items()} == {"email": 4, "sms": 1, "web": 8}


def test_settings_are_written_at_their_version_and_keep_the_built_in_placements():
    # Given the defaults, and a write adding a placement and changing email
    store = FakePlacementStore()
    settings = RecommendationSettings(store)
    body = RecommendationSettingsIn(
        placements={"email": Placement(limit=6), "home": Placement(include_categories=["Books"], limit=12)}
    )
    # When written at version 0, then again at version 0
    written = settings.replace(WS, body, 0, "key:abc")
    with pytest.raises(Refused) as stale:
        settings.replace(WS, body, 0, "cli")
    # Then version 1 holds both, sms and web keep their defaults; the second write is stale
    assert (written.version, written.default) == (1, False)
    assert {n: p.limit for n, p in written.placements.items()} == {"email": 6, "sms": 1, "web": 8, "home": 12}
    assert stale.value.details == {"reason": "stale_version"}
    assert store.by[WS] == "key:abc"
    # And the CLI (no version) writes over the version it just read
    assert settings.replace(WS, body, None, "cli").version == 2


def test_a_write_that_loses_a_race_is_stale():
    store = FakePlacementStore()
    settings = RecommendationSettings(store)
    body = RecommendationSettingsIn(placements={})
    store.write = lambda *_: False  # type: ignore[method-assign]  # another write came first
    with pytest.raises(Refused):
        settings.replace(WS, body, 0, "cli")


@pytest.mark.parametrize(
    "placements",
    [
        {"Email": {}},  # upper case
        {"a b": {}},
        {"x" * 33: {}},
        {"web": {"limit": 0}},
        {"web": {"limit": 51}},
        {"web": {"unknown": 1}},
        {f"p{i}": {} for i in range(21)},
    ],
)
def test_invalid_placements_are_refused(placements):
    with pytest.raises(ValidationError):
        RecommendationSettingsIn.model_validate({"placements": placements})


@pytest.mark.parametrize(
    ("rules", "categories", "allowed"),
    [
        ({}, (), True),
        ({"include_categories": ["Books"]}, ("books",), True),
        ({"include_categories": ["Books"]}, ("Games",), False),
        ({"include_categories": ["Books"]}, (), False),  # unknown category passes no include rule
        ({"exclude_categories": ["Books"]}, (" BOOKS ",), False),
        ({"exclude_categories": ["Books"]}, (), True),
        (
            {"include_categories": ["Books", "Games"], "exclude_categories": ["Adult"]},
            ("Games", "Adult"),
            False,
        ),
    ],
)
def test_a_placements_category_rules(rules, categories, allowed):
    assert Placement(**rules).allows(categories) is allowed
