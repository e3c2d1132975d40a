"""Campaigns: one-off or scheduled sends to a segment, fanned out through a queue.

A campaign is created as a draft and armed with `start`. A minute job (`dispatch`) pages
through the segment's member index from the campaign's stored cursor and enqueues batches
of at most `BATCH` recipients, paced to the provider's sending rate (`rate` recipients per
second, so at most `rate x 60` per run), with the queue delays spread over the minute. It
reads each page's profiles first, so that customers without consent or address are left
out (counted as `skipped`) and customers in their quiet hours are held until the hours end:
the batches that reach the sender are full ones. The sender (`handle_batch`) runs every
guardrail again per recipient (`MessagingService.send_bulk`) and makes one provider call
per batch.

- **Exactly once.** The message key is `camp:<campaign>`, one per customer per campaign
  (A/B variants included). A redelivered batch, a re-run page, a batch re-enqueued on
  resume: the ledger answers `duplicate` for whoever was sent before.
- **Nothing lost.** The dispatcher enqueues a page *before* saving the cursor (a
  conditional update): a crash in between enqueues that page again, and the ledger keeps
  it from being sent twice. A failed bulk call frees its claims and raises: the queue
  redelivers the batch.
- **Pause, resume, cancel.** A paused campaign's batches are parked (stored) by the sender
  and re-enqueued on resume; a cancelled campaign's batches are dropped and counted.
- **Deferrals.** Recipients deferred by quiet hours or caps are re-enqueued with a queue
  delay when that is short enough (SQS: 15 minutes at most), else held as due items that
  the dispatcher re-enqueues when due. Recipients whose claim is busy, or whom the provider
  refused for now, are retried a minute later the same way.
- **A/B.** With `test_share`, the dispatcher first sends to that share of the segment
  (each customer's variant from a stable hash of the campaign and customer ids), waits
  `decide_after_hours`, decides from the variant counters (`camp#<id>#v#<variant>`) by the
  rule of `abtest.py` (a minimum sample per variant and a significance test), and sends
  the winner to the rest; without a winner (tie, insufficient sample, no data) the rest is
  split evenly across the variants. The decision is stored (`abd`) and shown. Without a
  test share, several variants split the whole audience by the same hash.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.messaging.abtest import Decision, Sample, decide, shown
from chalicelib.domain.messaging.campaign_model import (
    Campaign,
    CampaignBatch,
    CampaignIn,
    CampaignVariant,
    Recipient,
    campaign_scope,
    stable_share,
    variant_scope,
)
from chalicelib.domain.messaging.campaign_product import featured_product
from chalicelib.domain.messaging.model import (
    Channel,
    Outgoing,
    Policy,
    Purpose,
    SenderNotVerified,
    policy_for,
)
from chalicelib.domain.messaging.performance import workspace_results
from chalicelib.domain.messaging.ports import (
    Blocklist,
    CampaignQueue,
    CampaignStore,
    MemberPages,
    ProfileReader,
    SegmentReader,
    Stats,
    TemplateLookup,
    WorkspaceReader,
)
from chalicelib.domain.messaging.service import MessagingService, local_zone, quiet_until
from chalicelib.domain.messaging.stats import COUNTERS, counted
from chalicelib.domain.ports import CatalogueReader
from chalicelib.domain.segments import BUILTIN_PREFIXES, check_builtin
from chalicelib.domain.timemath import iso

BATCH = 50  # recipients per queue message: one bulk provider call
PAGE = 500  # member ids read per page at most
RETRY_AFTER = timedelta(seconds=60)  # a busy claim or a transient refusal, tried again
GIVE_UP_AFTER = timedelta(days=3)  # a campaign is `sent` this long after its last page at most
DUE_PER_RUN = 2000  # held batches re-enqueued per dispatcher run at most


def _child_id(parent: str, *parts: str) -> str:
    """A batch id derived from its parent's: a redelivered parent holds the same child."""
    return hashlib.sha256(":".join((parent, *parts)).encode()).hexdigest()[:20]


