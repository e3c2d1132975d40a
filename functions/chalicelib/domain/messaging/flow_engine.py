"""The flow engine: stepping the runs that are due.

A run waits in the sparse due index (`F#<day>#<shard>`); the minute tick advances the runs
that are due:

- each send goes through `MessagingService.send` with the key
  `flow:<flow>:<run key>:<step>`, so consent, opt-outs, suppressions, quiet hours, caps,
  credits and exactly-once hold for flows as for everything else;
- a message deferred by quiet hours or the cap moves the run's due time, nothing is lost;
- the flow's condition is checked before every send, and an order placed after the run
  began ends runs that exit on `ordered`, both when the order arrives (the ingest stream)
  and again before each send (the profile), so a customer who has ordered never gets the
  reminder;
- a send's coupon is created in the store of the run's source (when that source holds
  Admin API credentials) before the message goes: once, the store's id recorded on the
  coupon so a retried step reuses it; a store that refuses or cannot be reached fails the
  step (`CouponNotInStore`, kept on the run), which is retried with backoff, never sent
  with a dead code. A source without Admin API credentials issues the code here only,
  marked `registered: false` (the run's log and the flow's `codes_unregistered`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import segment_eval, segments, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.messaging.flow_definition import (
    Coupon,
    FlowDef,
    IssuedCoupon,
    Offer,
    Send,
    StoreCode,
    TriggerEvent,
    birthday_event,
)
from chalicelib.domain.messaging.model import (
    Decision,
    FlowRun,
    InFlight,
    Outgoing,
    Policy,
    Purpose,
    RunContext,
    Throttled,
    policy_for,
)
from chalicelib.domain.messaging.personalize import latest_product, product_values
from chalicelib.domain.messaging.ports import (
    CouponStore,
    FlowStore,
    ProfileReader,
    SegmentFacts,
    SourceReader,
    Stats,
    StoreDiscounts,
    WorkspaceReader,
)
from chalicelib.domain.messaging.product_block import override, recommendation_values, shown
from chalicelib.domain.messaging.service import MessagingService, local_zone
from chalicelib.domain.messaging.stats import counted
from chalicelib.domain.models import Source
from chalicelib.domain.money import round_money
from chalicelib.domain.ports import CatalogueReader
from chalicelib.domain.recommend.model import RecommendedProduct
from chalicelib.domain.store_admin import AdminApiError

LOOKBACK_DAYS = 2  # the first tick (no watermark yet) looks this far back for due runs
MAX_ATTEMPTS = 8  # a run whose step fails this often is parked as `failed` (replayable)


LOYALTY_VALUES = (
    "points_expiring",
    "points_expiry_date",
    "points_redeemed",
    "redeemed_value",
    "coupon_code",
    "points_reversed",
)


def coupon_code(salt: str, message_key: str, prefix: str) -> str:
    """Unique per message, unguessable, and the same on every retry of that message."""
    digest = hmac.new(salt.encode(), message_key.encode(), hashlib.sha256).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


class CouponNotInStore(Exception):
    """The store did not create a send's coupon: the message waits (the step is retried)."""


@dataclass
class Outcome:
    run: str
    status: str  # waiting, sent, done, exited, retry, failed
    detail: str = ""
    messages: list[str] = field(default_factory=list)  # this advance's send decisions


