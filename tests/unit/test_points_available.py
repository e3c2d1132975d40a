"""`points.available` (domain/loyalty/available.py): the daily sweep starts one run per
customer and lot the day pending points become available, keyed `<lot day>:available`:
sweeps replayed any number of times, on any days, start nothing more (hypothesis); a lot
spent meanwhile starts nothing; with expiry off (no lot-day buckets) nothing starts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.available import AvailableMessages
from chalicelib.domain.messaging.flow_definition import TRIGGERS, Trigger, TriggerEvent
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import WS, Settings, on
from tests.unit.test_points_expiry import credit, spend

D1 = date(2026, 3, 1)


class Flows:
    """Runs keyed by customer and trigger key, as the flow store keys them: once each."""

    def __init__(self, has: bool = True) -> None:
        self.events: list[TriggerEvent] = []
        self.has = has

    def has_flows(self, workspace_id: str) -> bool:
        return self.has

    def trigger(self, event: TriggerEvent) -> list[str]:
        if any((e.customer_id, e.key) == (event.customer_id, event.key) for e in self.events):
            return []
        self.events.append(event)
        return [f"available#{event.key}"]


def sweep(expiry: str = "lots") -> tuple[FakePointsLedger, Flows, AvailableMessages]:
    ledger, flows = FakePointsLedger(), Flows()
    rules = Settings(replace(on(), expiry=expiry, expiry_days=365))
    return ledger, flows, AvailableMessages(ledger, rules, flows)


def test_a_lot_becoming_available_starts_one_run_with_its_points():
    # Given c_1's pending lot of 120 available on 1 Mar, and c_2's of 80 on 2 Mar
    ledger, flows, service = sweep()
    credit(ledger, D1, 120, "a", cid="c_1")
    credit(ledger, D1 + timedelta(days=1), 80, "b", cid="c_2")
    # When the daily sweep runs on 28 Feb, 1 Mar (twice) and 2 Mar
    started = [service.announce(WS, day) for day in (D1 - timedelta(days=1), D1, D1, D1 + timedelta(days=1))]
    # Then each lot starts one run on its day (the next day's catch-up finds it), with its points
    assert started == [0, 1, 0, 1]
    got = [(e.kind, e.customer_id, e.key, e.context.extra["points_available"]) for e in flows.events]  # type: ignore[union-attr]
    assert got == [
        ("points.available", "c_1", "2026-03-01:available", 120),
        ("points.available", "c_2", "2026-03-02:available", 80),
    ]
    assert "points.available" in TRIGGERS
    assert Trigger(event="points.available").event == "points.available"


def test_a_spent_lot_expiry_off_or_no_flows_start_nothing():
    # Given a lot of 100 on 1 Mar spent whole (expiry on), the same with expiry off, and
    # a workspace without flows
    ledger, flows, service = sweep()
    credit(ledger, D1 - timedelta(days=5), 100, "a")
    assert spend(ledger, 100, D1 - timedelta(days=5), "s")
    off_ledger, off_flows, off = sweep("none")
    credit(off_ledger, D1, 100, "a")
    quiet_ledger, _, _ = sweep()
    credit(quiet_ledger, D1, 100, "a")
    quiet = AvailableMessages(quiet_ledger, Settings(replace(on(), expiry="lots")), Flows(has=False))
    # When the sweeps run on the lots' days
    started = [service.announce(WS, D1 - timedelta(days=5)), off.announce(WS, D1), quiet.announce(WS, D1)]
    # Then none starts a run
    assert started == [0, 0, 0]
    assert flows.events == [] and off_flows.events == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=20))
def test_sweeps_replayed_on_any_days_start_one_run_per_lot(days):
    # Given lots on three days for two customers
    ledger, flows, service = sweep()
    lots = {("c_1", 0): 10, ("c_2", 0): 20, ("c_1", 2): 30, ("c_2", 5): 40}
    for (cid, offset), points in lots.items():
        credit(ledger, D1 + timedelta(days=offset), points, f"{cid}-{offset}", cid=cid)
    # When the sweep runs on the given days, in any order, any number of times
    for offset in days:
        service.announce(WS, D1 + timedelta(days=offset))
    # Then one run per lot whose day (or the day after) was swept, never two
    swept = set(days)
    expected = {(cid, o) for (cid, o) in lots if o in swept or o + 1 in swept}
    got = [(e.customer_id, (date.fromisoformat(e.key.split(":")[0]) - D1).days) for e in flows.events]
    assert sorted(got) == sorted(expected)
