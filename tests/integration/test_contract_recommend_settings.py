"""The recommendation placements' store contract (recommend.placements.PlacementStore): one
suite on the fake (tests/unit/recommend_world.py) and on the DynamoDB adapter
(adapters/recommend_settings_store.py) on moto."""

from __future__ import annotations

from chalicelib.adapters.recommend_settings_store import DynamoPlacementStore
from chalicelib.domain.recommend.placements import Placement, RecommendationSettingsIn
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.recommend_world import FakePlacementStore

__all__ = ["moto_stage"]


def _dynamo(stage: MotoStage) -> DynamoPlacementStore:
    return DynamoPlacementStore(stage.crm)


store = port_fixture(FakePlacementStore, _dynamo)
BODY = RecommendationSettingsIn(
    placements={"web": Placement(include_categories=["Books"], exclude_categories=["Adult"], limit=12)}
)


def test_nothing_is_stored_until_the_first_write(store):
    assert store.read("ws_1") is None


def test_a_write_moves_the_version_by_one_only_from_the_version_read(store):
    # Given a first write at version 0
    assert store.write("ws_1", BODY, 0, "cli") is True
    # When written again at 0, then at 1
    again = store.write("ws_1", RecommendationSettingsIn(placements={}), 0, "cli")
    moved = store.write(
        "ws_1", RecommendationSettingsIn(placements={"sms": Placement(limit=2)}), 1, "key:abc"
    )
    # Then the stale write changes nothing, the second becomes version 2
    assert (again, moved) == (False, True)
    found = store.read("ws_1")
    assert found is not None and found.version == 2
    assert found.settings.placements == {"sms": Placement(limit=2)}


def test_the_settings_read_back_as_written_per_workspace(store):
    store.write("ws_1", BODY, 0, "cli")
    found = store.read("ws_1")
    assert found is not None and (found.settings, found.version) == (BODY, 1)
    assert store.read("ws_2") is None
    assert store.write("ws_2", BODY, 1, "cli") is False  # nothing stored there: only version 0 writes
