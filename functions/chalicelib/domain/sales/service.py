"""The sales pipeline: opportunities opened by hand, from a pre-sale ticket or by a rule,
moved by appending events their state allows; a won one linked to the customer's first
order placed after it was opened, its value reconciled (docs/sales.md)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.money import round_money
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.ports import WorkspaceReader
from chalicelib.domain.sales.forecast import in_currency, pipeline_figures
from chalicelib.domain.sales.model import (
    Opportunity,
    OpportunityEvent,
    OpportunityRefused,
    Outcome,
    apply,
    check,
    reduce,
)
from chalicelib.domain.sales.model import OpportunityEventKind as K
from chalicelib.domain.sales.ports import (
    CustomerOrders,
    CustomerResolver,
    OpportunityStore,
    SalesSettingsStore,
)
from chalicelib.domain.sales.settings import (
    Rule,
    RulesIn,
    SalesSettings,
    StagesIn,
    TargetsIn,
    period_bounds,
    period_of,
)
from chalicelib.domain.sales.views import (
    FromTicketIn,
    OpportunityDetail,
    OpportunityIn,
    OpportunityList,
    OpportunityPatch,
    OpportunityView,
    PipelineView,
    RulesView,
    StagesView,
    TargetsView,
    event_view,
    opportunity_fields,
)
from chalicelib.domain.service.model import EventKind, TicketEvent, TicketKind, TicketRefused
from chalicelib.domain.service.model import apply as ticket_apply
from chalicelib.domain.service.model import check as ticket_check
from chalicelib.domain.service.ports import TicketStore
from chalicelib.domain.timemath import iso
from chalicelib.domain.timezones import store_zone

ATTEMPTS = 3  # appends retried from a fresh read when another append came first


def opportunity_id_at(at: datetime, token: Callable[[], str] = lambda: secrets.token_hex(3)) -> str:
    """`op_` + the creation time + 6 random hex digits: ids sort by creation time."""
    return "op_" + at.strftime("%Y%m%d%H%M%S%f") + token()


class SalesService:
    def __init__(
        self,
        store: OpportunityStore,
        settings: SalesSettingsStore,
        customers: CustomerResolver,
        orders: CustomerOrders,
        workspaces: WorkspaceReader,
        tickets: TicketStore | None = None,
    ) -> None:
        self.store = store
        self.settings_store = settings
        self.customers = customers
        self.orders = orders
        self.workspaces = workspaces
        self.tickets = tickets

    # -- settings ---------------------------------------------------------------------
    def stages(self, workspace_id: str) -> StagesView:
        s = self.settings_store.sales_settings(workspace_id)
        return StagesView(stages=list(s.stages), stale_days=s.stale_days)

    def put_stages(self, workspace_id: str, body: StagesIn) -> StagesView:
        """Replace the stages; a stage an opportunity is in stays (409 `stage_in_use`)."""
        s = self.settings_store.sales_settings(workspace_id, fresh=True)
        kept = {st.name for st in body.stages}
        used = sorted({o.stage for o in self.store.all(workspace_id)} - kept)
        if used:
            raise OpportunityRefused(f"opportunities are in {', '.join(used)}", "stage_in_use")
        self.settings_store.save_sales_settings(
            workspace_id, replace(s, stages=tuple(body.stages), stale_days=body.stale_days)
        )
        return self.stages(workspace_id)

    def targets(self, workspace_id: str) -> TargetsView:
        return TargetsView(targets=list(self.settings_store.sales_settings(workspace_id).targets))

    def put_targets(self, workspace_id: str, body: TargetsIn) -> TargetsView:
        s = self.settings_store.sales_settings(workspace_id, fresh=True)
        self.settings_store.save_sales_settings(workspace_id, replace(s, targets=tuple(body.targets)))
        return self.targets(workspace_id)

    def rules(self, workspace_id: str) -> RulesView:
        return RulesView(rules=list(self.settings_store.sales_settings(workspace_id).rules))

    def put_rules(self, workspace_id: str, body: RulesIn) -> RulesView:
        s = self.settings_store.sales_settings(workspace_id, fresh=True)
        self.settings_store.save_sales_settings(workspace_id, replace(s, rules=tuple(body.rules)))
        return self.rules(workspace_id)

    # -- opportunities ----------------------------------------------------------------
    def create(self, workspace_id: str, body: OpportunityIn, by: str, at: datetime) -> OpportunityDetail:
        customer_id = self.customers.resolve(workspace_id, body.customer_id, body.email, body.phone, at)
        settings = self.settings_store.sales_settings(workspace_id)
        data = self._created_data(workspace_id, settings, customer_id, body.title, body.owner, body.stage)
        data |= self._value(workspace_id, body.value, body.currency)
        data |= {"expected_close": _day(body.expected_close), "notes": body.notes, "source": "manual"}
        made, events = self._open(workspace_id, data, by, at, None)
        return self._detail(made, events, settings, at)

    def from_ticket(
        self, workspace_id: str, ticket_id: str, body: FromTicketIn, by: str, at: datetime
    ) -> OpportunityDetail:
        """An opportunity from a pre-sale ticket, once per ticket (a repeat answers the
        same one); the ticket's log gains `opportunity_linked`."""
        if self.tickets is None:
            raise NotFound("no tickets here")
        found = self.tickets.load(workspace_id, ticket_id)
        if found is None:
            raise NotFound("no such ticket")
        ticket = found[0]
        if ticket.kind != TicketKind.PRE_SALE:
            raise OpportunityRefused("only a pre-sale ticket opens an opportunity", "not_pre_sale")
        guard = f"ticket:{ticket_id}"
        settings = self.settings_store.sales_settings(workspace_id)
        existing = self.store.guarded(workspace_id, guard)
        if existing is None:
            title = body.title or ticket.subject or "Pre-sale question"
            data = self._created_data(
                workspace_id, settings, ticket.customer_id, title, body.owner or ticket.assignee, None
            )
            data |= self._value(workspace_id, body.value, body.currency)
            data |= {
                "expected_close": _day(body.expected_close),
                "notes": "",
                "source": "ticket",
                "ticket_id": ticket_id,
            }
            try:
                made, events = self._open(workspace_id, data, by, at, guard)
            except Conflict:  # a concurrent request opened it first: answer that one
                existing = self.store.guarded(workspace_id, guard)
                if existing is None:
                    raise
                made, events = self._load(workspace_id, existing)
        else:
            made, events = self._load(workspace_id, existing)
        self._link_ticket(workspace_id, ticket_id, made.id, by, at)
        return self._detail(made, events, settings, at)

    def open_from_rule(
        self, workspace_id: str, rule: Rule, customer_id: str, key: str, value: Decimal | None, at: datetime
    ) -> str | None:
        """A rule's opportunity, once per `key` (a checkout, or a customer while one is
        open); None when it exists already."""
        guard = f"rule:{rule.id}:{key}"
        if self.store.guarded(workspace_id, guard) is not None:
            return None
        settings = self.settings_store.sales_settings(workspace_id)
        title = rule.title or (
            "Abandoned checkout" if rule.trigger == "checkout_abandoned" else f"Entered {rule.segment}"
        )
        data = self._created_data(workspace_id, settings, customer_id, title, rule.owner, None)
        data |= self._value(workspace_id, rule.value if rule.value is not None else value or Decimal(0), None)
        data |= {"expected_close": None, "notes": "", "source": f"rule:{rule.id}"}
        try:
            made, _ = self._open(workspace_id, data, f"rule:{rule.id}", at, guard)
        except Conflict:
            return None  # another delivery opened it first
        return made.id

    def update(
        self, workspace_id: str, opportunity_id: str, body: OpportunityPatch, by: str, at: datetime
    ) -> OpportunityDetail:
        """Each field given is one event, all appended at once; a move to a won stage links
        the customer's first order placed since it was opened, or waits for it."""
        settings = self.settings_store.sales_settings(workspace_id)
        for _ in range(ATTEMPTS):
            before, events = self._load(workspace_id, opportunity_id)
            new = self._events(workspace_id, before, body, settings, by, max(at, before.updated_at))
            if not new:
                raise BadRequest("nothing to change", [{"field": "stage", "error": "missing"}])
            after = before
            for event in new:
                check(after, event)
                after = apply(after, event)
            release, wait = None, None
            if after.outcome != before.outcome:
                if after.outcome != Outcome.OPEN and before.source.startswith("rule:"):
                    release = _rule_guard(before)
                if after.outcome == Outcome.WON and after.order_id is None:
                    linked = self._order_event(workspace_id, after, by, max(at, before.updated_at))
                    if linked is None:
                        wait = True
                    else:
                        new.append(linked)
                        after = apply(after, linked)
                elif before.outcome == Outcome.WON and before.order_id is None:
                    wait = False
            if self.store.append(before, new, after, release=release, wait=wait):
                return self._detail(after, [*events, *new], settings, at)
        raise Conflict("the opportunity changed meanwhile; try again")

    def on_order(self, workspace_id: str, customer_id: str, at: datetime) -> list[str]:
        """A new order of the customer: each of their won opportunities awaiting an order
        links to it (when it was placed since the opportunity was opened)."""
        linked = []
        for opportunity_id in self.store.waiting(workspace_id, customer_id):
            for _ in range(ATTEMPTS):
                found = self.store.load(workspace_id, opportunity_id)
                if found is None or found[0].order_id is not None or found[0].outcome != Outcome.WON:
                    break
                before = found[0]
                event = self._order_event(workspace_id, before, "patron", max(at, before.updated_at))
                if event is None:
                    break
                if self.store.append(before, [event], apply(before, event), wait=False):
                    linked.append(opportunity_id)
                    break
        return linked

    def show(self, workspace_id: str, opportunity_id: str, now: datetime) -> OpportunityDetail:
        settings = self.settings_store.sales_settings(workspace_id)
        return self._detail(*self._load(workspace_id, opportunity_id), settings, now)

    def listing(
        self,
        workspace_id: str,
        now: datetime,
        stage: str | None = None,
        owner: str | None = None,
        stale: bool | None = None,
    ) -> OpportunityList:
        settings = self.settings_store.sales_settings(workspace_id)
        views = []
        for o in self.store.all(workspace_id):
            is_stale = o.is_stale(settings.stale_days, now)
            if (stage and o.stage != stage) or (owner and o.owner != owner):
                continue
            if stale is not None and is_stale != stale:
                continue
            views.append(OpportunityView(**opportunity_fields(o, is_stale)))
        return OpportunityList(opportunities=views)

    def pipeline(self, workspace_id: str, period: str | None, now: datetime) -> PipelineView:
        """The figures of a month or quarter of the store's zone (the workspace's
        `default_timezone`): by default the one `now` falls in there."""
        ws = self._workspace(workspace_id)
        zone = store_zone(ws.default_timezone)
        chosen = period or period_of(now.astimezone(zone))
        try:
            period_bounds(chosen)
        except ValueError as exc:
            raise BadRequest(str(exc), [{"field": "period", "error": "invalid"}]) from None
        settings = self.settings_store.sales_settings(workspace_id)
        opportunities = self.store.all(workspace_id)
        return pipeline_figures(opportunities, settings, ws.currency, ws.rates, chosen, now, zone)

    # -- helpers ----------------------------------------------------------------------
    def _workspace(self, workspace_id: str) -> Any:
        ws = self.workspaces.settings(workspace_id)
        if ws is None:
            raise NotFound("workspace not found")
        return ws

    def _created_data(
        self,
        workspace_id: str,
        settings: SalesSettings,
        customer_id: str,
        title: str,
        owner: str | None,
        stage_name: str | None,
    ) -> dict[str, Any]:
        stage = settings.first if stage_name is None else settings.stage(stage_name)
        if stage is None:
            raise BadRequest("no such stage", [{"field": "stage", "error": "unknown"}])
        return {
            "customer_id": customer_id,
            "title": title,
            "owner": owner,
            "stage": stage.name,
            "outcome": stage.outcome,
        }

    def _value(self, workspace_id: str, value: Decimal, currency: str | None) -> dict[str, Any]:
        code = (currency or self._workspace(workspace_id).currency or "").upper()
        if not code:
            raise BadRequest(
                "the workspace has no currency yet: give one", [{"field": "currency", "error": "missing"}]
            )
        return {"value": str(round_money(value, code)), "currency": code}

    def _open(
        self, workspace_id: str, data: dict[str, Any], by: str, at: datetime, guard: str | None
    ) -> tuple[Opportunity, list[OpportunityEvent]]:
        event = OpportunityEvent(K.CREATED, at, by, {k: v for k, v in data.items() if v is not None})
        made = reduce(workspace_id, opportunity_id_at(at), [event])
        if not self.store.create(made, event, guard):
            raise Conflict("an opportunity for that source exists already")
        return made, [event]

    def _events(
        self,
        workspace_id: str,
        o: Opportunity,
        body: OpportunityPatch,
        settings: SalesSettings,
        by: str,
        at: datetime,
    ) -> list[OpportunityEvent]:
        given = body.model_fields_set
        events: list[OpportunityEvent] = []
        if "owner" in given:
            events.append(OpportunityEvent(K.OWNER_CHANGED, at, by, {"from": o.owner, "to": body.owner}))
        if body.value is not None or body.currency is not None:
            money = self._value(
                workspace_id, body.value if body.value is not None else o.value, body.currency or o.currency
            )
            data = {"from": str(o.value), "to": money["value"], "currency": money["currency"]}
            events.append(OpportunityEvent(K.VALUE_CHANGED, at, by, data))
        if "expected_close" in given:
            data = {"from": _day(o.expected_close), "to": _day(body.expected_close)}
            events.append(OpportunityEvent(K.CLOSE_DATE_CHANGED, at, by, data))
        if body.note is not None:
            events.append(OpportunityEvent(K.NOTED, at, by, {"body": body.note}))
        if body.stage is not None:  # last: the value and date are set while it is still open
            stage = settings.stage(body.stage)
            if stage is None:
                raise BadRequest("no such stage", [{"field": "stage", "error": "unknown"}])
            data = {"from": o.stage, "to": stage.name, "outcome": stage.outcome}
            events.append(OpportunityEvent(K.STAGE_CHANGED, at, by, data))
        return events

    def _order_event(
        self, workspace_id: str, o: Opportunity, by: str, at: datetime
    ) -> OpportunityEvent | None:
        """`order_linked` to the customer's first counted order placed since the opportunity
        was opened, its value beside the forecast; None when there is none yet."""
        profile = self.orders.load(workspace_id, o.customer_id)
        if profile is None:
            return None
        opened = o.created_at.timestamp()
        entries = all_entries(self.orders, workspace_id, profile)
        placed = [
            (entry.placed_at, key)
            for key, entry in entries.items()
            if entry.counted and entry.placed_at is not None and entry.placed_at >= opened
        ]
        if not placed:
            return None
        placed_at, key = min(placed)
        entry = entries[key]
        ws = self._workspace(workspace_id)
        forecast = in_currency(o.value, o.currency, ws.currency, ws.rates)
        actual = None if entry.amount is None else round_money(entry.amount, ws.currency)
        data: dict[str, Any] = {
            "order_id": key,
            "placed_at": iso(datetime.fromtimestamp(placed_at, UTC)),
            "actual_value": None if actual is None else str(actual),
            "forecast_value": None if forecast is None else str(round_money(forecast, ws.currency)),
            "currency": ws.currency,
            "difference": None
            if actual is None or forecast is None
            else str(round_money(actual - forecast, ws.currency)),
        }
        return OpportunityEvent(K.ORDER_LINKED, at, by, data)

    def _link_ticket(
        self, workspace_id: str, ticket_id: str, opportunity_id: str, by: str, at: datetime
    ) -> None:
        """The ticket's `opportunity_linked` event, once (a retry finds it there)."""
        assert self.tickets is not None
        for _ in range(ATTEMPTS):
            found = self.tickets.load(workspace_id, ticket_id)
            if found is None:
                return
            ticket, events = found
            if any(e.kind == EventKind.OPPORTUNITY_LINKED for e in events):
                return
            event = TicketEvent(
                EventKind.OPPORTUNITY_LINKED,
                max(at, ticket.updated_at),
                by,
                {"opportunity_id": opportunity_id},
            )
            try:
                ticket_check(ticket, event)
            except TicketRefused:
                return  # a closed ticket: the opportunity names it, it does not name the opportunity
            if self.tickets.append(ticket, event, ticket_apply(ticket, event)):
                return

    def _load(self, workspace_id: str, opportunity_id: str) -> tuple[Opportunity, list[OpportunityEvent]]:
        found = self.store.load(workspace_id, opportunity_id)
        if found is None:
            raise NotFound("no such opportunity")
        return found

    def _detail(
        self, o: Opportunity, events: list[OpportunityEvent], settings: SalesSettings, now: datetime
    ) -> OpportunityDetail:
        return OpportunityDetail(
            **opportunity_fields(o, o.is_stale(settings.stale_days, now)),
            events=[event_view(e) for e in events],
        )


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


def _rule_guard(o: Opportunity) -> str | None:
    """The guard a segment rule's opportunity holds while open (once per customer per
    rule); a checkout's guard stays (once per checkout, ever)."""
    return f"{o.source}:customer:{o.customer_id}" if o.source.startswith("rule:") else None
