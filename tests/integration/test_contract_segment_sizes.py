"""SegmentSizeLog contract (domain/segment_size_ports.py): DynamoSegmentSizeLog on moto and
the fake (tests/fakes_console.py) keep a point per segment per day, written once, read by range."""

from __future__ import annotations

from datetime import date

from chalicelib.adapters.segment_size_store import DynamoSegmentSizeLog
from tests.contract import moto_stage, port_fixture
from tests.fakes_console import FakeSegmentSizeLog

__all__ = ["moto_stage"]

log = port_fixture(FakeSegmentSizeLog, lambda stage: DynamoSegmentSizeLog(stage.crm))


def test_a_days_point_is_written_once_and_read_by_range(log):
    # Given three days of a segment's sizes, the first day counted twice
    log.record("ws_1", "seg_a", date(2026, 3, 1), 10)
    log.record("ws_1", "seg_a", date(2026, 3, 1), 99)
    log.record("ws_1", "seg_a", date(2026, 3, 2), 11)
    log.record("ws_1", "seg_a", date(2026, 3, 3), 12)
    log.record("ws_1", "seg_b", date(2026, 3, 2), 5)
    log.record("ws_2", "seg_a", date(2026, 3, 2), 7)
    # When a range is read
    found = log.sizes("ws_1", "seg_a", date(2026, 3, 1), date(2026, 3, 2))
    # Then it has that segment's points in it, oldest first, the day's first count kept
    assert found == [(date(2026, 3, 1), 10), (date(2026, 3, 2), 11)]
    assert log.sizes("ws_1", "seg_a", date(2026, 2, 1), date(2026, 2, 28)) == []


def test_a_day_is_done_once_finished_for_that_workspace(log):
    # Given a workspace whose day is finished
    log.finish("ws_1", date(2026, 3, 1))
    # Then that day is done for it, not the next day nor another workspace
    assert log.done("ws_1", date(2026, 3, 1))
    assert not log.done("ws_1", date(2026, 3, 2)) and not log.done("ws_2", date(2026, 3, 1))


def test_a_months_points_are_read_in_day_order(log):
    # Given a point for each day of February, When the month is read
    for day in range(1, 29):
        log.record("ws_1", "seg_a", date(2026, 2, day), day)
    found = log.sizes("ws_1", "seg_a", date(2026, 2, 1), date(2026, 2, 28))
    # Then every day is there, in order
    assert [n for _, n in found] == list(range(1, 29))
