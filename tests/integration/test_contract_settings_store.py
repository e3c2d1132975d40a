"""SettingsStore's contract: one suite on the in-memory fake and on DynamoSettingsStore on
moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

import pytest

from chalicelib.adapters.workspace_settings_store import DynamoSettingsStore
from chalicelib.adapters.workspace_store import DynamoWorkspaceStore
from chalicelib.domain.workspace_api.model import SettingsChanges
from tests.contract import moto_stage  # noqa: F401 (the fixture)
from tests.fakes_settings import FakeSettingsStore

WS = "ws_contract"


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        fake = FakeSettingsStore()
        fake.create(WS)
        return fake
    stage = request.getfixturevalue("moto_stage")
    workspaces = DynamoWorkspaceStore(stage.crm)
    workspaces.create_workspace(WS, "Contract", "USD", "ab" * 32, "abab")
    return DynamoSettingsStore(stage.crm, workspaces)


def test_a_write_at_the_version_read_moves_it_and_a_stale_one_writes_nothing(store):
    # Given a workspace never changed: version 0, the defaults
    settings, version = store.current(WS)
    assert version == 0 and (settings.quiet_start, settings.low_every_days) == (21, 3)
    # When one change is written at version 0
    assert store.update(WS, SettingsChanges(quiet_start=22, quiet_end=7, daily_caps={"high": 3}), 0)
    # Then it reads back at version 1
    settings, version = store.current(WS)
    assert version == 1 and (settings.quiet_start, settings.quiet_end, settings.daily_caps) == (
        22,
        7,
        {"high": 3},
    )
    # When another is written at version 0, Then it is refused and nothing changed
    assert not store.update(WS, SettingsChanges(low_every_days=9), 0)
    assert store.current(WS)[0].low_every_days == 3 and store.current(WS)[1] == 1
    # And a write without a version (the CLI's) always goes, and moves it
    assert store.update(
        WS, SettingsChanges(sender_email="a@b.example", notifications=frozenset({"shipped"})), None
    )
    settings, version = store.current(WS)
    assert (version, settings.sender_email, settings.notifications) == (
        2,
        "a@b.example",
        frozenset({"shipped"}),
    )


def test_an_empty_set_of_notifications_switches_them_all_off(store):
    # Given notifications switched on
    store.update(WS, SettingsChanges(notifications=frozenset({"shipped", "delivered"})), None)
    # When they are set to none, Then none is on
    assert store.update(WS, SettingsChanges(notifications=frozenset()), 1)
    assert store.current(WS)[0].notifications == frozenset()


def test_the_open_complaint_guardrail_is_on_by_default_and_can_be_switched_off_and_on(store):
    # Given a new workspace: the guardrail is on
    assert store.current(WS)[0].no_marketing_on_open_complaint is True
    # When it is switched off, Then it reads back off (False is written, not skipped)
    assert store.update(WS, SettingsChanges(no_marketing_on_open_complaint=False), None)
    assert store.current(WS)[0].no_marketing_on_open_complaint is False
    # When another setting changes, Then it stays off; switched on again, it is on
    assert store.update(WS, SettingsChanges(low_every_days=5), None)
    assert store.current(WS)[0].no_marketing_on_open_complaint is False
    assert store.update(WS, SettingsChanges(no_marketing_on_open_complaint=True), None)
    assert store.current(WS)[0].no_marketing_on_open_complaint is True
