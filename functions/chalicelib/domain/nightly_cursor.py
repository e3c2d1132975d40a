"""The nightly job's progress on one workspace for one UTC day: a value type (a leaf).

adapters/nightly_store.py maps it to and from its item (`NIGHTLY` / `<ws>`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NightlyCursor:
    workspace_id: str
    day: str  # the run's UTC day, YYYY-MM-DD
    phase: str = "gather"  # gather | apply | done
    position: str = ""  # the customer walk's position (walk.Position.dumps)
    pages: int = 0  # pages gathered
    profiles_read: int = 0
    moved: int = 0  # profiles handed on to the membership service
    prev: str | None = None  # JSON: the scores before (while applying)
    next: str | None = None  # JSON: the scores after
    version: int = 0  # every change is conditioned on the version read
