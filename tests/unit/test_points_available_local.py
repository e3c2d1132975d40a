"""`points.available` on the customer's local day, and with expiry off
(domain/loyalty/available.py, docs/loyalty.md#flow-triggers): the run is keyed by the
customer's local day at the instant the lot became available; with policy `none` the
earning lists its lot day only while an enabled flow starts on `points.available`, so a
workspace without one writes no bucket on the order path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from chalicelib.domain.loyalty.available import AvailableListing, AvailableMessages
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import available_on
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order
from tests.unit.test_points_available import Flows
from tests.unit.test_points_expiry import credit
from tests.unit.test_points_expiry_warnings import EAST, WEST, Profiles

D1 = date(2026, 3, 1)


class UsedFlows(Flows):
    """The flows, one of which (or none) starts on `points.available`."""

    def __init__(self, uses: bool) -> None:
        super().__init__(has=True)
        self.uses = uses
        self.asked = 0

    def uses_trigger(self, workspace_id: str, trigger: str) -> bool:
        self.asked += 1
        return self.uses and trigger == "points.available"


def test_the_run_is_keyed_by_the_customers_local_day_the_lot_became_available():
    # Given lots of 1 Mar (available from 00:00 UTC) for customers in UTC+14, UTC-11 and UTC
    ledger, flows = FakePointsLedger(), UsedFlows(uses=True)
    for cid in ("c_east", "c_west", "c_utc"):
        credit(ledger, D1, 100, f"k-{cid}", cid=cid)
    profiles = Profiles({"c_east": EAST, "c_west": WEST, "c_utc": "UTC"})
    rules = Settings(replace(on(), expiry="lots"))
    service = AvailableMessages(ledger, rules, flows, profiles)
    # When the daily job runs on 1 Mar, twice, and on 2 Mar (the catch-up)
    started = [service.announce(WS, d) for d in (D1, D1, D1 + timedelta(days=1))]
    # Then one run each, keyed by their own calendar's day at that instant: 14:00 on 1 Mar
    # in the east, 13:00 on 28 Feb in the west, midnight of 1 Mar in UTC
    assert started == [3, 0, 0]
    got = sorted((e.customer_id, e.key) for e in flows.events)
    assert got == [
        ("c_east", "2026-03-01:available"),
        ("c_utc", "2026-03-01:available"),
        ("c_west", "2026-02-28:available"),
    ]


def earn(flows: UsedFlows) -> tuple[FakePointsLedger, AvailableMessages]:
    """An order paid and earning with policy `none`, the settings read as the container does."""
    ledger = FakePointsLedger()
    listing = AvailableListing(Settings(on()), flows)
    written = PointsService(ledger, listing).on_order(order("100.00"), PAID_AT, CID)
    assert [e.points for e in written] == [100]
    return ledger, AvailableMessages(ledger, listing, flows, Profiles({CID: "UTC"}))


def test_with_expiry_off_a_flow_on_the_trigger_gets_its_run():
    # Given expiry off and an enabled flow starting on points.available
    flows = UsedFlows(uses=True)
    # When an order earns 100 points, pending for the 30-day return window, and the daily
    # job runs the day they become available
    ledger, service = earn(flows)
    day = available_on(PAID_AT, 30)
    started = service.announce(WS, day)
    # Then its lot day was listed with the earning, and one run starts with its points
    assert ledger.lot_days == {(WS, day): {CID}}
    assert started == 1 and flows.events[0].key == f"{day.isoformat()}:available"
    assert flows.events[0].context is not None
    assert flows.events[0].context.extra["points_available"] == 100


def test_with_expiry_off_and_no_flow_on_the_trigger_the_order_path_writes_no_bucket():
    # Given expiry off and flows, none of which starts on points.available
    flows = UsedFlows(uses=False)
    # When an order earns and the daily job runs the day its points become available
    ledger, service = earn(flows)
    started = service.announce(WS, available_on(PAID_AT, 30))
    # Then no lot-day bucket was written and nothing starts
    assert ledger.lot_days == {} and started == 0 and flows.events == []
    assert flows.asked >= 1  # (the flows' cached list was asked, not the table)
