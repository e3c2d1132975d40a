"""The TierStore port's contract: one suite, run against the unit tests' fake and the
DynamoDB adapter on moto (a state and its audit entry in one transaction conditioned on the
version); and the items' layout round-trips."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.adapters.tier_store import (
    DynamoTierStore,
    change_from_item,
    change_item,
    state_from_item,
    state_item,
)
from chalicelib.domain.loyalty.tiers import TierChange, TierState
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_tiers import FakeTierStore

WS, CID = "ws_1", "c_1"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _on_moto(stage: MotoStage) -> DynamoTierStore:
    return DynamoTierStore(stage.crm)


store = port_fixture(FakeTierStore, _on_moto)
__all__ = ["moto_stage"]  # the fixture the moto side asks for

SILVER = TierState(
    WS,
    CID,
    "silver",
    AT,
    Decimal("120.50"),
    date(2026, 11, 5),
    date(2026, 12, 1),
    date(2026, 11, 6),
    "abc123",
    3,
)
UP = TierChange(WS, CID, AT, None, "silver", "manual", Decimal("120.50"), "key:abc", "VIP")


def test_the_items_round_trip():
    # Given a full state and a full audit entry, and bare ones
    bare = TierState(WS, CID, version=1)
    # When each is written as an item and read back
    # Then it is the same value
    assert state_from_item(state_item(SILVER)) == SILVER
    assert state_from_item(state_item(bare)) == bare
    assert change_from_item(change_item(UP, 4)) == UP
    plain = TierChange(WS, CID, AT, "gold", None, "downgrade", Decimal(0))
    assert change_from_item(change_item(plain, 5)) == plain


def test_a_state_is_written_only_over_the_version_read_with_its_audit(store):
    # Given no state
    new = TierState(WS, CID)
    # When it is created, then saved again from version 0 (a lost race), then moved from 1
    assert store.save(new, None) is True
    assert store.save(replace(new, tier="gold"), UP) is False
    assert store.save(replace(new, tier="silver", since=AT, version=1), UP) is True
    # Then the state is at version 2 with the move, and only the successful move is audited
    got = store.get(WS, CID)
    assert (got.tier, got.since, got.version) == ("silver", AT, 2)
    assert store.tier_of(WS, CID) == "silver" and store.tier_of(WS, "c_9") is None
    assert store.changes(WS, CID) == [UP]


def test_the_states_page_by_workspace(store):
    # Given five states in one workspace and one in another
    for i in range(5):
        store.save(TierState(WS, f"c_{i}"), None)
    store.save(TierState("ws_2", "c_x"), None)
    # When they are paged two at a time
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.states(WS, 2, cursor)
        seen += [s.customer_id for s in page]
        if cursor is None:
            break
    # Then each of the workspace's states comes once, in order
    assert seen == [f"c_{i}" for i in range(5)]


def test_concurrent_moves_from_one_version_exactly_one_wins(store):
    # Given a stored state
    store.save(TierState(WS, CID), None)
    # When eight writers move it from version 1 at once
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda n: store.save(TierState(WS, CID, f"t{n}", AT, version=1), UP), range(8))
        )
    # Then exactly one succeeds, and one audit entry is written
    assert results.count(True) == 1
    assert len(store.changes(WS, CID)) == 1
