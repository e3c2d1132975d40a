"""The sales pipeline (domain/sales): the log reduces to the opportunity, the service opens
and moves opportunities only through events, a won one links the customer's first order
since it opened, rules open one once, and the pipeline's figures (docs/sales.md)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.sales.model import OpportunityRefused, Outcome, reduce
from chalicelib.domain.sales.service import SalesService
from chalicelib.domain.sales.settings import (
    DEFAULT_STAGES,
    Rule,
    RulesIn,
    StagesIn,
    TargetsIn,
    period_bounds,
)
from chalicelib.domain.sales.views import FromTicketIn, OpportunityIn, OpportunityPatch
from chalicelib.domain.service.model import EventKind, TicketEvent
from chalicelib.domain.service.model import reduce as ticket_reduce
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.fakes_sales import FakeSalesStore
from tests.fakes_tickets import FakeTicketStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Customers:
    """The ticket's resolution as the service sees it: ids pass, one email is known."""

    def resolve(
        self,
        workspace_id: str,
        customer_id: str | None,
        email: str | None,
        phone: str | None,
        at: datetime,
    ) -> str:
        if customer_id:
            if customer_id == "c_none":
                raise NotFound("no such customer")
            return customer_id
        if email == "buyer@example.com":
            return "c_mail"
        raise NotFound("no customer with that email or phone")


class Orders:
    def __init__(self) -> None:
        self.profiles: dict[str, CustomerProfile] = {}

    def order(self, customer_id: str, key: str, at: datetime, amount: str) -> None:
        profile = self.profiles.setdefault(customer_id, CustomerProfile("ws_a", customer_id, rev=1))
        profile.orders[key] = OrderEntry(version=1, placed_at=int(at.timestamp()), amount=Decimal(amount))

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        return self.profiles.get(customer_id)

    def moved_entries(self, workspace_id: str, customer_ids: list[str], keys: Any = None) -> dict[str, Any]:
        return {}


class Workspaces:
    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return WorkspaceSettings("ws_a", "EUR", "salt", rates={"USD": Decimal("0.9")})

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        raise NotImplementedError


def service(tickets: FakeTicketStore | None = None) -> tuple[SalesService, FakeSalesStore, Orders]:
    store, orders = FakeSalesStore(), Orders()
    sales = SalesService(store, store, Customers(), orders, Workspaces(), tickets or FakeTicketStore())
    return sales, store, orders


def opened(sales: SalesService, **kw: Any) -> str:
    body = OpportunityIn.model_validate({"customer_id": "c_1", "title": "Wholesale order"} | kw)
    return sales.create("ws_a", body, "key:abc", T0).id


def patch(sales: SalesService, oid: str, at: datetime, **kw: Any) -> Any:
    return sales.update("ws_a", oid, OpportunityPatch.model_validate(kw), "key:abc", at)


def test_an_opportunity_opens_in_the_first_stage_in_the_workspace_currency_rounded():
    # Given the default stages
    sales, _, _ = service()
    # When an opportunity is opened by email with a value of more digits than the euro has
    body = OpportunityIn(email="buyer@example.com", title="Café chain", value=Decimal("1200.005"))
    made = sales.create("ws_a", body, "key:abc", T0)
    # Then it is the known customer's, new, open, 1200.01 EUR, with its `created` event
    assert (made.customer_id, made.stage, made.outcome) == ("c_mail", "new", "open")
    assert (made.value, made.currency, made.source) == ("1200.01", "EUR", "manual")
    assert [e.kind for e in made.events] == ["created"] and made.id.startswith("op_20260302090000")
    # And an unknown customer or stage is refused
    with pytest.raises(NotFound):
        sales.create("ws_a", OpportunityIn(customer_id="c_none", title="x"), "cli", T0)
    with pytest.raises(BadRequest):
        sales.create("ws_a", OpportunityIn(customer_id="c_1", title="x", stage="nowhere"), "cli", T0)


