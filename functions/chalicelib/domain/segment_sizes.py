"""Segment sizes over time: one point per segment per UTC day (docs/segments.md#sizes-over-time).

The hourly `segment_recheck` job records them (`record`): on its first run of a day, for
each workspace whose day is not done, every segment's size (its stored segments and the
built-ins), counted from its member list as `GET /segments/{id}` counts it, written once;
then the day is marked done, so later runs that day cost one read per workspace. A run cut
short by its time budget leaves the workspace to the next run, which writes only the
points still missing. `GET /segments/{id}/sizes?from=&to=` reads them back (`sizes`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.analytics_views import SegmentSizes, SizePoint
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.ports import WorkspaceDirectory
from chalicelib.domain.segment_size_ports import SegmentCounter, SegmentLister, SegmentSizeLog
from chalicelib.domain.segments import (
    ACCOUNT_KINDS,
    BUILTIN_PREFIXES,
    LIFECYCLE_STAGES,
    RFM_GROUPS,
    check_builtin,
)

BUILTINS = (
    *(f"lifecycle:{s}" for s in LIFECYCLE_STAGES),
    *(f"rfm:{g}" for g in RFM_GROUPS),
    *(f"account:{k}" for k in ACCOUNT_KINDS),
)
DEFAULT_DAYS = 90  # without `from`: the 90 days to `to`
MOST_DAYS = 400  # the points' time to live
RESERVE_SECONDS = 10.0  # a run stops taking workspaces with less left


class SegmentSizesService:
    def __init__(
        self,
        workspaces: WorkspaceDirectory,
        segments: SegmentLister,
        counter: SegmentCounter,
        log: SegmentSizeLog,
    ) -> None:
        self.workspaces = workspaces
        self.segments = segments
        self.counter = counter
        self.log = log

    def record(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, int]:
        """The day's points of every workspace not done yet, while time is left."""
        budget = time_left or (lambda: float("inf"))
        day = now.astimezone(UTC).date()
        recorded = pending = 0
        for workspace_id in self.workspaces.workspace_ids():
            if self.log.done(workspace_id, day):
                continue
            if budget() < RESERVE_SECONDS:
                pending += 1
                continue
            ids = [*BUILTINS, *(s.segment_id for s in self.segments.list_segments(workspace_id))]
            for segment_id in ids:
                self.log.record(workspace_id, segment_id, day, self.counter.size(workspace_id, segment_id))
            self.log.finish(workspace_id, day)
            recorded += len(ids)
        return {"size_points": recorded, "workspaces_pending": pending}

    def sizes(
        self, workspace_id: str, segment_id: str, first: date | None, last: date | None, today: date
    ) -> SegmentSizes:
        """The segment's daily points from `first` to `last` (both included; by default the
        90 days to today), at most 400 days; 404 for a segment the workspace does not have."""
        if segment_id.startswith(BUILTIN_PREFIXES):
            check_builtin(segment_id)
        elif self.segments.get_segment(workspace_id, segment_id) is None:
            raise NotFound("segment not found")
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise BadRequest("'from' must not be after 'to'", [{"field": "from", "error": "after to"}])
        if (last - first).days >= MOST_DAYS:
            raise BadRequest(f"at most {MOST_DAYS} days at a time", [{"field": "from", "error": "too early"}])
        points = self.log.sizes(workspace_id, segment_id, first, last)
        return SegmentSizes(segment_id=segment_id, points=[SizePoint(day=d, size=n) for d, n in points])
