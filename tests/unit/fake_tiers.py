"""Tier states and their audit in memory (the TierStore port), for unit tests and the contract suite."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

from chalicelib.domain.loyalty.tier_run import TierRun
from chalicelib.domain.loyalty.tiers import TierChange, TierState


class FakeTierStore:
    def __init__(self) -> None:
        self.states_: dict[tuple[str, str], TierState] = {}
        self.audit: dict[tuple[str, str], list[TierChange]] = {}
        self.lock = threading.Lock()

    def tier_of(self, workspace_id: str, customer_id: str) -> str | None:
        state = self.get(workspace_id, customer_id)
        return state.tier if state else None

    def get(self, workspace_id: str, customer_id: str) -> TierState | None:
        return self.states_.get((workspace_id, customer_id))

    def save(self, state: TierState, change: TierChange | None) -> bool:
        key = (state.workspace_id, state.customer_id)
        with self.lock:
            stored = self.states_.get(key)
            if (stored.version if stored else 0) != state.version:
                return False
            self.states_[key] = replace(state, version=state.version + 1)
            if change is not None:
                self.audit.setdefault(key, []).append(change)
            return True

    def states(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[TierState], str | None]:
        ids = sorted(
            cid for ws, cid in self.states_ if ws == workspace_id and (cursor is None or cid > cursor)
        )
        page = [self.states_[(workspace_id, cid)] for cid in ids[:limit]]
        return page, (page[-1].customer_id if len(ids) > limit else None)

    def changes(self, workspace_id: str, customer_id: str) -> list[TierChange]:
        return list(self.audit.get((workspace_id, customer_id), []))


class FakeTierRunStore:
    """The daily tier evaluation's progress in memory (the TierRunStore port)."""

    def __init__(self) -> None:
        self.runs: dict[str, TierRun] = {}
        self.lock = threading.Lock()

    def progress(self, workspace_id: str, day: date) -> TierRun:
        stored = self.runs.get(workspace_id)
        if stored is None:
            return TierRun(workspace_id, day)
        return stored if stored.day == day else TierRun(workspace_id, day, version=stored.version)

    def advance(self, run: TierRun, cursor: str | None, done: bool) -> TierRun | None:
        with self.lock:
            stored = self.runs.get(run.workspace_id)
            if (stored.version if stored else 0) != run.version:
                return None
            moved = replace(run, cursor=cursor, done=done, version=run.version + 1)
            self.runs[run.workspace_id] = moved
            return moved