def test_each_field_of_a_patch_is_one_event_and_a_repeat_is_refused():
    sales, _, _ = service()
    oid = opened(sales, value="100")
    # When the owner, value, close date, a note and the stage change in one patch
    later = T0 + timedelta(hours=1)
    shown = patch(
        sales,
        oid,
        later,
        owner="ana",
        value="250",
        expected_close="2026-04-30",
        note="call",
        stage="proposal",
    )
    # Then five events, the stage last, and the head holds them
    assert [e.kind for e in shown.events] == [
        "created", "owner_changed", "value_changed", "close_date_changed", "noted", "stage_changed",
    ]  # fmt: skip
    assert (shown.owner, shown.value, shown.expected_close, shown.stage) == (
        "ana",
        "250.00",
        "2026-04-30",
        "proposal",
    )
    # And moving to the stage it is in is 409 no_change; an empty patch is 400
    with pytest.raises(OpportunityRefused) as refused:
        patch(sales, oid, later, stage="proposal")
    assert refused.value.reason == "no_change"
    with pytest.raises(BadRequest):
        patch(sales, oid, later)


def test_a_won_opportunity_links_the_first_order_placed_since_it_opened_with_the_difference():
    # Given Jane ordered before the opportunity opened and twice after
    sales, _, orders = service()
    orders.order("c_1", "shop.1", T0 - timedelta(days=1), "999")
    orders.order("c_1", "shop.3", T0 + timedelta(days=3), "50")
    orders.order("c_1", "shop.2", T0 + timedelta(days=2), "1180.40")
    oid = opened(sales, value="1200")
    # When it is won
    won = patch(sales, oid, T0 + timedelta(days=4), stage="won")
    # Then it links shop.2 (the first since it opened), actual 1180.40 beside the forecast 1200
    assert (won.outcome, won.order_id, won.actual_value, won.difference) == (
        "won",
        "shop.2",
        "1180.40",
        "-19.60",
    )
    assert won.closed_at == "2026-03-06T09:00:00.000000Z"
    linked = won.events[-1]
    assert (linked.kind, linked.data["forecast_value"]) == ("order_linked", "1200.00")


def test_a_won_opportunity_without_an_order_waits_for_the_next_one():
    # Given an opportunity in dollars (0.9 EUR each) won before the customer ordered
    sales, store, orders = service()
    oid = opened(sales, value="1000", currency="USD")
    won = patch(sales, oid, T0 + timedelta(days=1), stage="won")
    assert won.order_id is None and store.waiting("ws_a", "c_1") == [oid]
    # When the customer's order arrives (twice: the stream redelivers)
    orders.order("c_1", "shop.7", T0 + timedelta(days=2), "950")
    first = sales.on_order("ws_a", "c_1", T0 + timedelta(days=2))
    again = sales.on_order("ws_a", "c_1", T0 + timedelta(days=2))
    # Then it is linked once, reconciled in euros (950 - 900), and no longer waits
    shown = sales.show("ws_a", oid, T0 + timedelta(days=2))
    assert (first, again) == ([oid], [])
    assert (shown.order_id, shown.actual_value, shown.difference) == ("shop.7", "950.00", "50.00")
    assert [e.kind for e in shown.events].count("order_linked") == 1
    assert store.waiting("ws_a", "c_1") == []


def test_moving_a_won_opportunity_back_stops_the_wait():
    sales, store, _ = service()
    oid = opened(sales)
    patch(sales, oid, T0 + timedelta(days=1), stage="won")
    # When it is moved back to negotiation
    back = patch(sales, oid, T0 + timedelta(days=2), stage="negotiation")
    # Then it is open again, not closed, not waiting
    assert (back.outcome, back.closed_at) == ("open", None)
    assert store.waiting("ws_a", "c_1") == []


