"""The daily tier evaluation's progress on one workspace for one UTC day
(docs/loyalty.md#tiers): where it stopped, so the next run of the same day resumes there.

The evaluation walks the workspace's tier states in customer-id order. After each page,
and when it stops for time, it commits the last customer it evaluated (`cursor`), or
`done` at the end; every commit is conditioned on the version it read, so of two
overlapping runs one stops. A new UTC day starts from the first customer again.
adapters/tier_run_store.py maps it to its item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class TierRun:
    workspace_id: str
    day: date  # the evaluation's UTC day
    cursor: str | None = None  # the last customer evaluated (None: none yet)
    done: bool = False  # every customer of the day evaluated
    version: int = 0  # the stored item's version (0: none stored)


class TierRunStore(Protocol):
    """The daily tier evaluation's progress per workspace."""

    def progress(self, workspace_id: str, day: date) -> TierRun:
        """The progress of `day` (consistent), or a fresh one for that day (none stored, or
        another day's: at its version, so the first commit replaces it)."""
        ...

    def advance(self, run: TierRun, cursor: str | None, done: bool) -> TierRun | None:
        """Commits `cursor` and `done` for `run.day` at the version read; None when another
        run moved it meanwhile."""
        ...
