"""SegmentStore's contract: one scenario suite run against the in-memory fake and against
DynamoSegmentStore on moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

import pytest

from chalicelib.adapters.segment_store import segment_item, segment_of
from chalicelib.domain.segment_values import SegmentDefinition
from tests.unit.fakes import FakeSegmentStore

WS, OTHER = "ws_contract", "ws_other"
CREATED = "2026-11-27T12:00:00.000000+00:00"


def definition(segment_id: str, workspace_id: str = WS, name: str = "Big spenders") -> SegmentDefinition:
    return SegmentDefinition(workspace_id, segment_id, name, "total_spent > 100", CREATED)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeSegmentStore()
    return request.getfixturevalue("stage").container.segments.store


def test_a_saved_segment_reads_back_as_it_was_saved(store):
    # Given a segment saved in a workspace
    store.put_segment(definition("seg_b"))
    # When it is read back, Then it is the same definition
    assert store.get_segment(WS, "seg_b") == definition("seg_b")
    # And no other id, nor the same id in another workspace, finds anything
    assert store.get_segment(WS, "seg_nope") is None
    assert store.get_segment(OTHER, "seg_b") is None


def test_a_workspace_lists_its_own_segments_in_id_order(store):
    # Given segments in two workspaces, saved out of order
    for segment_id in ("seg_c", "seg_a", "seg_b"):
        store.put_segment(definition(segment_id))
    store.put_segment(definition("seg_x", OTHER))
    # When each workspace lists its segments
    # Then each sees only its own, in id order
    assert [s.segment_id for s in store.list_segments(WS)] == ["seg_a", "seg_b", "seg_c"]
    assert store.list_segments(OTHER) == [definition("seg_x", OTHER)]
    assert store.list_segments("ws_empty") == []


def test_a_deleted_segment_is_gone_and_a_second_delete_says_so(store):
    # Given two segments
    store.put_segment(definition("seg_a"))
    store.put_segment(definition("seg_b"))
    # When one is deleted twice
    first, second = store.delete_segment(WS, "seg_a"), store.delete_segment(WS, "seg_a")
    # Then only the first delete found it, and it is neither read nor listed any more
    assert (first, second) == (True, False)
    assert store.get_segment(WS, "seg_a") is None
    assert [s.segment_id for s in store.list_segments(WS)] == ["seg_b"]


def test_the_stored_item_keeps_its_layout_byte_for_byte(stage):
    # Given a segment saved through the adapter
    store = stage.container.segments.store
    store.put_segment(definition("seg_layout"))
    # When the raw item is read from the table
    raw = store.t.get(f"W#{WS}#SEG", "seg_layout", consistent=True)
    # Then it is today's layout exactly, and the mapping round-trips it
    assert raw == {
        "pk": f"W#{WS}#SEG",
        "sk": "seg_layout",
        "t": "segment",
        "ws": WS,
        "name": "Big spenders",
        "definition": "total_spent > 100",
        "ca": CREATED,
    }
    assert segment_item(segment_of(raw)) == raw