def test_an_opportunity_is_stale_after_the_workspace_days_without_an_event():
    # Given stale after 7 days, one opportunity touched at T0 and one a week later
    sales, _, _ = service()
    sales.put_stages("ws_a", StagesIn(stages=list(DEFAULT_STAGES), stale_days=7))
    quiet, busy = opened(sales, owner="ana"), opened(sales, owner="bob")
    patch(sales, busy, T0 + timedelta(days=6), note="still talking")
    # When listed 7 days after T0
    now = T0 + timedelta(days=7)
    stale = sales.listing("ws_a", now, stale=True).opportunities
    fresh = sales.listing("ws_a", now, stale=False).opportunities
    # Then only the quiet one is stale; filters by owner and stage apply
    assert [o.id for o in stale] == [quiet] and [o.id for o in fresh] == [busy]
    assert [o.id for o in sales.listing("ws_a", now, owner="bob").opportunities] == [busy]
    assert sales.listing("ws_a", now, stage="won").opportunities == []
    # And a closed one is never stale
    patch(sales, quiet, now, stage="lost")
    assert sales.listing("ws_a", now + timedelta(days=30), stale=True).opportunities == [
        o for o in sales.listing("ws_a", now + timedelta(days=30)).opportunities if o.id == busy
    ]


def test_stages_validate_and_a_stage_in_use_stays():
    # Then a won stage's probability is 1, names are unique, the first stage is open
    with pytest.raises(ValidationError):
        StagesIn.model_validate(
            {
                "stages": [
                    {"name": "a", "probability": "0.5"},
                    {"name": "w", "probability": "0.9", "won": True},
                ]
            }
        )
    with pytest.raises(ValidationError):
        StagesIn.model_validate(
            {"stages": [{"name": "w", "probability": "1", "won": True}, {"name": "a", "probability": "0.5"}]}
        )
    # Given an opportunity in `qualified`
    sales, _, _ = service()
    oid = opened(sales, stage="qualified")
    # When the stages are replaced without `qualified`
    kept = [s for s in DEFAULT_STAGES if s.name != "qualified"]
    with pytest.raises(OpportunityRefused) as refused:
        sales.put_stages("ws_a", StagesIn(stages=kept))
    # Then 409 stage_in_use, until it moves on
    assert refused.value.reason == "stage_in_use"
    patch(sales, oid, T0, stage="proposal")
    assert [s.name for s in sales.put_stages("ws_a", StagesIn(stages=kept, stale_days=0)).stages] == [
        "new", "proposal", "negotiation", "won", "lost",
    ]  # fmt: skip


def test_a_pre_sale_ticket_opens_one_opportunity_and_names_it_in_its_log():
    # Given a pre-sale ticket assigned to ana and a complaint
    tickets = FakeTicketStore()
    for tid, kind in (("tk_1", "pre_sale"), ("tk_2", "complaint")):
        data = {"subject": "Bulk price?", "kind": kind, "customer_id": "c_9", "assignee": "ana"}
        event = TicketEvent(EventKind.CREATED, T0, "cli", data)
        tickets.create(ticket_reduce("ws_a", tid, [event]), event)
    sales, _, _ = service(tickets)
    # When an opportunity is opened from the pre-sale ticket twice
    first = sales.from_ticket("ws_a", "tk_1", FromTicketIn(value=Decimal(5000)), "key:abc", T0)
    again = sales.from_ticket("ws_a", "tk_1", FromTicketIn(), "key:abc", T0 + timedelta(minutes=1))
    # Then one opportunity, the ticket's customer, subject and assignee, and one link event on the ticket
    assert first.id == again.id
    assert (first.customer_id, first.title, first.owner, first.source, first.ticket_id) == (
        "c_9", "Bulk price?", "ana", "ticket", "tk_1",
    )  # fmt: skip
    found = tickets.load("ws_a", "tk_1")
    assert found is not None
    assert [(e.kind, dict(e.data)) for e in found[1][1:]] == [
        ("opportunity_linked", {"opportunity_id": first.id})
    ]
    # And a complaint or an unknown ticket opens none
    with pytest.raises(OpportunityRefused):
        sales.from_ticket("ws_a", "tk_2", FromTicketIn(), "cli", T0)
    with pytest.raises(NotFound):
        sales.from_ticket("ws_a", "tk_none", FromTicketIn(), "cli", T0)