class CampaignService:
    def __init__(
        self,
        store: CampaignStore,
        queue: CampaignQueue | None,
        members: MemberPages,
        profiles: ProfileReader,
        messaging: MessagingService,
        blocklist: Blocklist,
        stats: Stats,
        workspaces: WorkspaceReader,
        segments: SegmentReader,
        templates: TemplateLookup,
        rate: Callable[[], float],
        clock: Callable[[], datetime],
        catalogue: CatalogueReader | None = None,  # a featured product, checked at creation
    ) -> None:
        self.store = store
        self.queue = queue
        self.members = members
        self.profiles = profiles
        self.messaging = messaging
        self.blocklist = blocklist
        self.stats = stats
        self.workspaces = workspaces
        self.segments = segments
        self.templates = templates
        self.rate = rate  # recipients per second the provider accepts
        self.clock = clock
        self.catalogue = catalogue

    # -- the admin side ---------------------------------------------------------------------
    def create(self, workspace_id: str, body: CampaignIn) -> dict[str, Any]:
        if body.segment_id.startswith(BUILTIN_PREFIXES):
            check_builtin(body.segment_id)
        else:
            self.segments.get(workspace_id, body.segment_id)  # NotFound for an unknown segment
        templates = [self.templates.get(workspace_id, v.template_id) for v in body.variants]
        for variant, template in zip(body.variants, templates, strict=True):
            if template is None:
                raise BadRequest(
                    f"template {variant.template_id} not found",
                    [{"field": "variants", "error": f"unknown template {variant.template_id}"}],
                )
        product = featured_product(self.catalogue, workspace_id, body.product, [t for t in templates if t])
        self._check_sender(workspace_id, body.channel)
        campaign_id = "cmp" + secrets.token_hex(6)
        ab = body.test_share is not None
        campaign = Campaign(
            id=campaign_id,
            workspace_id=workspace_id,
            name=body.name,
            segment_id=body.segment_id,
            channel=body.channel,
            variants=[CampaignVariant(v.id, v.template_id) for v in body.variants],
            test_share=Decimal(str(body.test_share)) if ab else None,
            winner_metric=body.winner_metric,
            decide_after_hours=Decimal(str(body.decide_after_hours)),
            min_sample_per_variant=body.min_sample_per_variant,
            send_at=body.send_at,
            over_cap=body.over_cap,
            status="draft",
            phase="test" if ab else "all",
            created_at=self.clock(),
            product=product,
        )
        self.store.create(campaign)
        return self.progress(workspace_id, campaign_id)

    def list_all(self, workspace_id: str) -> list[dict[str, Any]]:
        """The workspace's campaigns, newest first, as `campaign show` names them."""
        campaigns = sorted(self.store.all(workspace_id), key=lambda c: iso(c.created_at) or "", reverse=True)
        return [
            {
                "campaign_id": c.id,
                "name": c.name,
                "status": c.status,
                "channel": c.channel,
                "segment_id": c.segment_id,
                "send_at": iso(c.send_at),
                "created_at": iso(c.created_at),
                "enqueued": c.enqueued,
            }
            for c in campaigns
        ]

    def _get(self, workspace_id: str, campaign_id: str) -> Campaign:
        campaign = self.store.get(workspace_id, campaign_id)
        if campaign is None:
            raise NotFound("campaign not found")
        return campaign

    def _check_sender(self, workspace_id: str, channel: str) -> None:
        """An email campaign needs a sender the provider sends from, else it would wait at
        `sending` for ever: refused, with the commands that fix it."""
        if channel != Channel.EMAIL:
            return
        settings = self.workspaces.settings(workspace_id)
        sender = settings.sender_email if settings is not None else ""
        if not sender:
            raise SenderNotVerified(
                f"workspace {workspace_id} has no verified sender: set one with "
                f"`patron workspace messaging -w {workspace_id} --sender EMAIL` "
                "and verify it with `patron sender verify EMAIL`"
            )
        if not self.messaging.sender_verified(sender):
            raise SenderNotVerified(
                f"workspace {workspace_id} has no verified sender: {sender} is not verified; "
                f"verify it with `patron sender verify {sender}` (or set another with "
                f"`patron workspace messaging -w {workspace_id} --sender EMAIL`)"
            )

    def start(self, workspace_id: str, campaign_id: str) -> dict[str, Any]:
        campaign = self._get(workspace_id, campaign_id)
        if campaign.status == "draft":
            self._check_sender(workspace_id, campaign.channel)
        send_at = campaign.send_at
        status = "scheduled" if send_at is not None and send_at > self.clock() else "sending"
        if not self.store.transition(workspace_id, campaign_id, ("draft",), status):
            raise Conflict(f"only a draft can be started; this campaign is {campaign.status}")
        return self.progress(workspace_id, campaign_id)

    def pause(self, workspace_id: str, campaign_id: str) -> dict[str, Any]:
        campaign = self._get(workspace_id, campaign_id)
        if not self.store.transition(workspace_id, campaign_id, ("scheduled", "sending"), "paused"):
            raise Conflict(
                f"only a scheduled or sending campaign can be paused; this one is {campaign.status}"
            )
        return self.progress(workspace_id, campaign_id)

    def resume(self, workspace_id: str, campaign_id: str) -> dict[str, Any]:
        """Sending again; the batches parked meanwhile are enqueued again (then unparked: a
        crash in between enqueues them twice, and the ledger sends each recipient once)."""
        campaign = self._get(workspace_id, campaign_id)
        if not self.store.transition(workspace_id, campaign_id, ("paused",), "sending"):
            raise Conflict(f"only a paused campaign can be resumed; this one is {campaign.status}")
        parked = self.store.parked(workspace_id, campaign_id)
        if parked:
            self._queue().enqueue([(batch, 0) for batch in parked])
            for batch in parked:
                self.store.unpark(workspace_id, campaign_id, batch.batch_id)
        return self.progress(workspace_id, campaign_id)

    def cancel(self, workspace_id: str, campaign_id: str) -> dict[str, Any]:
        campaign = self._get(workspace_id, campaign_id)
        allowed = ("draft", "scheduled", "sending", "paused")
        if not self.store.transition(workspace_id, campaign_id, allowed, "cancelled"):
            raise Conflict(f"this campaign is {campaign.status}: nothing to cancel")
        self.store.deactivate(workspace_id, campaign_id)
        for batch in self.store.parked(workspace_id, campaign_id):
            if self.store.unpark(workspace_id, campaign_id, batch.batch_id):
                self._cancelled(batch)
        return self.progress(workspace_id, campaign_id)

    def progress(self, workspace_id: str, campaign_id: str) -> dict[str, Any]:
        c = self._get(workspace_id, campaign_id)
        totals = self.stats.get(workspace_id, campaign_scope(campaign_id))
        by_variant = {
            v.id: self.stats.get(workspace_id, variant_scope(campaign_id, v.id)) for v in c.variants
        }
        remaining = self._remaining(c, totals)
        status = c.status
        if status == "sending" and c.phase == "done" and remaining == 0:
            status = "sent"  # the minute job records it on its next run
        return {
            "campaign_id": campaign_id,
            "name": c.name,
            "status": status,
            "phase": c.phase,
            "segment_id": c.segment_id,
            "channel": c.channel,
            "product": c.product.ref if c.product is not None else None,
            "variants": [{"id": v.id, "template_id": v.template_id} for v in c.variants],
            "test_share": float(c.test_share) if c.test_share is not None else None,
            "winner_metric": c.winner_metric,
            "winner": c.winner,
            "min_sample_per_variant": c.min_sample,
            "decision": shown(c.decision),
            "send_at": iso(c.send_at),
            "decide_at": iso(c.decide_at),
            "enqueued": c.enqueued,
            "skipped": c.skipped,  # no consent or no address, seen when enqueuing
            "sent": int(totals.get("sent", 0)),
            "deferred": int(totals.get("deferred", 0)),
            "dropped": int(totals.get("dropped", 0)),
            "duplicates": c.duplicates,
            "failed": c.failed,
            "cancelled": c.cancelled,
            "remaining": remaining,
            "stats": {k: _plain(totals.get(k, 0)) for k in COUNTERS},
            "variant_stats": {v: {k: _plain(s.get(k, 0)) for k in COUNTERS} for v, s in by_variant.items()},
            "results": workspace_results(
                self.workspaces, workspace_id, campaign_scope(campaign_id), totals, by_variant
            ),
        }

    # -- the dispatcher (every minute) --------------------------------------------------------
    def dispatch(self, time_left: Callable[[], float] = lambda: 60.0) -> dict[str, int]:
        now = self.clock()
        result: Counter[str] = Counter(released=self._release_due(now))
        budget = max(BATCH, int(self.rate() * 60))
        result["budget"] = budget
        for workspace_id, campaign_id in self.store.active():
            if budget <= 0 or time_left() < 10:
                break
            c = self.store.get(workspace_id, campaign_id)
            if c is None or c.status in ("cancelled", "sent"):
                self.store.deactivate(workspace_id, campaign_id)
                continue
            send_at = c.send_at
            due = c.status == "scheduled" and (send_at is None or send_at <= now)
            if due and self.store.transition(workspace_id, campaign_id, ("scheduled",), "sending"):
                c.status = "sending"
            if c.status != "sending" or (send_at is not None and send_at > now):
                continue
            if c.phase == "done":
                result["finished"] += int(self._finish(c, now))
                continue
            if c.phase == "wait":
                if c.decide_at is None or c.decide_at > now:
                    continue
                decision = self.decide_ab(workspace_id, c)
                if not self.store.set_phase(workspace_id, campaign_id, "wait", "rest", decision=decision):
                    continue
                c.decision, c.winner, c.phase, c.cursor = decision, decision.winner, "rest", None
                result["winners" if decision.winner is not None else "no_winners"] += 1
            used = self._enqueue_pages(c, now, budget, time_left, result)
            budget -= used
        return dict(result)

    def _enqueue_pages(
        self,
        c: Campaign,
        now: datetime,
        budget: int,
        time_left: Callable[[], float],
        result: Counter[str],
    ) -> int:
        """Pages of members onto the queue, in full batches: the ready recipients short of a
        batch are carried (saved with the cursor, in the same conditional update) to the
        next page, and only the audience's last page sends a short batch."""
        workspace_id, campaign_id = c.workspace_id, c.id
        policy = policy_for(self.workspaces.settings(workspace_id))
        cursor = c.cursor
        carry = list(c.carry)
        queue = self._queue()
        used = 0
        while used + BATCH <= budget and time_left() >= 10:
            limit = min(PAGE, budget - used - len(carry))
            ids, next_cursor = self.members.members(workspace_id, c.segment_id, limit, cursor)
            chosen = [(cid, v) for cid in ids if (v := self._variant_for(c, cid)) is not None]
            profiles = self.profiles.load_many(workspace_id, [cid for cid, _ in chosen]) if chosen else {}
            ready, held, skipped = self._triage(c, chosen, profiles, policy, now)
            ready = carry + ready
            cut = len(ready) if next_cursor is None else len(ready) // BATCH * BATCH
            ready, carry = ready[:cut], ready[cut:]
            batches = []
            for n, start in enumerate(range(0, len(ready), BATCH)):
                delay = min(queue.max_delay, 59, int(60 * (used + n * BATCH) / budget))
                batches.append((self._batch(c, ready[start : start + BATCH]), delay))
            if batches:
                queue.enqueue(batches)
            for until, group in held.items():
                for i in range(0, len(group), BATCH):
                    self._later(self._batch(c, group[i : i + BATCH]), until, now)
            deferred = sum(len(g) for g in held.values())
            moved = self.store.advance(
                workspace_id,
                campaign_id,
                c.phase,
                cursor,
                next_cursor,
                enqueued=len(ready) + deferred,
                skipped=skipped,
                carry=carry,
            )
            if not moved:
                break  # paused, cancelled, or another run moved on: that run continues
            if deferred:
                self.stats.add(workspace_id, campaign_scope(campaign_id), {"deferred": deferred})
            used += len(ready)
            result["enqueued"] += len(ready) + deferred
            result["skipped"] += skipped
            result["batches"] += len(batches)
            cursor = next_cursor
            if cursor is None:
                self._end_of_audience(c, now)
                break
        return used

    def _end_of_audience(self, c: Campaign, now: datetime) -> None:
        """The whole segment has been enqueued (for this phase). A test phase waits for its
        decision; otherwise the campaign stays `sending` until its batches are all
        accounted for (`_finish`): until then it can still be paused or cancelled."""
        if c.phase == "test":
            decide_at = now + timedelta(hours=float(c.decide_after_hours))
            self.store.set_phase(c.workspace_id, c.id, "test", "wait", decide_at=decide_at)
            return
        self.store.set_phase(c.workspace_id, c.id, c.phase, "done", finished_at=now)

    def _finish(self, c: Campaign, now: datetime) -> bool:
        """`sent` once nothing remains (or, should a crash have left a counter short, once
        the last page is `GIVE_UP_AFTER` old: every held batch has been due by then)."""
        finished_at = c.finished_at
        done = self._remaining(c) == 0 or (finished_at is not None and now - finished_at > GIVE_UP_AFTER)
        if done and self.store.transition(c.workspace_id, c.id, ("sending",), "sent"):
            self.store.deactivate(c.workspace_id, c.id)
            return True
        return False

    def _remaining(self, c: Campaign, totals: dict[str, Any] | None = None) -> int:
        if totals is None:
            totals = self.stats.get(c.workspace_id, campaign_scope(c.id))
        finished = int(totals.get("sent", 0)) + int(totals.get("dropped", 0))
        return max(0, c.enqueued - finished - c.failed - c.cancelled)

    def _variant_for(self, c: Campaign, customer_id: str) -> str | None:
        """The variant this customer gets in the campaign's current phase, or None (not now)."""
        variants = [v.id for v in c.variants]
        share = stable_share(c.id, customer_id)
        if c.test_share is None:
            return variants[int(share * len(variants))]
        test_share = float(c.test_share)
        if c.phase == "test":
            return variants[int(share / test_share * len(variants))] if share < test_share else None
        if c.phase == "rest" and share >= test_share:
            if c.winner:
                return c.winner
            # no winner: the rest split evenly across the variants, by the same hash
            place = (share - test_share) / (1 - test_share)
            return variants[min(len(variants) - 1, int(place * len(variants)))]
        return None

    def _triage(
        self,
        c: Campaign,
        chosen: list[tuple[str, str]],
        profiles: dict[str, CustomerProfile],
        policy: Policy,
        now: datetime,
    ) -> tuple[list[tuple[str, str]], dict[datetime, list[tuple[str, str]]], int]:
        """(ready, held until the end of their quiet hours, skipped): consent, address,
        opt-out and suppression (one batched read) and quiet hours, checked here so that
        the batches reach the sender full. The sender checks everything again."""
        ready: list[tuple[str, str]] = []
        held: dict[datetime, list[tuple[str, str]]] = {}
        skipped = 0
        eligible = {
            cid: address
            for cid, p in profiles.items()
            if p.subscribed(c.channel) and (address := p.address(c.channel))
        }
        blocked = self.blocklist.blocked(c.workspace_id, c.channel, eligible) if eligible else set()
        for customer_id, variant in chosen:
            profile = profiles.get(customer_id)
            if profile is None or customer_id not in eligible or customer_id in blocked:
                skipped += 1
                continue
            until = quiet_until(now, local_zone(profile, policy), policy)
            if until is None:
                ready.append((customer_id, variant))
            else:
                held.setdefault(until, []).append((customer_id, variant))
        return ready, held, skipped

    def decide_ab(self, workspace_id: str, c: Campaign) -> Decision:
        """The A/B decision from the variant counters, by the rule of `abtest.py`: a winner,
        or no winner with its reason (`insufficient_sample`, `tie`, `no_data`)."""
        samples = {}
        for variant in c.variants:
            counts = self.stats.get(workspace_id, variant_scope(c.id, variant.id))
            samples[variant.id] = Sample(
                sent=int(counts.get("sent", 0) or 0),
                clicked=int(counts.get("clicked", 0) or 0),
                orders=int(counts.get("orders", 0) or 0),
                revenue=Decimal(counts.get("revenue", 0) or 0),
            )
        return decide(c.winner_metric, samples, c.min_sample)

    def _release_due(self, now: datetime) -> int:
        """Held batches whose time has come, merged per campaign into full batches and
        enqueued again (then released: a crash in between enqueues them twice, and the
        ledger sends each recipient once)."""
        due = self.store.due(now, DUE_PER_RUN)
        if not due:
            return 0
        groups: dict[tuple[str, str], list[Recipient]] = {}
        keys: dict[tuple[str, str], list[str]] = {}
        for key, batch in due:
            groups.setdefault((batch.workspace_id, batch.campaign_id), []).extend(batch.recipients)
            keys.setdefault((batch.workspace_id, batch.campaign_id), []).append(key)
        batches: list[tuple[CampaignBatch, int]] = []
        for (workspace_id, campaign_id), recipients in groups.items():
            parent = _child_id(*keys[(workspace_id, campaign_id)])
            for start in range(0, len(recipients), BATCH):
                child = _child_id(parent, str(start))
                batches.append(
                    (CampaignBatch(workspace_id, campaign_id, child, recipients[start : start + BATCH]), 0)
                )
        self._queue().enqueue(batches)
        for key, _ in due:
            self.store.release(key)
        return sum(len(g) for g in groups.values())

    # -- the sender (one queue message) --------------------------------------------------------
    def handle_batch(self, body: dict[str, Any]) -> dict[str, int]:
        """One queue message (its body, as received)."""
        batch = self._queue().read(body)
        workspace_id, campaign_id, recipients = batch.workspace_id, batch.campaign_id, batch.recipients
        c = self.store.get(workspace_id, campaign_id)
        if c is None:
            return {"gone": len(recipients)}
        if c.status == "cancelled":
            return self._cancelled(batch)
        if c.status == "paused":
            self.store.park(workspace_id, campaign_id, batch)
            # a resume between the read above and the park would not see this batch: look again
            c = self.store.get(workspace_id, campaign_id) or c
            if c.status == "paused" or not self.store.unpark(workspace_id, campaign_id, batch.batch_id):
                return {"parked": len(recipients)}
            if c.status == "cancelled":
                return self._cancelled(batch)
        now = self.clock()
        templates = {v.id: v.template_id for v in c.variants}
        channel = Channel(c.channel)
        messages = [
            Outgoing(
                workspace_id,
                customer_id,
                f"camp:{campaign_id}",
                channel,
                Purpose.MARKETING,
                templates[variant],
                values=c.product.values() if c.product is not None else {},
                over_cap=c.over_cap,
                tags={"v": variant},
            )
            for customer_id, variant in recipients
        ]
        profiles = self.profiles.load_many(workspace_id, [c for c, _ in recipients])
        policy = policy_for(self.workspaces.settings(workspace_id))
        decisions = self.messaging.send_bulk(messages, profiles, policy, now)
        per_variant: dict[str, Counter[str]] = {}
        later: dict[datetime, list[tuple[str, str]]] = {}
        outcome: Counter[str] = Counter()
        for (customer_id, variant), decision in zip(recipients, decisions, strict=True):
            outcome[decision.status] += 1
            if decision.status in ("sent", "dropped", "deferred"):
                per_variant.setdefault(variant, Counter()).update(counted(decision.status, decision.reason))
            if decision.status == "deferred" and decision.until is not None:
                later.setdefault(decision.until, []).append((customer_id, variant))
            elif decision.status in ("busy", "retry"):
                later.setdefault(now + RETRY_AFTER, []).append((customer_id, variant))
        for until, group in later.items():
            self._later(self._batch(c, group, parent=batch.batch_id, salt=iso(until) or ""), until, now)
        total: Counter[str] = Counter()
        for variant, counts in per_variant.items():
            self.stats.add(workspace_id, variant_scope(campaign_id, variant), dict(counts))
            total.update(counts)
        self.stats.add(workspace_id, campaign_scope(campaign_id), dict(total))
        self.store.add(workspace_id, campaign_id, duplicates=outcome["duplicate"], failed=outcome["refused"])
        return dict(outcome)

    def _cancelled(self, batch: CampaignBatch) -> dict[str, int]:
        """A cancelled campaign's batch is dropped, and counted once (not per delivery)."""
        if self.store.drop_once(batch.workspace_id, batch.campaign_id, batch.batch_id):
            self.store.add(batch.workspace_id, batch.campaign_id, cancelled=len(batch.recipients))
        return {"cancelled": len(batch.recipients)}

    def backoff(self, receipt: str, receives: int) -> int:
        """A batch the provider throttled: seen again after 30 s, doubling per receive up to
        15 minutes (the queue's dead-letter queue takes it after its receives run out)."""
        seconds = min(900, 30 * 2 ** max(0, receives - 1))
        self._queue().retry_in(receipt, seconds)
        return seconds

    # -- helpers ------------------------------------------------------------------------------
    def _queue(self) -> CampaignQueue:
        if self.queue is None:
            raise RuntimeError("no campaign queue configured (PATRON_CAMPAIGN_QUEUE_URL)")
        return self.queue

    def _batch(
        self, c: Campaign, recipients: list[Recipient], parent: str = "", salt: str = ""
    ) -> CampaignBatch:
        batch_id = _child_id(parent, salt) if parent else secrets.token_hex(10)
        return CampaignBatch(c.workspace_id, c.id, batch_id, recipients)

    def _later(self, batch: CampaignBatch, until: datetime, now: datetime) -> None:
        """Enqueued with a queue delay when it is short enough, else held until due."""
        wait = max(0, int((until - now).total_seconds()) + 1)
        queue = self._queue()
        if wait <= queue.max_delay:
            queue.enqueue([(batch, wait)])
        else:
            self.store.hold(until, batch)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value
