"""The recommender's daily training, per workspace, resumable (docs/data-model.md#recommendations).

Workspaces come from the `WSLIST` directory and each one's customers from its lifecycle
member lists (`domain/walk.py`), as the nightly job walks them: no scan. The job runs
hourly; the first run of a UTC day starts each workspace's run, later runs resume the ones
left unfinished, and a workspace done for the day costs nothing more. Per run, a cursor:

1. `gather`: page by page, each customer's baskets (every order entry, the moved ones
   included, through `baskets_of`: cancelled orders and fully refunded ones are no signal)
   are stored as small gzip items, then the cursor moves past the page (conditioned on its
   version; a page redone after a cut rewrites the same items).
2. `train`: with enough of the invocation left, the run's rows are read back (a customer
   listed twice, having moved stage during the walk, counts once), the catalogue gives
   the categories, the model is trained and saved (only the products that changed are
   written), and the cursor goes to `done` with the figures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.failures import Skipped
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.ports import MovedEntries, WorkspaceDirectory
from chalicelib.domain.recommend.baskets import baskets_of
from chalicelib.domain.recommend.model import Basket
from chalicelib.domain.recommend.ports import RecommenderModels
from chalicelib.domain.recommend.train import TrainParams, train
from chalicelib.domain.recommend.training_ports import ProductCategories, Row, TrainCursor, TrainingStore
from chalicelib.domain.walk import PAGE, CustomerWalk, Position

RESERVE_SECONDS = 20.0  # no new page with less than this left in the invocation
TRAIN_SECONDS = 300.0  # the training and the save start only with this much left (1M orders: ~2 min of CPU)


def baskets_from_rows(rows: list[Row]) -> list[Basket]:
    """The rows' baskets, each customer's from the last row listing them (a customer listed
    twice by a walk has two identical rows)."""
    latest: dict[str, list[Any]] = {}
    for customer_id, baskets in rows:
        latest[str(customer_id)] = baskets
    return [
        Basket(customer_id, int(at), tuple(str(p) for p in products))
        for customer_id, baskets in latest.items()
        for at, products in baskets
    ]


class RecommenderTraining:
    """The daily training over every workspace, within a time budget (module docstring)."""

    def __init__(
        self,
        workspaces: WorkspaceDirectory,
        walk: CustomerWalk,
        entries: MovedEntries,
        store: TrainingStore,
        models: RecommenderModels,
        categories: ProductCategories,
        params: TrainParams | None = None,
    ) -> None:
        self.workspaces = workspaces
        self.walk = walk
        self.entries = entries
        self.store = store
        self.models = models
        self.categories = categories
        self.params = params or TrainParams()

    def run(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """Advance every workspace's run for `now`'s UTC day while time is left."""
        budget = time_left or (lambda: math.inf)
        day = f"{now.astimezone(UTC):%Y-%m-%d}"
        totals: Counter[str] = Counter(workspaces_trained=0, profiles_read=0, baskets=0, items_written=0)
        skipped = Skipped()
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
            if cursor is None or self._run(cursor, now, budget, totals, skipped) is None:
                pending += 1
        return {**totals, "workspaces_pending": pending, **skipped.report_if_any()}

    def train_now(self, workspace_id: str, now: datetime) -> dict[str, Any]:
        """One workspace's model now, whatever its daily cursor says (`patron recommend
        train`): a run of its own, labelled with the time rather than the day, so the daily
        run still happens (and, nothing having moved, writes no product)."""
        totals: Counter[str] = Counter(workspaces_trained=0, profiles_read=0, baskets=0, items_written=0)
        skipped = Skipped()
        label = f"{now.astimezone(UTC):%Y-%m-%dT%H%M%S.%f}"
        cursor = self.store.start(workspace_id, label)
        done = None if cursor is None else self._run(cursor, now, lambda: math.inf, totals, skipped)
        figures = (done.result or {}) if done is not None else {}
        return {
            "workspace_id": workspace_id,
            "done": done is not None,
            "profiles_read": totals["profiles_read"],
            **figures,
            **skipped.report_if_any(),
        }

    def _run(
        self,
        cursor: TrainCursor,
        now: datetime,
        budget: Callable[[], float],
        totals: Counter[str],
        skipped: Skipped,
    ) -> TrainCursor | None:
        """Take one workspace's run as far as time allows; its done cursor, or None."""
        if cursor.phase == "gather":
            gathered = self._gather(cursor, budget, totals, skipped)
            if gathered is None:
                return None
            cursor = gathered
        if cursor.phase == "train":
            if budget() < TRAIN_SECONDS:
                return None
            return self._train(cursor, now, totals)
        return cursor

    def _gather(
        self, cursor: TrainCursor, budget: Callable[[], float], totals: Counter[str], skipped: Skipped
    ) -> TrainCursor | None:
        """Store every page's baskets; the cursor moved to `train`, or None (stopped)."""
        workspace_id, day = cursor.workspace_id, cursor.day
        position = Position.loads(cursor.position)
        pages = self.walk.pages(workspace_id, position, PAGE)
        while not position.finished:
            if budget() < RESERVE_SECONDS:
                return None
            page = next(pages)
            live = [p for c in page.ids if (p := page.customers.get(c)) is not None]
            rows: list[Row] = []
            baskets = 0
            for profile in live:
                try:
                    mine = baskets_of(profile.customer_id, all_entries(self.entries, workspace_id, profile))
                except Exception as exc:  # noqa: BLE001 - skipped and reported; the others are gathered
                    skipped.add(exc, workspace_id=workspace_id, customer_id=profile.customer_id)
                    continue
                if mine:
                    rows.append([profile.customer_id, [[b.at, list(b.products)] for b in mine]])
                    baskets += len(mine)
            written = self.store.put_rows(workspace_id, day, cursor.items, rows) if rows else 0
            moved = self.store.advance(
                cursor,
                position=page.after.dumps(),
                items=cursor.items + written,
                profiles_read=cursor.profiles_read + len(live),
                baskets=cursor.baskets + baskets,
            )
            if moved is None:
                return None  # another invocation runs this workspace
            cursor, position = moved, page.after
            totals["profiles_read"] += len(live)
            totals["baskets"] += baskets
        return self.store.advance(cursor, phase="train")

    def _train(self, cursor: TrainCursor, now: datetime, totals: Counter[str]) -> TrainCursor | None:
        workspace_id = cursor.workspace_id
        baskets = baskets_from_rows(self.store.rows(workspace_id, cursor.day))
        model = train(baskets, now, self.categories.categories(workspace_id), self.params)
        written = self.models.save(workspace_id, model)
        result = {
            "orders": model.orders,
            "customers": model.customers,
            "products": len(model.products),
            "written": written,
        }
        done = self.store.advance(cursor, phase="done", result=result)
        if done is not None:
            totals["workspaces_trained"] += 1
            totals["items_written"] += written
        return done
