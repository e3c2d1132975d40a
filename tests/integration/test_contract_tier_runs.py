"""The TierRunStore port's contract (the daily tier evaluation's progress per workspace and
day, committed at the version read), run against the unit tests' fake and the DynamoDB
adapter on moto; and the progress item round-trips."""

from __future__ import annotations

from datetime import date

from chalicelib.adapters.tier_run_store import DynamoTierRunStore, run_from_item, run_item
from chalicelib.domain.loyalty.tier_run import TierRun
from tests.contract import MotoStage, moto_stage, port_fixture  # noqa: F401 (the fixture)
from tests.unit.fake_tiers import FakeTierRunStore

WS = "ws_1"
DAY, NEXT = date(2026, 12, 6), date(2026, 12, 7)


def _on_moto(stage: MotoStage) -> DynamoTierRunStore:
    return DynamoTierRunStore(stage.crm)


runs = port_fixture(FakeTierRunStore, _on_moto)


def test_progress_is_committed_at_the_version_read_and_a_new_day_starts_afresh(runs):
    # Given no progress yet
    fresh = runs.progress(WS, DAY)
    assert fresh == TierRun(WS, DAY)
    # When a run commits a cursor, then the end of the day; and a stale copy commits again
    first = runs.advance(fresh, "c_03", False)
    done = runs.advance(first, "c_09", True)
    stale = runs.advance(first, "c_05", False)
    # Then the day reads as done at c_09, and the stale commit was refused
    assert stale is None and done is not None
    assert runs.progress(WS, DAY) == TierRun(WS, DAY, "c_09", True, 2)
    # And the next day starts with no cursor, committing over the old day at its version
    tomorrow = runs.progress(WS, NEXT)
    assert (tomorrow.cursor, tomorrow.done) == (None, False)
    assert runs.advance(tomorrow, "c_01", False) is not None
    assert runs.progress(WS, NEXT).cursor == "c_01"
    assert runs.progress("ws_other", DAY) == TierRun("ws_other", DAY)


def test_the_progress_item_round_trips():
    # Given progress with and without a cursor, When mapped to the item and back, Then the same
    for run in (TierRun(WS, DAY, "c_1", False, 3), TierRun(WS, DAY, None, True, 1)):
        assert run_from_item(run_item(run)) == run