def test_a_segment_rule_opens_one_opportunity_per_customer_while_it_is_open():
    sales, _, _ = service()
    rule = Rule(id="high_clv", trigger="segment_entered", segment="vip", owner="bob", value=Decimal(800))
    # When the customer enters twice while it is open
    first = sales.open_from_rule("ws_a", rule, "c_1", "customer:c_1", None, T0)
    twice = sales.open_from_rule("ws_a", rule, "c_1", "customer:c_1", None, T0)
    assert first is not None and twice is None
    # Then after it is lost, entering again opens a new one
    patch(sales, first, T0 + timedelta(days=1), stage="lost")
    third = sales.open_from_rule("ws_a", rule, "c_1", "customer:c_1", None, T0 + timedelta(days=2))
    assert third not in (None, first)
    shown = sales.show("ws_a", first, T0)
    assert (shown.source, shown.owner, shown.value, shown.events[0].by) == (
        "rule:high_clv",
        "bob",
        "800.00",
        "rule:high_clv",
    )


def test_the_pipeline_counts_values_and_weights_by_stage_and_owners_won_against_targets():
    sales, _, _ = service()
    sales.put_targets("ws_a", TargetsIn.model_validate({"targets": [
        {"owner": "ana", "period": "2026-03", "amount": "2000"},
        {"owner": "bob", "period": "2026-Q1", "amount": "500"},
    ]}))  # fmt: skip
    # Given two new (33.33 and 100 USD = 90 EUR), one proposal, one won by ana in March, one lost
    opened(sales, value="33.33", owner="ana")
    opened(sales, value="100", currency="USD", owner="bob")
    opened(sales, value="101", stage="proposal", owner="ana")
    patch(sales, opened(sales, value="1500", owner="ana"), T0 + timedelta(days=1), stage="won")
    patch(sales, opened(sales, value="70", owner="bob"), T0 + timedelta(days=1), stage="lost")
    opened(sales, value="5", currency="GBP")  # no rate: not counted
    # When the March pipeline is read
    view = sales.pipeline("ws_a", "2026-03", T0 + timedelta(days=2))
    rows = {r.stage: (r.count, r.value, r.weighted) for r in view.stages}
    # Then the weighted values are rounded to cents, the forecast sums the open stages
    assert rows["new"] == (2, "123.33", "12.33") and rows["proposal"] == (1, "101.00", "50.50")
    assert rows["won"] == (1, "1500.00", "1500.00") and rows["lost"] == (1, "70.00", "0.00")
    assert (view.forecast, view.unconverted, view.currency) == ("62.83", 1, "EUR")
    owners = {o.owner: (o.won, o.target, o.share) for o in view.owners}
    assert owners == {"ana": ("1500.00", "2000.00", "0.7500")}
    # And the quarter shows bob's target, April none of March's wins
    quarter = {o.owner: (o.won, o.target) for o in sales.pipeline("ws_a", "2026-Q1", T0).owners}
    assert quarter == {"ana": ("1500.00", None), "bob": ("0.00", "500.00")}
    april = {r.stage: r.count for r in sales.pipeline("ws_a", "2026-04", T0).stages}
    assert (april["new"], april["won"]) == (2, 0)
    with pytest.raises(BadRequest):
        sales.pipeline("ws_a", "2026-13", T0)


def test_periods_and_rules_validate():
    assert period_bounds("2026-Q4") == (datetime(2026, 10, 1).date(), datetime(2027, 1, 1).date())
    assert period_bounds("2026-12") == (datetime(2026, 12, 1).date(), datetime(2027, 1, 1).date())
    with pytest.raises(ValidationError):
        RulesIn.model_validate({"rules": [{"id": "big", "trigger": "checkout_abandoned"}]})
    with pytest.raises(ValidationError):
        RulesIn.model_validate({"rules": [{"id": "x", "trigger": "segment_entered"}]})


PATCHES = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "stage": st.sampled_from([s.name for s in DEFAULT_STAGES]),
            "owner": st.sampled_from(["ana", "bob", None]),
            "value": st.decimals(min_value=0, max_value=10**6, places=3),
            "note": st.just("n"),
        },
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(patches=PATCHES, gaps=st.lists(st.integers(min_value=0, max_value=10_000), min_size=12, max_size=12))
def test_replaying_the_log_gives_the_stored_head_whatever_changes_were_refused(patches, gaps):
    # Given any sequence of patches, some refused (no change, closed), at increasing times
    sales, store, _ = service()
    oid = opened(sales)
    at = T0
    for body, gap in zip(patches, gaps, strict=False):
        at += timedelta(minutes=gap)
        with contextlib.suppress(OpportunityRefused, BadRequest):
            patch(sales, oid, at, **body)
    # Then the head is exactly the log reduced, its seq the number of events
    found = store.load("ws_a", oid)
    assert found is not None
    head, events = found
    assert reduce("ws_a", oid, events) == head and head.seq == len(events)
    # And any prefix of the log reduces to an opportunity whose closure matches its outcome
    for n in range(1, len(events) + 1):
        state = reduce("ws_a", oid, events[:n])
        assert (state.closed_at is None) == (state.outcome == Outcome.OPEN)


