"""Warnings 30 and 7 days before a lot expires (domain/loyalty/expiry_warnings.py), on the
customer's local day, through a `points.expiring` flow trigger keyed per lot and warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.expiry_warnings import ExpiryWarnings
from chalicelib.domain.messaging.flow_definition import TRIGGERS, TriggerEvent
from chalicelib.domain.messaging.render import VARIABLES
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import WS, Settings, on
from tests.unit.test_points_expiry import credit, spend

LOT = date(2026, 1, 10)
DAYS = 60
EXPIRES = LOT + timedelta(days=DAYS)  # 11 Mar: the 30-day warning's local day is 9 Feb
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14, UTC-11


class Profiles:
    def __init__(self, zones: dict[str, str]) -> None:
        self.zones = zones

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        if customer_id not in self.zones:
            return None
        return replace(CustomerProfile(workspace_id, customer_id), timezone=self.zones[customer_id])

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        return {}


class Flows:
    """Runs keyed by customer and trigger key, as the flow store keys them: once each."""

    def __init__(self) -> None:
        self.events: list[TriggerEvent] = []

    def trigger(self, event: TriggerEvent) -> list[str]:
        if any((e.customer_id, e.key) == (event.customer_id, event.key) for e in self.events):
            return []
        self.events.append(event)
        return [f"warn#{event.key}"]


def warnings(zones: dict[str, str]) -> tuple[FakePointsLedger, Flows, ExpiryWarnings]:
    ledger, flows = FakePointsLedger(), Flows()
    rules = Settings(replace(on(), expiry="lots", expiry_days=DAYS))
    return ledger, flows, ExpiryWarnings(ledger, rules, Profiles(zones), flows)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_the_warning_comes_on_each_customers_local_day_once():
    # Given lots of 100 on 10 Jan for a customer east of UTC+12 and one west of UTC-10
    ledger, flows, service = warnings({"c_east": EAST, "c_west": WEST})
    credit(ledger, LOT, 100, "a", cid="c_east")
    credit(ledger, LOT, 100, "b", cid="c_west")
    # When the daily sweep runs at noon UTC from 7 to 11 Feb, twice each day
    for day in range(7, 12):
        for _ in range(2):
            service.warn(WS, at_noon(date(2026, 2, day)))
    # Then each is warned once, 30 days before the lot expires on their own calendar:
    # the east on 8 Feb's sweep (already 9 Feb there), the west on 9 Feb's
    got = [(e.customer_id, e.key, e.at.date()) for e in flows.events]
    assert got == [
        ("c_east", "2026-01-10:30", date(2026, 2, 8)),
        ("c_west", "2026-01-10:30", date(2026, 2, 9)),
    ]
    assert all(e.kind == "points.expiring" for e in flows.events)


def test_a_lot_partly_spent_warns_for_what_is_left_and_a_spent_one_not_at_all():
    # Given two customers' lots of 100 (UTC): one 60 spent, the other spent whole
    ledger, flows, service = warnings({"c_1": "UTC", "c_2": "UTC"})
    credit(ledger, LOT, 100, "a", cid="c_1")
    credit(ledger, LOT, 100, "b", cid="c_2")
    assert spend(ledger, 60, LOT, "s1", cid="c_1")
    assert spend(ledger, 100, LOT, "s2", cid="c_2")
    # When the 7-day warning's day comes
    started = service.warn(WS, at_noon(EXPIRES - timedelta(days=7)))
    # Then one warning, for the 40 left, with the day they expire
    assert started == 1 and [e.customer_id for e in flows.events] == ["c_1"]
    context = flows.events[0].context
    assert context is not None and flows.events[0].key == "2026-01-10:7"
    assert dict(context.extra) == {"points_expiring": 40, "points_expiry_date": "2026-03-11"}


def test_the_trigger_and_its_variables_are_known():
    # Given the flows' triggers and the templates' variables
    # When a flow or template names them
    # Then they are accepted
    assert "points.expiring" in TRIGGERS
    assert {"points_expiring", "points_expiry_date"} <= set(VARIABLES)


def test_a_points_expiring_run_fills_its_variables():
    # Given a run started by a warning
    from types import SimpleNamespace

    from chalicelib.domain.messaging.flow_engine import FlowEngine
    from chalicelib.domain.messaging.model import RunContext

    context = RunContext("order", extra={"points_expiring": 40, "points_expiry_date": "2026-03-11"})
    # When its send's values are made
    values = FlowEngine._values(object(), SimpleNamespace(context=context))  # type: ignore[arg-type]
    # Then the template's variables are filled
    assert values == {"points_expiring": "40", "points_expiry_date": "2026-03-11"}
