"""Segment sizes over time (domain/segment_sizes.py): a point per segment per UTC day,
recorded once by the hourly job, read back by range."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.adapters.segment_size_store import size_item, size_point
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.segment_sizes import BUILTINS, SegmentSizesService
from chalicelib.domain.segment_values import SegmentDefinition
from tests.fakes_console import FakeSegmentSizeLog

DAY = datetime(2026, 3, 1, 0, 20, tzinfo=UTC)


class Segments:
    def __init__(self) -> None:
        self.defined = {"ws_1": [SegmentDefinition("ws_1", "seg_a", "Repeat", "orders_count >= 2", "")]}

    def list_segments(self, workspace_id: str) -> list[SegmentDefinition]:
        return self.defined.get(workspace_id, [])

    def get_segment(self, workspace_id: str, segment_id: str) -> SegmentDefinition | None:
        return next((s for s in self.list_segments(workspace_id) if s.segment_id == segment_id), None)


class Counter:
    def __init__(self) -> None:
        self.sizes = {("ws_1", "seg_a"): 12, ("ws_1", "lifecycle:active"): 40}
        self.asked = 0

    def size(self, workspace_id: str, segment_id: str) -> int:
        self.asked += 1
        return self.sizes.get((workspace_id, segment_id), 0)


class Workspaces:
    def workspace_ids(self) -> list[str]:
        return ["ws_1", "ws_2"]


@pytest.fixture
def world():
    log, counter = FakeSegmentSizeLog(), Counter()
    return SegmentSizesService(Workspaces(), Segments(), counter, log), log, counter


def test_the_days_first_run_records_every_segment_once_and_later_runs_cost_nothing(world):
    service, _, counter = world
    # When the hourly job runs on 1 March, then an hour later after a segment grew
    first = service.record(DAY)
    counter.sizes[("ws_1", "seg_a")] = 15
    asked = counter.asked
    second = service.record(DAY.replace(hour=1))
    # Then the first run wrote a point for each segment of each workspace, built-ins included
    assert first == {"size_points": 2 * len(BUILTINS) + 1, "workspaces_pending": 0}
    assert len(BUILTINS) == 6 + 11 + 2
    # And the second counted nothing and changed nothing: the day's first count stays
    assert second == {"size_points": 0, "workspaces_pending": 0} and counter.asked == asked
    shown = service.sizes("ws_1", "seg_a", None, None, date(2026, 3, 1))
    assert [(p.day, p.size) for p in shown.points] == [(date(2026, 3, 1), 12)]
    # And the next day gets its own point
    service.record(datetime(2026, 3, 2, 0, 5, tzinfo=UTC))
    shown = service.sizes("ws_1", "seg_a", date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 2))
    assert [p.size for p in shown.points] == [12, 15]
    active = service.sizes("ws_1", "lifecycle:active", None, None, date(2026, 3, 2))
    assert [p.size for p in active.points] == [40, 40]


def test_a_run_short_of_time_leaves_the_workspaces_to_the_next_run(world):
    service, log, _ = world
    # When the job has less than its reserve left
    result = service.record(DAY, time_left=lambda: 5.0)
    # Then it writes nothing and says how many workspaces wait
    assert result == {"size_points": 0, "workspaces_pending": 2} and log.points == {}


def test_sizes_are_read_by_range_for_the_workspaces_own_segments(world):
    service, _, _ = world
    service.record(DAY)
    # A range outside the points is empty; another workspace's or an unknown id is a 404
    assert service.sizes("ws_1", "seg_a", date(2026, 2, 1), date(2026, 2, 28), DAY.date()).points == []
    with pytest.raises(NotFound):
        service.sizes("ws_2", "seg_a", None, None, DAY.date())
    with pytest.raises(NotFound):
        service.sizes("ws_1", "lifecycle:asleep", None, None, DAY.date())
    # And a reversed or too long range is a 400
    with pytest.raises(BadRequest):
        service.sizes("ws_1", "seg_a", date(2026, 3, 2), date(2026, 3, 1), DAY.date())
    with pytest.raises(BadRequest):
        service.sizes("ws_1", "seg_a", date(2025, 1, 1), date(2026, 3, 1), DAY.date())


def test_a_size_item_round_trips():
    # Given a point, When it is made an item and read back, Then it is the same point
    item = size_item("ws_1", "rfm:champions", date(2026, 3, 1), 7)
    assert item["pk"] == "W#ws_1#SEGSZ#rfm:champions" and item["sk"] == "2026-03-01"
    assert size_point(item) == (date(2026, 3, 1), 7)