class RacingStore(FakeSalesStore):
    """A store where another writer acts just before this one's first write."""

    def __init__(self) -> None:
        super().__init__()
        self.before_write: list[Any] = []

    def guarded(self, workspace_id: str, guard: str) -> str | None:
        if self.before_write:
            self.before_write.pop()()
            return None  # this reader saw no guard: the other writer came in between
        return super().guarded(workspace_id, guard)

    def append(self, before: Any, events: Any, after: Any, release: Any = None, wait: Any = None) -> bool:
        while self.before_write:
            self.before_write.pop()()
        return super().append(before, events, after, release, wait)


def test_concurrent_writers_lose_no_event_and_open_one_opportunity_per_ticket():
    store, tickets = RacingStore(), FakeTicketStore()
    event = TicketEvent(
        EventKind.CREATED, T0, "cli", {"subject": "Bulk?", "kind": "pre_sale", "customer_id": "c_9"}
    )
    tickets.create(ticket_reduce("ws_a", "tk_1", [event]), event)
    sales = SalesService(store, store, Customers(), Orders(), Workspaces(), tickets)
    oid = opened(sales)
    # Given another agent notes the opportunity between this agent's read and write
    store.before_write.append(lambda: patch(sales, oid, T0, note="from bob"))
    # When this agent moves it
    moved = patch(sales, oid, T0 + timedelta(minutes=1), stage="qualified")
    # Then both events are in the log, this one checked again after the other
    assert [e.kind for e in moved.events] == ["created", "noted", "stage_changed"]
    # Given another request opens the ticket's opportunity between this one's check and write
    other: list[str] = []
    store.before_write.append(
        lambda: other.append(sales.from_ticket("ws_a", "tk_1", FromTicketIn(), "key:b", T0).id)
    )
    # When this request opens it too
    mine = sales.from_ticket("ws_a", "tk_1", FromTicketIn(), "key:a", T0)
    # Then both answer the one opportunity, and the ticket names it once
    assert other == [mine.id]
    found = tickets.load("ws_a", "tk_1")
    assert found is not None and [e.kind for e in found[1]].count(EventKind.OPPORTUNITY_LINKED) == 1


class PendingWorkspace(Workspaces):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return WorkspaceSettings(workspace_id, "", "salt")  # no currency yet


def test_segment_events_open_a_rules_opportunity_and_a_setting_gone_wrong_holds_nothing_back():
    from chalicelib.domain.sales.rules import SalesTriggers

    rules = RulesIn(rules=[Rule(id="vip", trigger="segment_entered", segment="seg_vip", owner="bob")])
    entered = {
        "type": "segment.entered",
        "workspace_id": "ws_a",
        "customer_id": "c_1",
        "at": "2026-03-02T09:00:00Z",
    }
    for workspaces, opened_count in ((Workspaces(), 1), (PendingWorkspace(), 0)):
        store = FakeSalesStore()
        sales = SalesService(store, store, Customers(), Orders(), workspaces, FakeTicketStore())
        sales.put_rules("ws_a", rules)
        triggers = SalesTriggers(sales, store, workspaces, profiles=None)  # type: ignore[arg-type]
        # When the customer enters the rule's segment (delivered twice) and another segment
        vip = entered | {"segment_id": "seg_vip"}
        triggers.publish([vip, vip, entered | {"segment_id": "seg_other"}, vip | {"type": "segment.exited"}])
        # Then one opportunity, or none (and no error) while the workspace has no currency
        assert [(o.source, o.owner) for o in store.all("ws_a")] == [("rule:vip", "bob")] * opened_count
