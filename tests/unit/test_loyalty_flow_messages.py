"""Loyalty's messages at the redemption and reversal steps: `points.redeemed` once per
redemption entry (never its give-back, nor a redemption the store failed and gave back),
carrying the code, the points and the money value; `points.reversed` once per refund's or
cancellation's reversal taking points back; replays in any order start nothing more
(hypothesis); the send renders the redemption's code and value."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.flow_events import LoyaltyTriggers, messaged
from chalicelib.domain.loyalty.model import (
    ADJUSTMENT,
    CANCEL,
    EARN,
    MANUAL,
    REDEEM,
    RESTORE,
    REVERSE,
    EntryKey,
    LedgerEntry,
)
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.segment_service import SegmentService
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fakes import FakeWorkspaces
from tests.unit.test_flows import NOON, FakeCoupons, FakeFlowStore, FakeProfiles, ana
from tests.unit.test_loyalty_flow_events import CID, WS
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates

AT = datetime(2026, 11, 2, tzinfo=UTC)
EVENTS = ("points.earned", "points.redeemed", "points.reversed")


def rig() -> tuple[LoyaltyTriggers, FakeFlowStore, FakePointsLedger]:
    store, workspaces, profiles = FakeFlowStore(), FakeWorkspaces(WS), FakeProfiles(ana())
    messaging = MessagingService(FakeLedger(), FakeLimits(), FakeChannels(), FakeTemplates())
    flows = FlowService(
        store,
        messaging,
        profiles,
        SegmentService(None, profiles, workspaces, None),
        workspaces,
        FakeTemplates(),
        FakeCoupons(),
        clock=lambda: NOON,
    )
    for event in EVENTS:
        flows.apply(
            WS,
            {
                "id": event.replace(".", "-"),
                "name": event,
                "trigger": {"event": event},
                "steps": [{"send": {"template": "tpl_1"}}],
            },
        )
    ledger = FakePointsLedger()
    return LoyaltyTriggers(flows, ledger), store, ledger


def entry(source: str, xid: str, kind: str, points: int, **more) -> LedgerEntry:
    return LedgerEntry(WS, CID, EntryKey(source, xid, kind), points, AT, **more)


def redemption(xid: str, points: int = 500, code: str | None = "PTS-ABCD2345") -> LedgerEntry:
    return entry(REDEEM, xid, REDEEM, -points, amount=Decimal("5.00"), currency="EUR", code=code)


def test_a_redemption_starts_its_flow_once_carrying_code_points_and_value():
    # Given points.earned, points.redeemed and points.reversed flows
    triggers, store, _ = rig()
    # When a redemption of 500 points for a 5.00 EUR code is delivered three times
    started = [triggers.on_entry(redemption("k1")) for _ in range(3)]
    # Then one points.redeemed run, keyed by the entry, carrying the code, points and value
    assert started == [["points-redeemed#redeem#k1#redeem"], [], []]
    run = store.get_run(WS, CID, "points-redeemed#redeem#k1#redeem")
    assert run is not None and run.context is not None
    assert dict(run.context.extra) == {
        "points_redeemed": 500,
        "redeemed_value": "5.00 EUR",
        "coupon_code": "PTS-ABCD2345",
    }


def test_store_credit_carries_no_code_and_a_given_back_redemption_starts_nothing():
    # Given the flows, a redemption for store credit, and one the store failed and gave back
    triggers, store, ledger = rig()
    credit = redemption("k1", code=None)
    failed = redemption("k2")
    ledger.adjust(replace(failed, key=EntryKey(REDEEM, "k2", RESTORE), points=500))
    give_back = replace(failed, key=EntryKey(REDEEM, "k2", RESTORE), points=500)
    # When both redemptions and the give-back itself are delivered
    started = [triggers.on_entry(e) for e in (credit, failed, give_back)]
    # Then only the store credit started a run, with no code in its context
    assert started == [["points-redeemed#redeem#k1#redeem"], [], []]
    run = store.get_run(WS, CID, started[0][0])
    assert run is not None and run.context is not None and "coupon_code" not in run.context.extra


def test_reversals_start_points_reversed_and_nothing_else_does():
    # Given the flows
    triggers, store, _ = rig()
    # When a refund's reversal, a cancellation, a zero reversal (a tiny refund), a manual
    # debit and a manual credit arrive
    entries = [
        entry("refund", "s1.1001.r1", REVERSE, -40),
        entry("order", "s1.1002", CANCEL, -82),
        entry("refund", "s1.1003.r1", REVERSE, 0),
        entry(MANUAL, "k9", ADJUSTMENT, -10),
        entry(MANUAL, "k8", ADJUSTMENT, 10),
    ]
    started = [run for e in entries for run in triggers.on_entry(e)]
    # Then the refund's and the cancellation's reversals started a run each, with the points
    # taken back as a positive number
    assert started == ["points-reversed#refund#s1.1001.r1#reverse", "points-reversed#order#s1.1002#cancel"]
    run = store.get_run(WS, CID, started[1])
    assert run is not None and run.context is not None
    assert run.context.extra["points_reversed"] == 82
    assert [messaged(e) for e in entries] == [True, True, False, False, False]


ENTRIES = [
    entry("order", "s1.1", EARN, 100),
    redemption("k1"),
    redemption("k2", 200),
    entry("refund", "s1.1.r1", REVERSE, -30),
    entry("order", "s1.1", CANCEL, -70),
    entry(REDEEM, "k1", RESTORE, 500),
]
EXPECTED = [
    "points-earned#order#s1.1#earn",
    "points-redeemed#redeem#k1#redeem",
    "points-redeemed#redeem#k2#redeem",
    "points-reversed#refund#s1.1.r1#reverse",
    "points-reversed#order#s1.1#cancel",
    None,  # a give-back starts nothing
]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(range(len(ENTRIES))), min_size=1, max_size=25))
def test_replays_in_any_order_start_one_run_per_entry(deliveries):
    # Given the earned, redeemed and reversed flows
    triggers, store, _ = rig()
    # When the entries are delivered any number of times, in any order
    for i in deliveries:
        triggers.on_entry(ENTRIES[i])
    # Then there is exactly one run per distinct entry delivered that messages
    expected = {EXPECTED[i] for i in deliveries} - {None}
    runs = [r["id"] for r in store.items(WS, CID)]
    assert sorted(runs) == sorted(expected)


def test_the_redeemed_flow_sends_the_redemptions_code():
    # Given a points.redeemed flow whose template shows `{{ coupon_code }}` (FakeTemplates)
    triggers, _, _ = rig()
    channels = triggers.flows.messaging.channels
    # When the redemption is delivered twice and the flow's send falls due
    triggers.on_entry(redemption("k1"))
    triggers.on_entry(redemption("k1"))
    triggers.flows.tick(NOON)
    # Then one email carries the redemption's own code (not a new coupon)
    assert [m["html"] for m in channels.sent] == ["<p>PTS-ABCD2345</p>"]


def test_the_crm_streams_filter_passes_redemptions_and_reversals_to_the_triggers():
    # Given the regional stack's wiring
    wiring = json.loads((Path(__file__).parents[2] / "infra" / "wiring.json").read_text())
    (source,) = wiring["Resources"]["ProfileStream"]["Properties"]["Events"].values()
    patterns = [json.loads(f["Pattern"]) for f in source["Properties"]["FilterCriteria"]["Filters"]]
    # When the ledger entries' pattern is read
    images = [p["dynamodb"].get("NewImage", {}) for p in patterns]
    (ledger,) = [image for image in images if image.get("t", {}).get("S") == ["pts"]]
    # Then it passes the inserts of earnings, bonuses, redemptions and reversals, of either
    # sign but not zero, and stays within Lambda's five filters per mapping
    assert set(ledger["k"]["S"]) == {"earn", "bonus", "redeem", "reverse", "cancel"}
    assert ledger["p"]["N"] == [{"numeric": [">", 0]}, {"numeric": ["<", 0]}]
    assert len(patterns) <= 5
