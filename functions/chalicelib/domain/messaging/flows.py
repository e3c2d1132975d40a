"""Automated flows: marketing sequences defined as data, run by triggers and a minute tick.

A trigger *enrolls* the customer: one run item per flow and trigger key (the checkout, the
order, the year of the birthday...), created with a conditional put, so a redelivered
stream record or a replayed event enrolls nobody twice. The definitions are in
flow_definition.py, the stepping of due runs (`tick`, `advance`) in flow_engine.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.messaging.coupons import coupon_figures
from chalicelib.domain.messaging.flow_definition import (
    FlowDef,
    StoredFlow,
    TemplateText,
    TriggerEvent,
    parse_flow,
)
from chalicelib.domain.messaging.flow_engine import (
    FlowEngine,
    Outcome,
)
from chalicelib.domain.messaging.model import Channel, FlowRun, Purpose, policy_for
from chalicelib.domain.messaging.performance import workspace_results
from chalicelib.domain.messaging.ports import (
    CouponStore,
    FlowStore,
    ProfileReader,
    SegmentFacts,
    SourceReader,
    Stats,
    StoreDiscounts,
    TemplateReader,
    WorkspaceReader,
)
from chalicelib.domain.messaging.service import MessagingService, local_zone
from chalicelib.domain.messaging.stats import NoStats
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import CatalogueReader


class FlowService:
    def __init__(
        self,
        store: FlowStore,
        messaging: MessagingService,
        profiles: ProfileReader,
        segment_service: SegmentFacts,
        workspaces: WorkspaceReader,
        templates: TemplateReader,
        coupons: CouponStore,
        save_template: Callable[[str, str, TemplateText], Any] | None = None,
        clock: Callable[[], datetime] = now_utc,
        stats: Stats | None = None,
        catalogue: CatalogueReader | None = None,
        discounts: StoreDiscounts | None = None,  # with `sources`: coupons are created in the store
        sources: SourceReader | None = None,
    ) -> None:
        self.store = store
        self.messaging = messaging
        self.profiles = profiles
        self.workspaces = workspaces
        self.templates = templates
        self.coupons = coupons
        self.save_template = save_template
        self.stats = stats or NoStats()  # sent/deferred/dropped per flow (SES events add the rest)
        self.clock = clock  # a run due in the past is filed under today: the tick reads from today on
        self.engine = FlowEngine(
            store,
            messaging,
            profiles,
            segment_service,
            workspaces,
            coupons,
            self.stats,
            self.trigger,
            catalogue,
        )
        self.engine.discounts, self.engine.sources = discounts, sources

    # -- definitions ----------------------------------------------------------------
    def apply(self, workspace_id: str, body: Any) -> dict[str, Any]:
        """Save a flow definition (a new version) and the templates it carries."""
        flow = parse_flow(body)
        for template_id, text in flow.templates.items():
            if self.save_template is None:
                raise BadRequest("templates cannot be saved here")
            if not self._same_template(workspace_id, template_id, text):
                self.save_template(workspace_id, template_id, text)
        for i, step in enumerate(flow.steps):
            if step.send is None:
                continue
            try:
                self.templates.latest(workspace_id, step.send.template)
            except LookupError as exc:
                raise BadRequest(
                    f"steps.{i}.send.template: no template {step.send.template!r} in this workspace",
                    [{"field": f"steps.{i}.send.template", "error": "unknown template"}],
                ) from exc
        current = self.store.flow(workspace_id, flow.id)
        definition = flow.model_dump(mode="json", exclude={"templates"})
        if current and current.definition == definition:
            return _flow_view(current) | {"unchanged": True}  # applying the same file twice
        saved = StoredFlow(
            id=flow.id,
            name=flow.name,
            version=current.version + 1 if current else 1,
            enabled=flow.enabled,
            trigger=flow.trigger.event,
            definition=definition,
        )
        try:
            self.store.put_flow(workspace_id, saved, current.version if current else None)
        except Conflict as exc:
            raise Conflict("the flow changed meanwhile; apply again") from exc
        return _flow_view(saved)

    def _same_template(self, workspace_id: str, template_id: str, text: TemplateText) -> bool:
        try:
            current = self.templates.latest(workspace_id, template_id)
        except LookupError:
            return False
        return bool(current.version) and all(
            getattr(current, part) == getattr(text, part) for part in ("subject", "html", "text", "sms")
        )

    def get(self, workspace_id: str, flow_id: str) -> dict[str, Any]:
        stored = self.store.flow(workspace_id, flow_id)
        if stored is None:
            raise NotFound("flow not found")
        scope = f"flow#{stored.id}"
        found = workspace_results(
            self.workspaces, workspace_id, scope, self.stats.get(workspace_id, scope), {}
        )
        return _flow_view(stored) | {"results": found}

    def has_flows(self, workspace_id: str) -> bool:
        """Whether any flow is defined (cached): events of a workspace without flows cost nothing."""
        return bool(self.store.flows(workspace_id))

    def all(self, workspace_id: str) -> list[dict[str, Any]]:
        """Each flow; one that issues coupons also has its codes issued, registered in the
        store and not (`codes_unregistered`: no Admin API credentials, and `codes_note`),
        redeemed, the redemption rate and the redeemed orders' revenue."""
        views = []
        settings = self.workspaces.settings(workspace_id)
        currency = settings.currency if settings is not None else None
        for stored in self.store.flows(workspace_id):
            view = _flow_view(stored)
            if any(s.send is not None and s.send.coupon is not None for s in stored.flow.steps):
                view |= coupon_figures(self.stats.get(workspace_id, f"flow#{stored.id}") or {}, currency)
            views.append(view)
        return views

    def uses_trigger(self, workspace_id: str, trigger: str) -> bool:
        """Whether an enabled flow starts on `trigger` (the cached list: no read of its own)."""
        return bool(self._flows(workspace_id, trigger))

    def _flows(self, workspace_id: str, trigger: str) -> list[FlowDef]:
        return [f.flow for f in self.store.flows(workspace_id) if f.enabled and f.trigger == trigger]

    # -- triggers -------------------------------------------------------------------
    def trigger(self, event: TriggerEvent) -> list[str]:
        """Enroll the customer in every enabled flow this event starts; the runs started."""
        started = []
        for flow in self._flows(event.workspace_id, event.kind):
            if flow.trigger.segment is not None and flow.trigger.segment != event.segment:
                continue
            run_id = f"{flow.id}#{event.key}"
            if flow.reentry_days is not None:
                cutoff = timemath.shift(event.at, -timemath.span(flow.reentry_days))
                if not self.store.take_reentry(
                    event.workspace_id,
                    event.customer_id,
                    flow.id,
                    timemath.iso(event.at) or "",
                    timemath.iso(cutoff) or "",
                ):
                    continue
            stamp = timemath.iso(event.at) or ""
            run = FlowRun(
                workspace_id=event.workspace_id,
                customer_id=event.customer_id,
                run_id=run_id,
                flow_id=flow.id,
                key=event.key,
                status="active",
                step=0,
                at=stamp,
                started=stamp,
                due=stamp,
                filed=max(event.at, self.clock()).date(),
                context=event.context,
                segment=event.segment,
                birthday=event.kind == "birthday" or None,
            )
            if self.store.start_run(run):
                started.append(run_id)
        return started

    def on_exit_event(
        self, workspace_id: str, customer_id: str, exit_event: str, at: datetime, key: str | None = None
    ) -> list[str]:
        """End the active runs that exit on this event (`key`: only the run of that checkout
        or segment). Returns the runs ended."""
        ended = []
        for run in self.store.runs(workspace_id, customer_id):
            if run.status != "active":
                continue
            flow = self.engine.definition(workspace_id, run.flow_id)
            if flow is None or exit_event not in flow.exit_on:
                continue
            if key is not None and key not in (run.key, run.segment):
                continue
            if exit_event == "ordered" and (timemath.parse_iso(run.started) or at) >= at:
                continue  # the order that started it, or an older one delivered late
            if self.engine.end(run, "exited", exit_event):
                ended.append(run.run_id)
        return ended

    # -- the minute tick (flow_engine.py) ---------------------------------------------
    def tick(self, now: datetime, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        return self.engine.tick(now, time_left)

    def advance(self, run: FlowRun, now: datetime) -> Outcome:
        return self.engine.advance(run, now)

    # -- what would happen ----------------------------------------------------------
    def dry_run(self, workspace_id: str, flow_id: str, customer_id: str, at: datetime) -> dict[str, Any]:
        """The flow's steps for this customer if triggered at `at`: when each send would go
        and whether the guardrails would let it (caps and the ledger are not touched)."""
        stored = self.store.flow(workspace_id, flow_id)
        if stored is None:
            raise NotFound("flow not found")
        flow = stored.flow
        settings = self.workspaces.settings(workspace_id)
        profile = self.engine.profile(workspace_id, customer_id, None)
        if profile is None:
            raise NotFound("customer not found")
        policy = policy_for(settings)
        zone = local_zone(profile, policy)
        clock = at
        steps: list[dict[str, Any]] = []
        for index, step in enumerate(flow.steps):
            if step.wait is not None:
                clock = step.wait.until(clock, zone)
                steps.append({"step": index, "wait_until": timemath.iso(clock)})
                continue
            assert step.send is not None
            send = step.send
            verdict = self.messaging.check(
                Channel(send.channel), Purpose.MARKETING, workspace_id, customer_id, profile, policy, clock
            )
            when_ok = not send.when or self.engine.holds(workspace_id, send.when, profile, clock)
            cond_ok = not flow.conditions or self.engine.holds(workspace_id, flow.conditions, profile, clock)
            passes = verdict.status in ("ok", "deferred")  # quiet hours only move the send
            verdict_text = "would send" if passes else f"would be {verdict.status}"
            if not cond_ok:
                verdict_text, reason = "would exit", "conditions not met"
            elif not when_ok:
                verdict_text, reason = "would skip", "step condition false"
            else:
                reason = verdict.reason
            send_at = verdict.until if verdict.status == "deferred" and verdict.until else clock
            steps.append(
                {
                    "step": index,
                    "send_at": timemath.iso(send_at),
                    "send_at_local": f"{timemath.local(send_at, zone):%Y-%m-%d %H:%M %Z}",
                    "template": send.template,
                    "channel": send.channel.value,
                    "outcome": verdict_text,
                    "reason": reason,
                    "coupon": send.coupon is not None,
                }
            )
        return {"flow": flow.id, "customer_id": customer_id, "trigger_at": timemath.iso(at), "steps": steps}

    def runs(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's flow runs; NotFound (as every other route) when the workspace has
        neither a profile nor a run for the id (an unknown id, or another workspace's)."""
        runs = self.store.runs(workspace_id, customer_id)
        if not runs and self.profiles.load(workspace_id, customer_id) is None:
            raise NotFound("customer not found")
        return [_run_view(r) for r in runs]


def _flow_view(flow: StoredFlow) -> dict[str, Any]:
    return {
        "flow_id": flow.id,
        "name": flow.name,
        "version": flow.version,
        "enabled": flow.enabled,
        "trigger": flow.definition["trigger"],
        "definition": flow.definition,
    }


def _run_view(run: FlowRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "flow_id": run.flow_id,
        "status": run.status,
        "step": run.step,
        "due": run.due if run.status == "active" else None,
        "started": run.started,
        "reason": run.reason,
        "log": run.log or [],
        # a step that failed (e.g. the store did not create its coupon): retried with backoff
        "tries": run.tries or 0,
        "error": run.error,
    }
