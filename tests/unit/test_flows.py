"""Flows against fakes: definitions, waits in local time, caps, failures, exits, races."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.flows import SHARDS, context_item, context_of, run_from_item, run_item
from chalicelib.adapters.profile_items import guest_profile, profile_of
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, Conflict
from chalicelib.domain.messaging.flow_definition import (
    IssuedCoupon,
    StoredFlow,
    TriggerEvent,
    Wait,
    next_birthday,
    parse_flow,
)
from chalicelib.domain.messaging.flow_engine import MAX_ATTEMPTS, coupon_code
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import FlowRun
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.segment_service import SegmentService
from tests.unit.fakes import FakeWorkspaces
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class FakeFlowStore:
    def __init__(self) -> None:
        self.definitions: dict[tuple[str, str], StoredFlow] = {}
        self.runs_: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.reentry: dict[tuple[str, str, str], str] = {}
        self.mark: str | None = None

    def put_flow(self, ws: str, flow: StoredFlow, expected_version: int | None) -> None:
        current = self.definitions.get((ws, flow.id))
        if (current.version if current else None) != expected_version:
            raise Conflict("flow changed")  # as the adapter's versioned put
        self.definitions[(ws, flow.id)] = copy.deepcopy(flow)

    def flow(self, ws: str, flow_id: str) -> StoredFlow | None:
        return self.definitions.get((ws, flow_id))

    def flows(self, ws: str) -> list[StoredFlow]:
        return [f for (w, _), f in self.definitions.items() if w == ws]

    # runs are kept as the DynamoDB adapter lays them out (adapters/flows.py's mapping)
    def start_run(self, run: FlowRun) -> bool:
        key = (run.workspace_id, run.customer_id, run.run_id)
        if key in self.runs_:
            return False
        self.runs_[key] = run_item(copy.deepcopy(run))
        return True

    def take_reentry(self, ws: str, cid: str, flow_id: str, at: str, cutoff: str) -> bool:
        last = self.reentry.get((ws, cid, flow_id))
        if last is not None and last >= cutoff:
            return False
        self.reentry[(ws, cid, flow_id)] = at
        return True

    def runs(self, ws: str, cid: str) -> list[FlowRun]:
        return [run_from_item(copy.deepcopy(r)) for r in self.items(ws, cid)]

    def get_run(self, ws: str, cid: str, run_id: str) -> FlowRun | None:
        item = self.runs_.get((ws, cid, run_id))
        return run_from_item(copy.deepcopy(item)) if item else None

    def save_run(self, run: FlowRun, expected_step: int, expected_due: str | None) -> bool:
        key = (run.workspace_id, run.customer_id, run.run_id)
        stored = self.runs_[key]
        if stored["step"] != expected_step or stored["due"] != expected_due or stored["st"] != "active":
            return False
        self.runs_[key] = run_item(copy.deepcopy(run))
        return True

    def due(self, day: date, until: str) -> Iterator[tuple[str, str, str]]:
        for shard in range(SHARDS):
            bucket = f"F#{day:%Y-%m-%d}#{shard:02d}"
            for (w, c, _), r in list(self.runs_.items()):
                if r["st"] == "active" and r.get("rk") == bucket and r["due"] <= until:
                    yield w, c, r["id"]

    # what the tests read: the stored items
    def item(self, ws: str, cid: str, run_id: str) -> dict[str, Any]:
        return self.runs_[(ws, cid, run_id)]

    def items(self, ws: str, cid: str) -> list[dict[str, Any]]:
        return [r for (w, c, _), r in self.runs_.items() if (w, c) == (ws, cid)]

    def watermark(self) -> str | None:
        return self.mark

    def set_watermark(self, until: str) -> None:
        self.mark = max(self.mark or "", until)


class FakeCoupons:
    def __init__(self) -> None:
        self.issued: dict[str, IssuedCoupon] = {}

    def issue(self, ws: str, coupon: IssuedCoupon) -> IssuedCoupon:
        return self.issued.setdefault(coupon.code, coupon)


class FakeProfiles:
    def __init__(self, *profiles: dict[str, Any]) -> None:
        self.items = {p["cid"]: p for p in profiles}

    def get(self, ws: str, cid: str) -> dict[str, Any] | None:
        return self.items.get(cid)

    def load(self, ws: str, cid: str) -> CustomerProfile | None:
        item = self.items.get(cid)
        return profile_of(item) if item is not None else None

    def guest(self, ws: str, cid: str, contact: Mapping[str, Any]) -> CustomerProfile:
        return guest_profile(ws, cid, contact)


def ana(**extra: Any) -> dict[str, Any]:
    return {
        "t": "profile",
        "ws": "ws_1",
        "cid": "c_000a",
        "fn": "Ana",
        "e": "ana@example.com",
        "tz": "Europe/Paris",
        "ce": {"s": "subscribed"},
        "ca": "2026-01-01T00:00:00.000000Z",
        "o": {},
        **extra,
    }


@pytest.fixture
def world():
    store, ledger, limits, channels = FakeFlowStore(), FakeLedger(), FakeLimits(), FakeChannels()
    workspaces = FakeWorkspaces("ws_1")
    messaging = MessagingService(ledger, limits, channels, FakeTemplates())
    profiles = FakeProfiles(ana())
    service = FlowService(
        store,
        messaging,
        profiles,
        SegmentService(None, profiles, workspaces, None),
        workspaces,
        FakeTemplates(),
        FakeCoupons(),
        clock=lambda: NOON,
    )
    return service, store, channels, profiles


def flow(flow_id: str = "nudge", **extra: Any) -> dict[str, Any]:
    return {
        "id": flow_id,
        "name": flow_id.title(),
        "trigger": {"event": "checkout.started"},
        "exit_on": ["ordered"],
        "steps": [{"wait": {"hours": 1}}, {"send": {"template": "tpl_1"}}],
        **extra,
    }


def start(service: FlowService, key: str = "k1", at: datetime = NOON, kind: str = "checkout.started") -> list:
    return service.trigger(TriggerEvent(kind, "ws_1", "c_000a", key, at))


# -- definitions ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": [{"wait": {"hours": 1}, "send": {"template": "tpl_1"}}]}, "steps.0"),
        ({"steps": [{"wait": {"hours": 1}}]}, "flow"),
        ({"trigger": {"event": "segment.entered"}}, "trigger"),
        ({"conditions": "orders_count >> 2"}, "conditions"),
        ({"steps": [{"send": {"template": "tpl_1", "when": "nonsense_field = 1"}}]}, "steps.0.send.when"),
        ({"steps": [{"wait": {"until_local": "25:00"}}, {"send": {"template": "tpl_1"}}]}, "steps.0.wait"),
        ({"steps": [{"send": {"template": "tpl_1", "coupon": {"valid_hours": 2}}}]}, "steps.0.send.coupon"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(change, field):
    with pytest.raises(BadRequest) as caught:
        parse_flow(flow(**change))
    assert caught.value.details[0]["field"].startswith(field)


def test_waits_end_at_the_next_local_time_asked_for():
    paris = ZoneInfo("Europe/Paris")
    # 12:00 UTC is 13:00 in Paris: one hour later is 14:00, so "10:00" is tomorrow morning
    assert Wait(hours=1, until_local="10:00").until(NOON, paris) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert Wait(days=2).until(NOON, paris) == NOON + timedelta(days=2)
    assert Wait(until_local="18:30").until(NOON, paris) == datetime(2026, 11, 23, 17, 30, tzinfo=UTC)


def test_birthdays_come_round_including_29_february():
    assert next_birthday("01-05", date(2026, 11, 23)) == date(2027, 1, 5)
    assert next_birthday("11-23", date(2026, 11, 23)) == date(2026, 11, 23)
    assert next_birthday("02-29", date(2027, 1, 1)) == date(2027, 2, 28)
    assert next_birthday("02-29", date(2028, 1, 1)) == date(2028, 2, 29)


def test_coupon_codes_are_stable_per_message_and_differ_between_messages():
    assert coupon_code("salt", "m1", "BACK") == coupon_code("salt", "m1", "BACK")
    assert coupon_code("salt", "m1", "BACK") != coupon_code("salt", "m2", "BACK")
    assert coupon_code("salt", "m1", "") != coupon_code("pepper", "m1", "")


# -- running ----------------------------------------------------------------------------
def test_a_trigger_enrolls_once_and_the_tick_sends_after_the_wait(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow())
    # Given the same checkout seen three times
    assert start(service) == ["nudge#k1"]
    assert start(service) == [] and start(service) == []
    # When ticks run before and after the hour (13:00 and 13:05 UTC: 14:00 in Paris)
    service.tick(NOON + timedelta(minutes=30))
    assert channels.sent == []
    service.tick(NOON + timedelta(hours=1, minutes=5))
    service.tick(NOON + timedelta(hours=1, minutes=6))
    # Then one message, and the run is done
    assert [m["to"] for m in channels.sent] == ["ana@example.com"]
    assert store.item("ws_1", "c_000a", "nudge#k1")["st"] == "done"


def test_the_cap_defers_a_second_flow_to_the_next_morning_in_local_time(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow("first"))
    service.apply("ws_1", flow("second", trigger={"event": "order.placed"}, exit_on=[]))
    # Given a medium-engagement customer (one marketing message a day) in two flows
    start(service)
    start(service, kind="order.placed")
    # When both fall due
    result = service.tick(NOON + timedelta(hours=1, minutes=5))
    # Then one is sent and the other waits for 09:00 in Paris tomorrow (08:00 UTC)
    assert len(channels.sent) == 1 and result["done"] == 1 and result["waiting"] == 1
    assert result["messages"] == {"sent": 1, "deferred": 1}
    waiting = next(r for r in store.items("ws_1", "c_000a") if r["st"] == "active")
    assert waiting["due"].startswith("2026-11-24T08:00:00")
    service.tick(datetime(2026, 11, 24, 8, 1, tzinfo=UTC))
    assert len(channels.sent) == 2


def test_an_order_after_the_start_ends_the_run_before_sending(world):
    service, store, channels, profiles = world
    service.apply("ws_1", flow())
    start(service)
    # When the customer orders 20 minutes after the checkout, seen only on the profile
    profiles.items["c_000a"]["last"] = "2026-11-23T12:20:00Z"
    service.tick(NOON + timedelta(hours=2))
    # Then the run exits and nothing is sent
    run = store.item("ws_1", "c_000a", "nudge#k1")
    assert channels.sent == [] and run["st"] == "exited" and run["why"] == "ordered"


def test_an_exit_event_ends_only_runs_that_exit_on_it_and_not_for_the_starting_order(world):
    service, store, _, _ = world
    service.apply("ws_1", flow())
    service.apply("ws_1", flow("thanks", trigger={"event": "order.placed"}, exit_on=["ordered"]))
    start(service)
    start(service, key="o1", kind="order.placed", at=NOON + timedelta(minutes=5))
    # When the order that started "thanks" is reported as an exit event
    ended = service.on_exit_event("ws_1", "c_000a", "ordered", NOON + timedelta(minutes=5))
    # Then only the checkout's run ends
    assert ended == ["nudge#k1"]
    assert store.item("ws_1", "c_000a", "thanks#o1")["st"] == "active"


def test_flow_conditions_and_step_conditions(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow(conditions="orders_count = 0"))
    service.apply(
        "ws_1",
        flow(
            "members-only",
            trigger={"event": "order.placed"},
            exit_on=[],
            steps=[{"send": {"template": "tpl_1", "when": "is_member = true"}}],
        ),
    )
    start(service)
    start(service, key="o1", kind="order.placed")
    # Given the customer has an order by now (with no order time: no "ordered" exit)
    service.profiles.items["c_000a"]["n"] = 1
    service.tick(NOON + timedelta(hours=2))
    # Then the first run exits on its condition, the second skips its step: nothing sent
    assert channels.sent == []
    assert store.item("ws_1", "c_000a", "nudge#k1")["why"] == "conditions no longer met"
    skipped = store.item("ws_1", "c_000a", "members-only#o1")
    assert skipped["st"] == "done" and skipped["log"][0]["status"] == "skipped"


def test_cross_sell_offers_only_what_is_next_and_not_yet_bought(world):
    service, _, channels, profiles = world
    offers = [
        {"after": "vol-1", "offer": "vol-2", "name": "Volume 2"},
        {"after": "vol-2", "offer": "vol-3", "name": "Volume 3"},
    ]
    steps = [{"send": {"template": "tpl_1", "recommend": offers}}]
    service.apply("ws_1", flow("series", trigger={"event": "order.placed"}, exit_on=[], steps=steps))
    profiles.items["c_000a"]["o"] = {"s#1": {"v": 1, "p": ["vol-1", "vol-2"], "t": 1}}
    start(service, key="o1", kind="order.placed")
    profiles.items["c_000b"] = ana(
        cid="c_000b", e="bo@example.com", o={"s#2": {"v": 1, "p": ["vol-3"], "t": 1}}
    )
    service.trigger(TriggerEvent("order.placed", "ws_1", "c_000b", "o2", NOON))
    service.tick(NOON + timedelta(minutes=1))
    # Then Ana (vol. 1 and 2) is offered vol. 3, and Bo (vol. 3 only) nothing
    assert [m["to"] for m in channels.sent] == ["ana@example.com"]


def test_a_failing_run_is_retried_with_backoff_then_parked_and_others_go_on(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow(steps=[{"send": {"template": "tpl_1"}}]))
    start(service)
    service.profiles.items["c_000b"] = ana(cid="c_000b", e="bo@example.com")
    service.trigger(TriggerEvent("checkout.started", "ws_1", "c_000b", "k2", NOON))
    original = channels.send_email

    def broken_for_ana(sender, to, *args):
        if to == "ana@example.com":
            raise RuntimeError("provider down")
        return original(sender, to, *args)

    channels.send_email = broken_for_ana
    # When the tick runs: Ana's send fails, Bo's goes out
    result = service.tick(NOON + timedelta(minutes=1))
    assert result["failed"] == 1 and [m["to"] for m in channels.sent] == ["bo@example.com"]
    assert result["errors"] == [{"run": "nudge#k1", "error": "RuntimeError"}]
    run = store.item("ws_1", "c_000a", "nudge#k1")
    assert run["st"] == "active" and run["tries"] == 1 and run["due"] > "2026-11-23T12:02"
    # When it keeps failing, it is parked after MAX_ATTEMPTS, kept with its error
    at = NOON
    for _ in range(MAX_ATTEMPTS):
        at += timedelta(days=1)
        service.tick(at)
    run = store.item("ws_1", "c_000a", "nudge#k1")
    assert run["st"] == "failed" and run["tries"] == MAX_ATTEMPTS and "provider down" in run["err"]


def test_two_ticks_racing_on_one_run_send_once(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow(steps=[{"send": {"template": "tpl_1"}}]))
    start(service)
    # Given two ticks that both read the run while it was due
    stale = store.get_run("ws_1", "c_000a", "nudge#k1")
    service.advance(store.get_run("ws_1", "c_000a", "nudge#k1"), NOON + timedelta(minutes=1))
    # When the slower one advances its stale copy
    outcome = service.advance(stale, NOON + timedelta(minutes=1))
    # Then the message went once (the ledger), and the stale save lost (the condition)
    assert len(channels.sent) == 1 and outcome.status == "retry"
    assert store.item("ws_1", "c_000a", "nudge#k1")["log"][0]["status"] == "sent"


def test_reentry_window_limits_how_often_a_customer_enters(world):
    service, _, _, _ = world
    service.apply("ws_1", flow(reentry_days=90))
    assert start(service, key="k1") == ["nudge#k1"]
    assert start(service, key="k2", at=NOON + timedelta(days=30)) == []
    assert start(service, key="k3", at=NOON + timedelta(days=91)) == ["nudge#k3"]


def test_a_disabled_flow_starts_nothing_and_its_runs_exit(world):
    service, store, channels, _ = world
    service.apply("ws_1", flow())
    start(service)
    service.apply("ws_1", flow(enabled=False))
    assert start(service, key="k2") == []
    service.tick(NOON + timedelta(hours=2))
    assert channels.sent == [] and store.item("ws_1", "c_000a", "nudge#k1")["st"] == "exited"


@pytest.mark.parametrize(
    "stored",
    [
        {"num": "1001", "products": ["Mug"]},
        {"num": "1002", "products": None},
        {"num": "1003", "products": ["Mug"], "prd": ["src_1", "42"]},  # the first line's product
        {"url": None, "total": None, "cur": None, "products": None, "p": {}},
        {
            "url": "https://shop.example/recover/k1",
            "total": Decimal("19.90"),
            "cur": "EUR",
            "products": ["Mug", "Tea"],
            "p": {"e": "ana@example.com", "ce": {"s": "subscribed", "at": "2026-11-23T12:00:00.000000Z"}},
            "prd": ["src_1", "42"],
        },
    ],
)
def test_a_run_context_read_and_written_back_is_what_was_stored(stored):
    # Given a run's context as the triggers have always stored it (an order's, a checkout's)
    context = context_of(stored)
    # When the flow engine reads it typed and the store writes it back
    assert context is not None and context.kind == ("order" if "num" in stored else "checkout")
    assert context.product == (tuple(stored["prd"]) if "prd" in stored else None)
    # Then it is the same map, key for key (no stored layout changes)
    assert context_item(context) == stored
