"""Ports of segment sizes over time (domain/segment_sizes.py), apart from domain/ports.py."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from chalicelib.domain.segment_values import SegmentDefinition


class SegmentSizeLog(Protocol):
    def done(self, workspace_id: str, day: date) -> bool:
        """Whether the day's points of the workspace are all written."""
        ...

    def record(self, workspace_id: str, segment_id: str, day: date, size: int) -> None:
        """The segment's size that day, written once: a point already there is kept."""
        ...

    def finish(self, workspace_id: str, day: date) -> None: ...
    def sizes(self, workspace_id: str, segment_id: str, first: date, last: date) -> list[tuple[date, int]]:
        """The points from `first` to `last` (both included), oldest first."""
        ...


class SegmentCounter(Protocol):
    def size(self, workspace_id: str, segment_id: str) -> int: ...


class SegmentLister(Protocol):
    def list_segments(self, workspace_id: str) -> list[SegmentDefinition]: ...
    def get_segment(self, workspace_id: str, segment_id: str) -> SegmentDefinition | None: ...
