"""Backfill: a new segment is filled from the workspace's existing customers, in minutes.

Creating a segment records a sweep. A job that runs every minute walks the workspace's
customers and brings each one's memberships up to date, which enters the new segment
where it matches (with its events). The walk needs no table scan: every live customer
is in exactly one built-in lifecycle segment, so the six `lifecycle:<stage>` member
lists are the workspace's customer list, read page by page (`domain/walk.py`, the walk
the nightly job, the report and the export share). Progress is committed after
each page, so a timeout or a crash resumes where it stopped; redoing a page writes
nothing twice, because memberships only ever write differences.

The sweep starts once the segment-definition caches of the stream processors have
expired (`not_before`), so a profile evaluated without the new segment is always one the
sweep still lists. A profile with no membership record yet is the stream's to evaluate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.failures import Skipped
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import MembershipApplier, ProfilePages, SweepStore
from chalicelib.domain.segment_values import Sweep
from chalicelib.domain.walk import CustomerWalk, Position

DEFINITION_CACHE_SECONDS = 30  # DynamoSegmentStore's; the sweep waits a little longer
START_DELAY = timedelta(seconds=DEFINITION_CACHE_SECONDS + 5)
PAGE = 100
RESERVE_SECONDS = 20.0  # stop taking pages when the invocation has less than this left


class BackfillService:
    def __init__(self, sweeps: SweepStore, membership: MembershipApplier, profiles: ProfilePages) -> None:
        self.sweeps = sweeps
        self.membership = membership
        self.profiles = profiles
        self.walk = CustomerWalk(membership.store, profiles)

    def run(self, time_left: Callable[[], float], now: datetime | None = None) -> dict[str, Any]:
        """Advance every due sweep while the invocation has time; finish the ones walked.

        A customer whose memberships cannot be evaluated (a poisoned profile item) is
        skipped and reported: the sweep goes on and finishes with everyone else."""
        at = now or now_utc()
        done = processed = 0
        skipped = Skipped()
        for sweep in self.sweeps.pending():
            if (timemath.parse_iso(sweep.not_before) or at) > at:
                continue
            finished, count = self._walk(sweep, time_left, at, skipped)
            processed += count
            if finished:
                self.sweeps.finish(sweep.workspace_id, sweep.segment_id)
                done += 1
            if time_left() < RESERVE_SECONDS:
                break
        return {"sweeps_finished": done, "customers_evaluated": processed, **skipped.report_if_any()}

    def _walk(
        self, sweep: Sweep, time_left: Callable[[], float], at: datetime, skipped: Skipped
    ) -> tuple[bool, int]:
        workspace_id = sweep.workspace_id
        start = Position.loads(sweep.cursor)
        processed = 0
        if start.finished:
            return True, processed
        pages = self.walk.pages(workspace_id, start, PAGE)
        while True:
            if time_left() < RESERVE_SECONDS:
                return False, processed
            page = next(pages)
            for customer_id in page.ids:
                try:
                    self.membership.apply(workspace_id, customer_id, page.customers.get(customer_id), at)
                except Exception as exc:  # noqa: BLE001 - skipped and reported; the others go on
                    skipped.add(exc, workspace_id=workspace_id, customer_id=customer_id)
            processed += len(page.ids)
            if not self.sweeps.advance(workspace_id, sweep.segment_id, page.after.dumps(), len(page.ids)):
                return False, processed  # the segment was deleted meanwhile
            if page.after.finished:
                return True, processed
