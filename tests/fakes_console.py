"""In-memory fakes of the console analytics' ports (domain/segment_size_ports.py,
domain/ops_ports.py), run through the same contract suites as their adapters."""

from __future__ import annotations

from collections import Counter
from datetime import date


class FakeSegmentSizeLog:
    def __init__(self) -> None:
        self.points: dict[tuple[str, str, date], int] = {}
        self.days_done: set[tuple[str, date]] = set()

    def done(self, workspace_id: str, day: date) -> bool:
        return (workspace_id, day) in self.days_done

    def record(self, workspace_id: str, segment_id: str, day: date, size: int) -> None:
        self.points.setdefault((workspace_id, segment_id, day), size)  # written once

    def finish(self, workspace_id: str, day: date) -> None:
        self.days_done.add((workspace_id, day))

    def sizes(self, workspace_id: str, segment_id: str, first: date, last: date) -> list[tuple[date, int]]:
        return sorted(
            (day, n)
            for (ws, seg, day), n in self.points.items()
            if ws == workspace_id and seg == segment_id and first <= day <= last
        )


class FakeQueueDepths:
    """Queues as counters of waiting messages."""

    def __init__(self) -> None:
        self.waiting: Counter[str] = Counter()
        self.urls = {"campaign_batches": "fake://campaign-dlq", "stream_failures": "fake://stream-failures"}

    def put(self, url: str) -> None:
        self.waiting[url] += 1

    def take(self, url: str) -> None:
        self.waiting[url] -= 1  # received: in flight, not waiting

    def depth(self, queue_url: str) -> int:
        return self.waiting[queue_url]
