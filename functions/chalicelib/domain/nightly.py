"""The nightly job: per workspace, RFM quintile edges, store rhythm and the predictive models.

Workspaces come from the `WSLIST` directory, and each one's customers from its own
lifecycle member lists (`domain/walk.py`): no table scan, and a workspace costs reads in
proportion to its own size. The work runs within the invocation's time budget and
resumes where it stopped, so a big store finishes over several invocations (the job runs
hourly; a workspace done for the day costs nothing more than its cursor's row in one
query). Per workspace and UTC day, a cursor item records the phase:

1. `gather`: page by page, the numbers the scores need (recency, orders, net spend,
   rhythm, the models' summaries) are stored as one small item per page, then the
   cursor moves past the page (conditioned on its version). A page redone after a crash
   rewrites the same item.
2. At the end of the walk, the day's rows are read back (a customer listed twice, having
   moved stage during the walk, counts once), the edges, rhythm and model are computed
   and, only where they moved, saved on the workspace, after the cursor has recorded the
   scores before and after (`prev`, `next`) and moved to `apply`. Nothing moved: `done`.
3. `apply`: a second walk compares each profile's segments under the old and the new
   scores, and hands the profiles whose answer (or recheck time) moved to the membership
   service, committing the cursor after each page. A resumed `apply` first saves `next`
   again (the save may not have happened). Applying a membership twice writes nothing
   the second time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain import predict
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.failures import Skipped
from chalicelib.domain.membership import check_still_good
from chalicelib.domain.nightly_cursor import NightlyCursor
from chalicelib.domain.ports import MembershipApplier, NightlyStore, WorkspaceScores
from chalicelib.domain.predict import ModelParams
from chalicelib.domain.scoring import DAY, RfmEdges, quintile_edges, store_rhythm
from chalicelib.domain.segment_values import MembershipRecord
from chalicelib.domain.timemath import iso
from chalicelib.domain.walk import PAGE, CustomerWalk, Position

RESERVE_SECONDS = 20.0  # no new page (or fit) with less than this left in the invocation


def _row(profile: CustomerProfile, now: datetime) -> list[Any] | None:
    """[cid, recency days, orders, net, rhythm or None, x, tx, T, m (None without a summary)]."""
    last = profile.last_order
    orders = profile.orders_count
    if not orders or last is None:
        return None
    gap = profile.average_gap if orders >= 2 else None
    summary = predict.summary(profile, now)
    model = [summary.x, summary.tx, summary.T, summary.m] if summary is not None else [None] * 4
    net = float(profile.figures.net or 0)
    return [profile.customer_id, float((now - last) // DAY), float(orders), net, gap, *model]


def _scores_json(edges: RfmEdges | None, rhythm: float | None, model: ModelParams | None) -> str:
    return json.dumps(
        {
            "rfm": edges.as_dict() if edges else None,
            "rhythm": rhythm,
            "model": model.as_dict() if model is not None else None,
        }
    )


def _scores(raw: str) -> tuple[RfmEdges | None, float | None, ModelParams | None]:
    value = json.loads(raw)
    edges = RfmEdges.from_dict(value["rfm"]) if value["rfm"] else None
    model = ModelParams.from_dict(value["model"]) if value["model"] else None
    return edges, value["rhythm"], model


class ScoringService:
    """The nightly job over every workspace, within a time budget (module docstring)."""

    def __init__(
        self,
        workspaces: WorkspaceScores,
        walk: CustomerWalk,
        store: NightlyStore,
        membership: MembershipApplier | None = None,
        fitter: Callable[..., ModelParams] | None = None,
        birthdays: Callable[[str, list[CustomerProfile], datetime], object] | None = None,
    ) -> None:
        self.workspaces = workspaces
        self.walk = walk
        self.store = store
        self.membership = membership
        self.fitter = fitter  # (x, tx, T, m, fitted_at) -> ModelParams; numpy/scipy, so injected
        self.birthdays = birthdays  # each page's profiles: the points' birthday bonus (loyalty)

    def nightly(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """Advance every workspace's run for `now`'s UTC day while time is left."""
        budget = time_left or (lambda: math.inf)
        day = f"{now.astimezone(UTC):%Y-%m-%d}"
        totals: Counter[str] = Counter(profiles_read=0, workspaces_updated=0, profiles_reevaluated=0)
        skipped = Skipped()  # profiles no code can read: reported, and the others are scored
        cursors = self.store.cursors()
        pending = 0
        for workspace_id in self.workspaces.workspace_ids():
            cursor = cursors.get(workspace_id)
            if cursor is not None and cursor.day == day and cursor.phase == "done":
                continue
            if budget() < RESERVE_SECONDS:
                pending += 1
                continue
            if cursor is None or cursor.day != day:
                cursor = self.store.start(workspace_id, day)
            if cursor is None or not self._run(cursor, now, budget, totals, skipped):
                pending += 1
        return {**totals, "workspaces_pending": pending, **skipped.report_if_any()}

    def rescore(
        self, workspace_id: str, now: datetime, profiles: Iterable[CustomerProfile] = ()
    ) -> dict[str, Any]:
        """One workspace's scores now, whatever its nightly cursor says (after a history
        import): a run of its own, labelled with the time rather than the day, so that the
        nightly job runs the day again after it (and, nothing having moved, writes nothing).
        `profiles` count beside the walk's (a customer in both counts once): an import's
        customers have no memberships yet, so the walk cannot list them."""
        totals: Counter[str] = Counter(profiles_read=0, workspaces_updated=0, profiles_reevaluated=0)
        skipped = Skipped()
        label = f"{now.astimezone(UTC):%Y-%m-%dT%H%M%S.%f}"
        cursor = self.store.start(workspace_id, label)
        rows: list[list[Any]] = []
        for profile in profiles:
            if cursor is None:
                break
            try:
                row = _row(profile, now)
            except Exception as exc:  # noqa: BLE001 - skipped and reported; the others are scored
                skipped.add(exc, workspace_id=workspace_id, customer_id=profile.customer_id)
                continue
            totals["profiles_read"] += 1
            rows += [row] if row is not None else []
            if len(rows) >= PAGE:
                cursor = self._extra_page(cursor, rows)
                rows = []
        if rows and cursor is not None:
            cursor = self._extra_page(cursor, rows)
        done = cursor is not None and self._run(cursor, now, lambda: math.inf, totals, skipped)
        return {**totals, "done": done, **skipped.report_if_any()}

    def _extra_page(self, cursor: NightlyCursor, rows: list[list[Any]]) -> NightlyCursor | None:
        self.store.put_rows(cursor.workspace_id, cursor.day, cursor.pages, rows)
        return self.store.advance(cursor, pages=cursor.pages + 1)

    def _run(
        self,
        cursor: NightlyCursor,
        now: datetime,
        budget: Callable[[], float],
        totals: Counter[str],
        skipped: Skipped,
    ) -> bool:
        """Take one workspace's run as far as time allows; True when it is done."""
        saved = False
        if cursor.phase == "gather":
            gathered = self._gather(cursor, now, budget, totals, skipped)
            if gathered is None or budget() < RESERVE_SECONDS:
                return False
            scored, saved = self._score(gathered, now, totals)
            if scored is None:
                return False
            cursor = scored
        if cursor.phase == "apply":
            return self._apply(cursor, now, budget, totals, saved, skipped)
        return True

    def _gather(
        self,
        cursor: NightlyCursor,
        now: datetime,
        budget: Callable[[], float],
        totals: Counter[str],
        skipped: Skipped,
    ) -> NightlyCursor | None:
        """Store the numbers of every page; the cursor at the walk's end, or None (stopped)."""
        workspace_id, day = cursor.workspace_id, cursor.day
        position = Position.loads(cursor.position)
        pages = self.walk.pages(workspace_id, position, PAGE)
        while not position.finished:
            if budget() < RESERVE_SECONDS:
                return None
            page = next(pages)
            live = [p for c in page.ids if (p := page.customers.get(c)) is not None]
            rows = []
            for profile in live:
                try:  # every number first, so that a bad profile adds none of them
                    row = _row(profile, now)
                except Exception as exc:  # noqa: BLE001 - skipped and reported; the others are scored
                    skipped.add(exc, workspace_id=workspace_id, customer_id=profile.customer_id)
                    continue
                if row is not None:
                    rows.append(row)
            if rows:
                self.store.put_rows(workspace_id, day, cursor.pages, rows)
            if self.birthdays is not None:  # keyed once a year: a page done again adds nothing
                self.birthdays(workspace_id, live, now)
            moved = self.store.advance(
                cursor,
                position=page.after.dumps(),
                pages=cursor.pages + (1 if rows else 0),
                profiles_read=cursor.profiles_read + len(live),
            )
            if moved is None:
                return None  # another invocation runs this workspace
            cursor, position = moved, page.after
            totals["profiles_read"] += len(live)
        return cursor

    def _score(
        self, cursor: NightlyCursor, now: datetime, totals: Counter[str]
    ) -> tuple[NightlyCursor | None, bool]:
        """Edges, rhythm and model from the day's rows; saved only where they moved."""
        workspace_id = cursor.workspace_id
        by_customer = {row[0]: row for row in self.store.rows(workspace_id, cursor.day)}
        rows = [by_customer[c] for c in sorted(by_customer)]
        current = self.workspaces.settings(workspace_id)
        if current is None or not rows:
            return self.store.advance(cursor, phase="done"), False
        edges = RfmEdges(
            quintile_edges([r[1] for r in rows]),
            quintile_edges([r[2] for r in rows]),
            quintile_edges([r[3] for r in rows]),
        )
        rhythm = store_rhythm([r[4] for r in rows if r[4] is not None])
        fits = [r for r in rows if r[5] is not None]
        model = None
        if self.fitter and fits:
            model = self.fitter(*([r[k] for r in fits] for k in (5, 6, 7, 8)), iso(now))
        rounded = RfmEdges.from_dict({k: [round(v, 6) for v in vs] for k, vs in edges.as_dict().items()})
        same_model = model is None or model.same_as(current.model)
        if (
            current.rfm_edges == rounded
            and current.rhythm_days == (round(rhythm, 4) if rhythm is not None else None)
            and same_model
        ):
            return self.store.advance(cursor, phase="done"), False  # nothing moved: no write
        new_model = None if same_model else model
        after: NightlyCursor | None = cursor
        if self.membership is not None:
            # the scores before and after are committed first: a resumed run can still apply them
            after = self.store.advance(
                cursor,
                phase="apply",
                position="",
                prev=_scores_json(current.rfm_edges, current.rhythm_days, current.model),
                next=_scores_json(edges, rhythm, new_model),
            )
            if after is None:
                return None, False
        self.workspaces.save_scores(workspace_id, edges, rhythm, new_model)
        totals["workspaces_updated"] += 1
        if self.membership is None:
            return self.store.advance(cursor, phase="done"), True
        return after, True

    def _apply(
        self,
        cursor: NightlyCursor,
        now: datetime,
        budget: Callable[[], float],
        totals: Counter[str],
        saved: bool,
        skipped: Skipped,
    ) -> bool:
        """Apply memberships for the profiles whose answer differs under the new scores."""
        workspace_id = cursor.workspace_id
        membership = self.membership
        if membership is None:  # (no run reaches `apply` without one: _score ends it at `done`)
            return self.store.advance(cursor, phase="done") is not None
        edges, rhythm, model = _scores(cursor.next or "")
        if not saved and edges is not None:
            self.workspaces.save_scores(workspace_id, edges, rhythm, model)
        after = self.workspaces.settings(workspace_id)
        if after is None:
            return self.store.advance(cursor, phase="done") is not None
        old_edges, old_rhythm, old_model = _scores(cursor.prev or "")
        before = dataclasses.replace(after, rfm_edges=old_edges, rhythm_days=old_rhythm, model=old_model)
        position = Position.loads(cursor.position)
        pages = self.walk.pages(workspace_id, position, PAGE)
        seen: set[str] = set()
        while not position.finished:
            if budget() < RESERVE_SECONDS:
                return False
            page = next(pages)
            moved = 0
            for customer_id in page.ids:
                profile = page.customers.get(customer_id)
                if profile is None or customer_id in seen:
                    continue
                seen.add(customer_id)
                try:
                    old, old_check = membership.evaluate(workspace_id, profile, now, before)
                    new, new_check = membership.evaluate(workspace_id, profile, now, after)
                    # the stored record holds the answer under the old settings; as in the stream,
                    # a recheck time that moved later needs no write (an early recheck is
                    # harmless); counted when written: met again after an interruption, none
                    if old != new or not check_still_good(
                        MembershipRecord(frozenset(), iso(old_check), None), new_check, now
                    ):
                        moved += membership.apply(workspace_id, customer_id, profile, now).written
                except Exception as exc:  # noqa: BLE001 - skipped and reported; the others go on
                    skipped.add(exc, workspace_id=workspace_id, customer_id=customer_id)
            advanced = self.store.advance(cursor, position=page.after.dumps(), moved=cursor.moved + moved)
            if advanced is None:
                return False
            cursor, position = advanced, page.after
            totals["profiles_reevaluated"] += moved
        return self.store.advance(cursor, phase="done") is not None
