"""Segment membership kept fresh: evaluated when a profile changes, and when time says so.

A second stream processor reads profile changes (the CRM table's stream), evaluates the
workspace's segments plus the built-in lifecycle stages and RFM groups, and compares
with the customer's membership record. Only a difference is written: the record (with
the next time its answer can change by time alone, on a sparse index), one index item
per entered segment (removed on exit; sizes are counted from these), and one event per
enter or exit for the automations. The order path never pays for any of this.

Built-in segment ids: `lifecycle:<stage>`, `rfm:<group>` and `account:member|guest`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import scoring, segment_eval, segments, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import Conflict
from chalicelib.domain.failures import Skipped
from chalicelib.domain.models import now_utc
from chalicelib.domain.outcomes import MembershipChange
from chalicelib.domain.ports import EventSink, MembershipStore, ProfileReader
from chalicelib.domain.segment_service import SegmentService
from chalicelib.domain.segment_values import RECHECK_SHARDS, MembershipRecord
from chalicelib.domain.segments import BUILTIN_PREFIXES, check_builtin
from chalicelib.domain.workspace_settings import WorkspaceSettings

LOOKBACK_DAYS = 7  # due buckets the first recheck run reads (later runs start at their watermark)
MAX_ATTEMPTS = 5


def _event(
    kind: str, workspace_id: str, customer_id: str, segment_id: str, at: datetime, rev: Any
) -> dict[str, Any]:
    basis = f"{workspace_id}|{customer_id}|{segment_id}|{kind}|{rev}"
    return {
        "event_id": hashlib.sha256(basis.encode()).hexdigest()[:32],
        "type": kind,
        "workspace_id": workspace_id,
        "customer_id": customer_id,
        "segment_id": segment_id,
        "at": timemath.iso(at),
        "profile_rev": rev,
    }


def check_still_good(record: MembershipRecord | None, next_check: datetime | None, now: datetime) -> bool:
    """Whether the stored record's recheck time can stay as it is.

    It can when it is the same, or when it is still ahead and no later than the new one:
    an early recheck only costs a read then (and writes the right time), while rewriting
    the record now would cost a write on most orders (a new order pushes the time later).
    """
    if record is None:
        return False
    stored = timemath.parse_iso(record.next_check)
    if stored == next_check:
        return True
    return stored is not None and stored > now and (next_check is None or stored <= next_check)


class MembershipService:
    def __init__(
        self,
        store: MembershipStore,
        segment_service: SegmentService,
        profiles: ProfileReader,
        events: EventSink | None,
    ) -> None:
        self.store = store
        self.segments = segment_service
        self.profiles = profiles
        self.events = events

    def evaluate(
        self,
        workspace_id: str,
        profile: CustomerProfile,
        now: datetime,
        settings: WorkspaceSettings | None = None,
    ) -> tuple[set[str], datetime | None]:
        """The segments a live profile belongs to now, and when that can next change by time.

        `settings` overrides the stored workspace settings (edges, rhythm, model)."""
        settings = settings or self.segments.workspaces.settings(workspace_id)
        definitions = self.segments.definitions(workspace_id)
        loyalty = self.segments.uses_loyalty(definitions)
        facts, stage = self.segments.facts(workspace_id, profile, now, settings, loyalty)
        account = "account:member" if facts.values.get("is_member") else "account:guest"
        members: set[str] = {f"lifecycle:{stage.stage}", account}
        checks = [stage.next_change] if stage.next_change else []
        group = facts.values.get("rfm_group")
        if group:
            members.add(f"rfm:{group}")
            last = profile.last_order
            if settings and settings.rfm_edges and last:
                change = scoring.rfm_next_change(last, settings.rfm_edges, now)
                if change:
                    checks.append(change)
        for definition in definitions:
            verdict = segment_eval.evaluate(segments.parse(definition.definition), facts, now)
            if verdict.member:
                members.add(definition.segment_id)
            if verdict.next_check:
                checks.append(verdict.next_check)
        return members, min(checks) if checks else None

    def apply(
        self,
        workspace_id: str,
        customer_id: str,
        profile: CustomerProfile | None,
        now: datetime | None = None,
    ) -> MembershipChange:
        """Bring one customer's memberships up to date with their profile (None: erased).

        Events go out before the record commits (at least once; each carries an `event_id`
        that is the same on a retry, for consumers to deduplicate); the member index items
        are written next (idempotent), and the record last, conditioned on its version: a
        retry after any failure recomputes the same difference.
        """
        at = now or now_utc()
        for _ in range(MAX_ATTEMPTS):
            change = MembershipChange(customer_id)
            record = self.store.get_record(workspace_id, customer_id)
            before = set(record.segments) if record else set()
            if profile is None:
                after: set[str] = set()
                next_check = None
            else:
                after, next_check = self.evaluate(workspace_id, profile, at)
            change.entered, change.exited = sorted(after - before), sorted(before - after)
            change.next_check = next_check
            stamp = timemath.iso(next_check)
            if not change.entered and not change.exited and check_still_good(record, next_check, at):
                return change  # nothing moved: no write
            quiet = profile is not None and profile.imported  # a history import: no segment events
            if self.events is not None and (change.entered or change.exited) and not quiet:
                rev = profile.rev if profile is not None else None
                self.events.publish(
                    [_event("segment.entered", workspace_id, customer_id, s, at, rev) for s in change.entered]
                    + [_event("segment.exited", workspace_id, customer_id, s, at, rev) for s in change.exited]
                )
            try:
                self.store.save(
                    workspace_id,
                    customer_id,
                    after,
                    stamp,
                    change.entered,
                    change.exited,
                    record.version if record else None,
                )
            except Conflict:
                continue
            change.written = True
            return change
        raise Conflict("membership record kept changing; retry the record")

    def on_loyalty_change(
        self, workspace_id: str, customer_id: str, now: datetime | None = None
    ) -> MembershipChange | None:
        """A customer's points balance or tier state changed: their memberships again, only
        when a segment of the workspace uses a loyalty field (else nothing is read)."""
        if not self.segments.uses_loyalty(self.segments.definitions(workspace_id)):
            return None
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None or profile.imported:
            return None  # erased or merged away (its profile's record did it), or quiet
        return self.apply(workspace_id, customer_id, profile, now)

    def on_ticket_change(
        self, workspace_id: str, customer_id: str, now: datetime | None = None
    ) -> MembershipChange | None:
        """A customer's ticket facts changed: their memberships again, only when a segment of
        the workspace uses a ticket field (else nothing is read). A merged-away id's ticket
        is the survivor's: its profile is loaded through the pointer."""
        if not self.segments.uses_tickets(self.segments.definitions(workspace_id)):
            return None
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None or profile.imported:
            return None  # erased (the erasure did it), or quiet
        return self.apply(workspace_id, profile.customer_id, profile, now)

    def recheck(self, now: datetime | None = None) -> dict[str, Any]:
        """Re-evaluate the customers whose answer may have changed by time.

        Reads the due buckets from the day of the last completed run (its watermark) to
        today: normally one day's 16 shards, and after an outage of any length, every day
        missed. Without a watermark yet, the last LOOKBACK_DAYS days. A customer whose
        memberships cannot be evaluated is skipped and reported; the others go on."""
        at = now or now_utc()
        until = timemath.iso(at) or ""
        mark = timemath.parse_iso(self.store.recheck_watermark())
        start = mark if mark is not None and mark <= at else at - timedelta(days=LOOKBACK_DAYS)
        seen = changed = queries = 0
        skipped = Skipped()
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= at:
            for shard in range(RECHECK_SHARDS):
                queries += 1
                for workspace_id, customer_id in self.store.due(day.date(), shard, until):
                    seen += 1
                    try:
                        profile = self.profiles.load(workspace_id, customer_id)
                        if self.apply(workspace_id, customer_id, profile, at).written:
                            changed += 1
                    except Exception as exc:  # noqa: BLE001 - skipped and reported; the others go on
                        skipped.add(exc, workspace_id=workspace_id, customer_id=customer_id)
            day += timedelta(days=1)
        self.store.set_recheck_watermark(until)
        return {"rechecked": seen, "changed": changed, "bucket_queries": queries, **skipped.report_if_any()}


# (messaging.campaigns reads the built-in segments' check from here too)


def segment_detail(service: MembershipService, workspace_id: str, segment_id: str) -> dict[str, Any]:
    """A segment (stored or built-in) with its size and a sample of members."""
    if segment_id.startswith(BUILTIN_PREFIXES):
        check_builtin(segment_id)
        view: dict[str, Any] = {"segment_id": segment_id, "builtin": True}
    else:
        view = service.segments.get(workspace_id, segment_id).model_dump() | {
            "builtin": False,
            "backfill": service.segments.backfill_status(workspace_id, segment_id),
        }
    sample, _ = service.store.members(workspace_id, segment_id, 10, None)
    return view | {"size": service.store.size(workspace_id, segment_id), "sample": sample}


def segment_members(
    service: MembershipService, workspace_id: str, segment_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    if segment_id.startswith(BUILTIN_PREFIXES):
        check_builtin(segment_id)
    else:
        service.segments.get(workspace_id, segment_id)  # 404 for another workspace's id
    customers, next_cursor = service.store.members(workspace_id, segment_id, limit, cursor)
    return {"customers": customers, "cursor": next_cursor}
