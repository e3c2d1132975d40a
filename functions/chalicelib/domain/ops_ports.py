"""Ports of the ops health (domain/ops_health.py), apart from domain/ports.py."""

from __future__ import annotations

from typing import Protocol


class QueueDepths(Protocol):
    def depth(self, queue_url: str) -> int:
        """The messages waiting on the queue (SQS's approximate count, in-flight ones left out)."""
        ...