class FlowEngine:
    """Takes due runs forward: through elapsed waits and sends, up to the next wait."""

    def __init__(
        self,
        store: FlowStore,
        messaging: MessagingService,
        profiles: ProfileReader,
        segment_service: SegmentFacts,
        workspaces: WorkspaceReader,
        coupons: CouponStore,
        stats: Stats,
        enroll: Callable[[TriggerEvent], list[str]],
        catalogue: CatalogueReader | None = None,
    ) -> None:
        self.store = store
        self.messaging = messaging
        self.profiles = profiles
        self.segments = segment_service
        self.workspaces = workspaces
        self.coupons = coupons
        self.stats = stats
        self.enroll = enroll  # a finished birthday run enrolls next year's
        self.catalogue = catalogue  # names `{{ product.* }}` (None: those fields stay empty)
        self.discounts: StoreDiscounts | None = None  # with `sources`: coupons made in the store
        self.sources: SourceReader | None = None

    def tick(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        mark = timemath.parse_iso(self.store.watermark())
        start = mark if mark is not None and mark <= now else now - timedelta(days=LOOKBACK_DAYS)
        until = timemath.iso(now) or ""
        counts: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        messages: dict[str, int] = {}
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= now:
            for workspace_id, customer_id, run_id in self.store.due(day.date(), until):
                if time_left is not None and time_left() < 10:
                    # the next tick goes on from here
                    return counts | {"stopped_early": 1, "errors": errors, "messages": messages}
                run = self.store.get_run(workspace_id, customer_id, run_id)
                if run is None or run.status != "active":
                    continue
                outcome = self.advance(run, now)
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
                for status in outcome.messages:
                    messages[status] = messages.get(status, 0) + 1
                if outcome.status == "failed":
                    errors.append({"run": outcome.run, "error": outcome.detail.split(":")[0]})
            day += timedelta(days=1)
        self.store.set_watermark(until)
        return counts | {"errors": errors, "messages": messages}

    def advance(self, run: FlowRun, now: datetime) -> Outcome:
        """Take a due run as far as it goes now: through elapsed waits and sends, up to the
        next wait in the future (or the end). Saved once, conditioned on where it stood."""
        step0, due0 = run.step, run.due
        decided: list[str] = []  # this advance's send decisions, for the job's metrics
        try:
            outcome = self._advance(run, now, decided)
        except (InFlight, Throttled) as exc:
            # another attempt holds the message, or the provider asked us to slow down:
            # the run stays due and the next tick retries it
            return Outcome(run.run_id, "retry", type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - isolated, recorded on the run, reported
            # a failure of this run must not stop the others: it is recorded on the run,
            # reported to the job (which logs and counts it), retried with backoff, and
            # parked as `failed` after MAX_ATTEMPTS
            attempts = (run.tries or 0) + 1
            run.tries, run.error = attempts, f"{type(exc).__name__}: {exc}"[:300]
            if attempts >= MAX_ATTEMPTS:
                run.status = "failed"
            else:
                self._schedule(run, now + timedelta(minutes=2**attempts), now)
            self.store.save_run(run, step0, due0)
            return Outcome(run.run_id, "failed", run.error)
        outcome.messages = decided
        if not self.store.save_run(run, step0, due0):
            return Outcome(run.run_id, "retry", "changed meanwhile", outcome.messages)
        if outcome.status == "done" and run.birthday:
            self._next_birthday(run, now)
        return outcome

    def _advance(self, run: FlowRun, now: datetime, decided: list[str]) -> Outcome:
        ws, cid = run.workspace_id, run.customer_id
        flow = self.definition(ws, run.flow_id)
        if flow is None:
            return self._ended(run, "exited", "flow deleted or disabled")
        settings = self.workspaces.settings(ws)
        profile = self.profile(ws, cid, run.context) or CustomerProfile(ws, cid)
        policy = policy_for(settings)
        zone = local_zone(profile, policy)
        step_start = timemath.parse_iso(run.at) or now
        sent = ""
        while run.step < len(flow.steps):
            index = run.step
            step = flow.steps[index]
            if step.wait is not None:
                until = step.wait.until(step_start, zone)
                if until > now:
                    self._schedule(run, until, now)
                    return Outcome(run.run_id, "waiting", timemath.iso(until) or "")
                step_start = until
                run.step, run.at = index + 1, timemath.iso(until)
                continue
            assert step.send is not None
            reason = self._exit_reason(flow, run, profile, now)
            if reason:
                return self._ended(run, "exited", reason)
            values: dict[str, Any] = {}
            decision = self._send(flow, run, index, step.send, profile, settings, policy, zone, now, values)
            _log(run, index, decision, now, values.get("registered"))
            decided.append(decision.status)
            if decision.status in ("sent", "deferred", "dropped"):
                self.stats.add(
                    ws, f"flow#{flow.id}", dict.fromkeys(counted(decision.status, decision.reason), 1)
                )
            if decision.status == "sent" and "registered" in values:
                registered = "codes_registered" if values["registered"] else "codes_unregistered"
                self.stats.add(ws, f"flow#{flow.id}", {"codes_issued": 1, registered: 1})
            if decision.status == "deferred" and decision.until is not None:
                self._schedule(run, decision.until, now)
                return Outcome(run.run_id, "waiting", decision.reason)
            sent = decision.status
            step_start = now
            run.step, run.at = index + 1, timemath.iso(now)
        self._ended(run, "done", sent or "no send")
        return Outcome(run.run_id, "done", sent)

    def _exit_reason(
        self, flow: FlowDef, run: FlowRun, profile: CustomerProfile, now: datetime
    ) -> str | None:
        started = timemath.parse_iso(run.started)
        last = profile.last_order
        if "ordered" in flow.exit_on and last is not None and started is not None and last > started:
            return "ordered"
        if flow.conditions and not self.holds(run.workspace_id, flow.conditions, profile, now):
            return "conditions no longer met"
        return None

    def holds(self, workspace_id: str, condition: str, profile: CustomerProfile, now: datetime) -> bool:
        tree = segments.parse(condition)
        facts, _ = self.segments.facts(workspace_id, profile, now, None, segment_eval.uses_loyalty(tree))
        return segment_eval.evaluate(tree, facts, now).member

    def _send(
        self,
        flow: FlowDef,
        run: FlowRun,
        index: int,
        send: Send,
        profile: CustomerProfile,
        settings: Any,
        policy: Policy,
        zone: ZoneInfo,
        now: datetime,
        noted: dict[str, Any] | None = None,  # gets `registered` when the send has a coupon
    ) -> Decision:
        ws, cid = run.workspace_id, run.customer_id
        due = timemath.parse_iso(run.due) or now
        if send.skip_if_late_hours is not None and now - due > timedelta(hours=send.skip_if_late_hours):
            return Decision("skipped", "too late")
        if send.when and not self.holds(ws, send.when, profile, now):
            return Decision("skipped", "condition false")
        key = f"flow:{flow.id}:{run.key}:{index}"
        values = self._values(run)
        values.update(self._product(ws, run, profile, send.template))
        exclude = run.context.product_ids if run.context is not None else ()
        if send.recommendations is not None:
            # without consent the send is dropped below: the recommender is not asked
            consented = profile.subscribed(send.channel.value)
            picked = self._recommended(run, send, profile, exclude) if consented else []
            if isinstance(picked, Decision):
                return picked
            values.update(recommendation_values(picked))
        elif send.recommend:
            have = set(profile.products_bought())
            offers = [o.name for o in send.recommend if o.after in have and o.offer not in have]
            if not offers:
                return Decision("skipped", "nothing to recommend")
            values["recommended_products"] = ", ".join(offers)
        if send.coupon is not None:
            source = self._coupon_source(run, profile)
            coupon = self._coupon(ws, cid, key, send.coupon, settings, now, source)
            coupon = self._in_store(ws, coupon, source, profile)
            if noted is not None:
                noted["registered"] = coupon.registered is not False
            expires = timemath.parse_iso(coupon.expires_at) or now
            values["coupon_code"] = coupon.code
            values["coupon_expires"] = f"{timemath.local(expires, zone):%Y-%m-%d %H:%M %Z}"
        message = Outgoing(
            ws,
            cid,
            key,
            send.channel,
            Purpose.MARKETING,
            send.template,
            values,
            send.over_cap,
            placement=send.recommendations.placement if send.recommendations is not None else None,
            exclude=exclude,
        )
        return self.messaging.send(message, profile, policy, now)

    def _recommended(
        self, run: FlowRun, send: Send, profile: CustomerProfile, exclude: tuple[str, ...]
    ) -> list[RecommendedProduct] | Decision:
        """A `recommendations` step's products: the matching hand-written pairs first (reason
        `override`), then the recommender's for the placement, never the trigger's products;
        a skip Decision when fewer than the step's `min` are left."""
        step = send.recommendations
        assert step is not None
        have = set(profile.products_bought())
        gone = have | set(exclude)
        pairs = [o for o in send.recommend if o.after in have and o.offer not in gone][: step.limit]
        overrides = self._overrides(run, send, pairs)
        found: list[RecommendedProduct] = []
        recommender = self.messaging.recommender
        if recommender is not None and len(overrides) < step.limit:
            found = recommender.for_customer(
                run.workspace_id,
                run.customer_id,
                placement=step.placement or send.channel.value,
                limit=step.limit,
                exclude=(*exclude, *(o.offer for o in pairs)),
            )
        picked = shown([*overrides, *found], step.limit)
        if len(picked) < step.min:
            return Decision("skipped", "no recommender" if recommender is None else "nothing to recommend")
        return picked

    def _overrides(self, run: FlowRun, send: Send, pairs: list[Offer]) -> list[RecommendedProduct]:
        """The matching pairs as recommendations, with the catalogue's page and picture of
        each offer and its anchor's title, when the trigger's store is known (one batch read);
        an offer the catalogue has as deleted is left out."""
        names = {o.offer: o.name for o in send.recommend}
        pages: dict[str, dict[str, str | None]] = {}
        deleted: set[str] = set()
        ctx = run.context
        source_id = (ctx.source_id or (ctx.product[0] if ctx.product else None)) if ctx is not None else None
        if pairs and self.catalogue is not None and source_id:
            wanted = dict.fromkeys(p for o in pairs for p in (o.offer, o.after))
            for entry in self.catalogue.products(run.workspace_id, [(source_id, p) for p in wanted]):
                pages[entry.product_id] = {"url": entry.url, "image": entry.image}
                if entry.deleted:
                    deleted.add(entry.product_id)
                if entry.title:
                    names.setdefault(entry.product_id, entry.title)
        kept = [o for o in pairs if o.offer not in deleted]
        return [override(o.offer, o.after, o.name, names, pages.get(o.offer)) for o in kept]

    def _product(self, ws: str, run: FlowRun, profile: CustomerProfile, template: str) -> dict[str, Any]:
        """`product.*`: the checkout's or order's first product, else the profile's latest
        order's; one GetItem-sized batch read per send, only when the catalogue is wired."""
        if self.catalogue is None:
            return {}
        ref = run.context.product if run.context is not None else None
        ref = ref or latest_product(profile)
        if ref is None:
            return {}
        found = self.catalogue.products(ws, [ref])
        return product_values(found[0] if found else None)

    def _values(self, run: FlowRun) -> dict[str, Any]:
        """What the trigger knew; the profile's own values (name, store, last product) are
        added by `MessagingService`, and these win over them."""
        ctx = run.context
        values: dict[str, Any] = {}
        if ctx is None:
            return values
        if ctx.products:
            values["last_product"] = ctx.products[0]  # what this checkout or order held
        if ctx.checkout_url:
            values["checkout_url"] = ctx.checkout_url
        if ctx.total is not None:
            total = round_money(Decimal(str(ctx.total)), ctx.currency)
            values["checkout_total"] = f"{total} {ctx.currency or ''}".strip()
        if ctx.order_number:
            values["order_number"] = ctx.order_number
        # a `points.expiring`, `points.redeemed` (its code) or `points.reversed` run
        for name in LOYALTY_VALUES:
            if ctx.extra.get(name) is not None:
                values[name] = str(ctx.extra[name])
        return values

    def _coupon(
        self, ws: str, cid: str, key: str, spec: Coupon, settings: Any, now: datetime, source: Source | None
    ) -> IssuedCoupon:
        """The message's coupon, issued once (a retry gets the stored one)."""
        code = coupon_code(settings.id_salt, f"{ws}|{cid}|{key}", spec.prefix)
        return self.coupons.issue(
            ws,
            IssuedCoupon(
                code=code,
                customer_id=cid,
                message_key=key,
                expires_at=timemath.iso(now + timedelta(hours=spec.valid_hours)) or "",
                percent_off=spec.percent_off,
                amount_off=None
                if spec.amount_off is None
                else round_money(spec.amount_off, settings.currency),
                currency=settings.currency if spec.amount_off is not None else None,
                source_id=None if source is None else source.source_id,
                registered=None if source is not None and source.admin_ref else False,
            ),
        )

    def _in_store(
        self, ws: str, coupon: IssuedCoupon, source: Source | None, profile: CustomerProfile
    ) -> IssuedCoupon:
        """The coupon created in its source's store, once: a coupon that has the store's id
        was created before (a retried step); an unconnected source leaves it here only."""
        if coupon.store_id or source is None or not source.admin_ref or self.discounts is None:
            return coupon if coupon.store_id else replace(coupon, registered=False)
        try:
            made: StoreCode = self.discounts.create(
                source, coupon, store_customer(profile, source), profile.email or _guest_email(profile)
            )
        except AdminApiError as exc:
            raise CouponNotInStore(f"the store did not create the coupon: {exc.message}") from exc
        store_id = made.store_id or "exists"
        self.coupons.registered(ws, coupon.code, source.source_id, store_id)
        return replace(coupon, store_id=store_id, registered=True)

    def _coupon_source(self, run: FlowRun, profile: CustomerProfile) -> Source | None:
        """The source whose store makes the coupon: the trigger's (a checkout, an order),
        else the first (by id) the customer has a platform id at; None: none known."""
        if self.sources is None:
            return None
        source_id = run.context.source_id if run.context is not None else None
        if not source_id:
            known = sorted(_ext_source(x)[0] for x in profile.external_ids)
            source_id = known[0] if known else None
        return self.sources.source(run.workspace_id, source_id) if source_id else None

    def profile(self, ws: str, cid: str, context: RunContext | None) -> CustomerProfile | None:
        """The customer's profile (following a merge), or for a guest the trigger's person
        (None: neither)."""
        profile = self.profiles.load(ws, cid)
        if profile is not None:
            return profile
        contact = context.guest if context is not None else None
        return self.profiles.guest(ws, cid, contact) if contact else None

    def definition(self, workspace_id: str, flow_id: str) -> FlowDef | None:
        stored = self.store.flow(workspace_id, flow_id)
        if stored is None or not stored.enabled:
            return None
        return stored.flow

    def _schedule(self, run: FlowRun, due: datetime, now: datetime) -> None:
        run.due, run.filed = timemath.iso(due), max(due, now).date()

    def _ended(self, run: FlowRun, status: str, why: str) -> Outcome:
        run.status, run.reason = status, why
        run.filed = None
        return Outcome(run.run_id, status, why)

    def end(self, run: FlowRun, status: str, why: str) -> bool:
        step, due = run.step, run.due
        self._ended(run, status, why)
        return self.store.save_run(run, step, due)

    def _next_birthday(self, run: FlowRun, now: datetime) -> None:
        ws, cid = run.workspace_id, run.customer_id
        profile = self.profile(ws, cid, run.context)
        if profile is not None and profile.birthday:
            settings = self.workspaces.settings(ws)
            self.enroll(birthday_event(ws, cid, profile, now + timedelta(days=1), settings))


def _log(run: FlowRun, index: int, decision: Decision, now: datetime, registered: bool | None) -> None:
    entry: dict[str, Any] = {"step": index, "status": decision.status, "at": timemath.iso(now)}
    if decision.reason:
        entry["reason"] = decision.reason
    if registered is False:
        entry["coupon_registered"] = False  # a code the store's checkout does not know
    run.log = [*(run.log or [])[-19:], entry]


def _ext_source(ext: str) -> tuple[str, str]:
    """(source id, the store's customer id) of a platform id `<platform>:<source>:<id>`."""
    _, _, rest = ext.partition(":")
    source_id, _, customer_id = rest.partition(":")
    return source_id, customer_id


def store_customer(profile: CustomerProfile, source: Source) -> str | None:
    """The store's own id of the customer, when the profile holds one from this source."""
    ids = sorted(c for s, c in map(_ext_source, profile.external_ids) if s == source.source_id and c)
    return ids[0] if ids else None


def _guest_email(profile: CustomerProfile) -> str | None:
    return sorted(profile.emails)[0] if profile.emails else None
