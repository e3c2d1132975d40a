"""Customers' tiers: up at once after an order's points, down on the scheduled evaluation,
manual moves, the preview of new rules and a customer's tier read (docs/loyalty.md#tiers).

Every write is the tier state's compare-and-set on its version, with its audit entry, in
one transaction (TierStore.save); a lost race reads again and re-applies the same step.
The daily job's walk keeps its progress per workspace and day (domain/loyalty/tier_run.py):
a run out of time stops, and the next run of the day resumes after the last customer it
evaluated; a finished day is not walked again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import NotFound
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.adjust import PointsRefused, loyalty_on
from chalicelib.domain.loyalty.model import LedgerEntry
from chalicelib.domain.loyalty.ports import LoyaltySettings, PointsLedger, TierStore
from chalicelib.domain.loyalty.tier_run import TierRun, TierRunStore
from chalicelib.domain.loyalty.tiers import (
    Step,
    TierChange,
    TierRules,
    TierState,
    fingerprint,
    manual_move,
    next_check,
    on_evaluation,
    on_order,
    preview,
    progress,
    qualifying_value,
)
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.timemath import iso
from chalicelib.domain.workspace_settings import WorkspaceSettings

ATTEMPTS = 5
PAGE = 200
MARGIN = 30.0  # seconds an invocation keeps to commit its progress before it ends
COUNTS = ("evaluated", "skipped", "upgraded", "downgraded")


class TierMoveIn(BaseModel):
    """The body of `POST /customers/{id}/tier` (`tier` null: no tier)."""

    model_config = ConfigDict(extra="forbid")
    tier: str | None = Field(max_length=32)
    reason: str = Field(min_length=1, max_length=200)
    hold_days: int | None = Field(default=None, ge=1, le=366)


@dataclass(frozen=True)
class TierView:
    state: TierState
    value: Decimal
    rules: TierRules


class TierService:
    def __init__(
        self,
        store: TierStore,
        ledger: PointsLedger,
        workspaces: LoyaltySettings,
        profiles: ProfileReader | None = None,
        runs: TierRunStore | None = None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles
        self.runs = runs  # the daily job's progress (None: every evaluation walks everyone)

    # the ingest consumer's step, after the order's points
    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> TierChange | None:
        order = change.order
        if order is None or customer_id is None or order.imported or not order.snapshot.is_order:
            return None  # (a checkout is no order)
        settings = self._tiered(order.workspace_id)
        if settings is None:
            return None
        return self._apply(settings, customer_id, now, "order")

    def evaluate(
        self, workspace_id: str, now: datetime, time_left: Callable[[], float] | None = None
    ) -> dict[str, int]:
        """The scheduled evaluation of every recorded tier state of the workspace; with the
        job's progress (`runs`), only those the day's earlier runs did not reach, stopping
        (`stopped` 1) when `time_left()` falls under the margin."""
        settings = self._tiered(workspace_id)
        counts = dict.fromkeys(COUNTS, 0)
        if settings is None:
            return counts
        today, rules_id = now.astimezone(UTC).date(), fingerprint(settings.tiers)
        run = self.runs.progress(workspace_id, today) if self.runs is not None else None
        if run is not None and run.done:
            return counts  # the day's walk is finished
        cursor = run.cursor if run is not None else None
        while True:
            page, next_cursor = self.store.states(workspace_id, PAGE, cursor)
            for state in page:
                if time_left is not None and time_left() < MARGIN:
                    self._commit(run, cursor, False)
                    return {**counts, "stopped": 1}
                self._evaluate_one(settings, state, today, rules_id, now, counts)
                cursor = state.customer_id
            if next_cursor is None:
                self._commit(run, cursor, True)
                return counts
            run = self._commit(run, cursor, False)
            if run is None and self.runs is not None:
                return {**counts, "stopped": 1}  # another run of the day moved on: it goes on
            cursor = next_cursor

    def _evaluate_one(
        self,
        settings: WorkspaceSettings,
        state: TierState,
        today: date,
        rules_id: str,
        now: datetime,
        counts: dict[str, int],
    ) -> None:
        # nothing can move it yet (under the same rules)
        if state.rules_id == rules_id and (state.check_on is None or state.check_on > today):
            counts["skipped"] += 1  # (without a tier only an order moves it): no ledger read
            return
        counts["evaluated"] += 1
        change = self._apply(settings, state.customer_id, now, "evaluation")
        if change is not None:
            counts["upgraded" if change.kind == "upgrade" else "downgraded"] += 1

    def _commit(self, run: TierRun | None, cursor: str | None, done: bool) -> TierRun | None:
        if run is None or self.runs is None:
            return None
        return self.runs.advance(run, cursor, done)

    def evaluate_all(
        self, workspace_ids: list[str], now: datetime, time_left: Callable[[], float] | None = None
    ) -> dict[str, int]:
        """The daily job: every workspace with tiers (a second run the same day moves nothing;
        with the job's progress it walks only what the day's earlier runs left)."""
        totals = {**dict.fromkeys(COUNTS, 0), "workspaces_pending": 0}
        for workspace_id in workspace_ids:
            if time_left is not None and time_left() < MARGIN:
                totals["workspaces_pending"] += 1
                continue
            counts = self.evaluate(workspace_id, now, time_left)
            for name in COUNTS:
                totals[name] += counts[name]
            totals["workspaces_pending"] += counts.get("stopped", 0)
        return totals

    def _apply(
        self, settings: WorkspaceSettings, customer_id: str, now: datetime, kind: str
    ) -> TierChange | None:
        ws = settings.workspace_id
        entries = self._entries(ws, customer_id)
        value = qualifying_value(entries, settings.tiers, now, settings.convert)
        for _ in range(ATTEMPTS):
            state = self.store.get(ws, customer_id) or TierState(ws, customer_id)
            step = (on_order if kind == "order" else on_evaluation)(state, value, now, settings.tiers)
            after = replace(
                step.state,
                check_on=next_check(step.state, entries, settings.tiers, settings.convert, now),
                rules_id=fingerprint(settings.tiers),
            )
            if (after == state and state.version > 0) or (
                state.version == 0 and step.change is None and not entries
            ):
                return None  # nothing moved (or nothing earned yet): nothing written
            if self.store.save(after, step.change):
                return step.change
        raise RuntimeError("the tier state kept changing")

    # an operator's move
    def move(
        self, workspace_id: str, customer_id: str, body: TierMoveIn, actor: str, now: datetime
    ) -> TierView:
        settings = self._settings(workspace_id)
        customer_id = self._customer(workspace_id, customer_id)
        if body.tier is not None and settings.tiers.rank(body.tier) == 0:
            raise PointsRefused(f"no tier named {body.tier!r} in this workspace", "unknown_tier")
        entries = self._entries(workspace_id, customer_id)
        value = qualifying_value(entries, settings.tiers, now, settings.convert)
        for _ in range(ATTEMPTS):
            state = self.store.get(workspace_id, customer_id) or TierState(workspace_id, customer_id)
            if state.tier == body.tier:
                raise PointsRefused(f"the customer's tier is already {body.tier}", "same_tier")
            step: Step = manual_move(state, body.tier, value, now, actor, body.reason, body.hold_days)
            check = next_check(step.state, entries, settings.tiers, settings.convert, now)
            after = replace(step.state, check_on=check, rules_id=fingerprint(settings.tiers))
            if self.store.save(after, step.change):
                return TierView(after, value, settings.tiers)
        raise RuntimeError("the tier state kept changing")

    def view(self, workspace_id: str, customer_id: str, now: datetime) -> TierView:
        settings = self._settings(workspace_id)
        customer_id = self._customer(workspace_id, customer_id)
        value = qualifying_value(
            self._entries(workspace_id, customer_id), settings.tiers, now, settings.convert
        )
        state = self.store.get(workspace_id, customer_id) or TierState(workspace_id, customer_id)
        return TierView(state, value, settings.tiers)

    def preview(self, workspace_id: str, rules: TierRules, now: datetime) -> dict[str, Any]:
        """Who would move under `rules` (the recorded states' values under them); nothing written."""
        settings = self._settings(workspace_id)
        pairs = (
            (s, qualifying_value(self._entries(workspace_id, s.customer_id), rules, now, settings.convert))
            for s in self._all_states(workspace_id)
        )
        return preview(pairs, rules)

    # reads
    def _tiered(self, workspace_id: str) -> WorkspaceSettings | None:
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or not settings.tiers.tiers:
            return None
        return settings

    def _settings(self, workspace_id: str) -> WorkspaceSettings:
        settings = loyalty_on(self.workspaces, workspace_id)
        if not settings.tiers.tiers:
            raise PointsRefused("this workspace has no tiers", "no_tiers")
        return settings

    def _customer(self, workspace_id: str, customer_id: str) -> str:
        if self.profiles is None:
            return customer_id
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        return profile.customer_id  # a merged-away id: the surviving profile

    def _entries(self, workspace_id: str, customer_id: str) -> list[LedgerEntry]:
        """The customer's entries and those of every id merged into it: a merge moves the
        balance, never the entries (docs/loyalty.md#merged-profiles-one-balance)."""
        ids = [customer_id]
        if self.profiles is not None:
            profile = self.profiles.load(workspace_id, customer_id)
            if profile is not None and profile.customer_id == customer_id:
                ids = profile.entry_partitions()
        found: list[LedgerEntry] = []
        for cid in ids:
            cursor: str | None = None
            while True:
                page, cursor = self.ledger.entries(workspace_id, cid, PAGE, cursor)
                found += page
                if cursor is None:
                    break
        return found

    def _all_states(self, workspace_id: str) -> Iterator[TierState]:
        cursor: str | None = None
        while True:
            page, cursor = self.store.states(workspace_id, PAGE, cursor)
            yield from page
            if cursor is None:
                return


def view_json(view: TierView) -> dict[str, Any]:
    """`GET /customers/{id}/tier`."""
    tier = view.rules.tier(view.state.tier)
    return {
        "tier": view.state.tier,
        "since": iso(view.state.since) if view.state.since else None,
        "benefits": tier.benefits() if tier else None,
        "value": str(view.value),
        "measure": view.rules.measure,
        "below_keep_since": view.state.below_since.isoformat() if view.state.below_since else None,
        "held_until": view.state.held_until.isoformat() if view.state.held_until else None,
        "progress": progress(view.state, view.value, view.rules),
    }
