"""SweepStore's contract: one scenario suite run against the in-memory fake and against
DynamoSweepStore on moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

import pytest

from chalicelib.adapters.sweep_store import sweep_of
from chalicelib.domain.segment_values import Sweep
from tests.unit.fakes import FakeSweepStore

SOON = "2026-11-27T12:00:35.000000+00:00"


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeSweepStore()
    return request.getfixturevalue("stage").container.segments.sweeps


def test_a_new_sweep_is_pending_until_finished(store):
    # Given two new segments' sweeps, added out of order
    store.add("ws_b", "seg_1", SOON)
    store.add("ws_a", "seg_2", SOON)
    # When the pending sweeps are read, Then both are there, in key order, not started
    assert store.pending() == [Sweep("ws_a", "seg_2", SOON), Sweep("ws_b", "seg_1", SOON)]
    assert store.get("ws_b", "seg_1") == Sweep("ws_b", "seg_1", SOON, None, 0)
    # When one is finished, Then it is neither pending nor found
    store.finish("ws_b", "seg_1")
    assert store.pending() == [Sweep("ws_a", "seg_2", SOON)]
    assert store.get("ws_b", "seg_1") is None


def test_progress_moves_the_cursor_and_adds_up_the_customers(store):
    # Given a sweep walked two pages
    store.add("ws_a", "seg_1", SOON)
    assert store.advance("ws_a", "seg_1", '{"stage": 0, "key": "c100"}', 100) is True
    assert store.advance("ws_a", "seg_1", '{"stage": 1, "key": "c040"}', 40) is True
    # When it is read, Then it holds the last position and the customers of both pages
    assert store.get("ws_a", "seg_1") == Sweep("ws_a", "seg_1", SOON, '{"stage": 1, "key": "c040"}', 140)
    # And progress on a sweep that is gone (its segment deleted) is refused and creates nothing
    store.finish("ws_a", "seg_1")
    assert store.advance("ws_a", "seg_1", '{"stage": 2, "key": null}', 10) is False
    assert store.get("ws_a", "seg_1") is None


def test_the_stored_sweep_maps_to_the_domain_sweep():
    # Given a sweep item as the table holds it, When it is read, Then each field is mapped
    item = {"pk": "SWEEP", "sk": "ws_a#seg_1", "t": "sweep", "ws": "ws_a", "seg": "seg_1", "nb": SOON, "n": 3}
    assert sweep_of(item | {"cur": "c"}) == Sweep("ws_a", "seg_1", SOON, "c", 3)
    assert sweep_of(item) == Sweep("ws_a", "seg_1", SOON, None, 3)
