"""The settings service on the fake store: editors who read the same version cannot
overwrite each other, whatever order their patches arrive in; the CLI's rules apply."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.workspace_api.model import Refused, SettingsChanges
from chalicelib.domain.workspace_api.settings import SettingsPatch, SettingsService
from tests.fakes_settings import FakeSettingsStore

WS = "ws_unit"


def service() -> SettingsService:
    store = FakeSettingsStore()
    store.create(WS)
    return SettingsService(store)


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(1, 6)), st.integers(2, 5))
def test_of_editors_holding_one_version_exactly_the_first_to_write_wins(order, editors):
    # Given several editors who all read the settings at the same version
    settings_ = service()
    version = settings_.read(WS).version
    arrivals = [n for n in order if n <= editors]
    # When each patches low_every_days to its own number, in any order
    outcomes = []
    for n in arrivals:
        try:
            settings_.update(WS, SettingsPatch(low_every_days=n), version)
            outcomes.append(n)
        except Refused as refused:
            assert refused.details["reason"] == "stale_version"
    # Then only the first to arrive wrote, and the settings are its, one version on
    assert outcomes == arrivals[:1]
    shown = settings_.read(WS)
    assert (shown.low_every_days, shown.version) == (arrivals[0], version + 1)


def test_a_patch_is_checked_by_the_rules_the_cli_applies():
    # Given the settings at their version
    settings_ = service()
    version = settings_.read(WS).version
    # When caps of an unknown tier, an unknown zone or notification, or out-of-range hours are given
    # Then each is refused as a bad request, and nothing is written
    for patch in (
        SettingsPatch(daily_caps={"low": 2}),
        SettingsPatch(default_timezone="Mars/Base"),
        SettingsPatch(notifications=["fax"]),
        SettingsPatch(quiet_hours="7-24"),
        SettingsPatch(engagement={"high_opens": 5}),
    ):
        with pytest.raises(BadRequest):
            settings_.update(WS, patch, version)
    assert settings_.read(WS).version == version
    # And caps are merged into the stored ones, engagement thresholds too
    shown = settings_.update(
        WS, SettingsPatch(daily_caps={"high": 4}, engagement={"recent_days": 14}), version
    )
    assert shown.daily_caps == {"high": 4, "medium": 1}
    assert shown.engagement["recent_days"] == 14 and shown.engagement["high_opens"] == 2


def test_a_cli_write_racing_another_is_merged_into_it_not_over_it():
    # Given a store where another editor sets the medium cap between the CLI's read and write
    store = FakeSettingsStore()
    store.create(WS)
    real_update = store.update
    raced = []

    def update(workspace_id, changes, expected):
        if not raced:
            raced.append(True)
            assert real_update(workspace_id, SettingsChanges(daily_caps={"medium": 5}), None)
        return real_update(workspace_id, changes, expected)

    store.update = update
    # When the CLI (no version) sets the high cap
    shown = SettingsService(store).update(WS, SettingsPatch(daily_caps={"high": 4}), None)
    # Then both caps stand: the CLI's write was read again and merged, at the new version
    assert shown.daily_caps == {"high": 4, "medium": 5} and shown.version == 2
