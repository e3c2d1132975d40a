"""Loyalty's flow triggers: `tier.changed` once per change of a customer's tier (its
version), carrying from and to; `points.earned` once per earning or bonus entry, never for
an adjustment, a reversal or a history import's entry; replays in any order start nothing
more (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.flow_events import LoyaltyTriggers
from chalicelib.domain.loyalty.model import ADJUSTMENT, EARN, MANUAL, REVERSE, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.rules import BONUS
from chalicelib.domain.loyalty.tiers import TierChange
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.segment_service import SegmentService
from tests.unit.fakes import FakeWorkspaces
from tests.unit.test_flows import NOON, FakeCoupons, FakeFlowStore, FakeProfiles, ana
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates

WS, CID = "ws_1", "c_000a"


def rig() -> tuple[LoyaltyTriggers, FakeFlowStore]:
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
    for event in ("tier.changed", "points.earned"):
        flows.apply(
            WS,
            {
                "id": event.replace(".", "-"),
                "name": event,
                "trigger": {"event": event},
                "steps": [{"send": {"template": "tpl_1"}}],
            },
        )
    return LoyaltyTriggers(flows), store


def change(version: int, before: str | None, after: str | None) -> TierChange:
    at = NOON + timedelta(minutes=version)
    return TierChange(WS, CID, at, before, after, "upgrade", Decimal(100))


def entry(source: str, xid: str, kind: str, points: int) -> LedgerEntry:
    return LedgerEntry(WS, CID, EntryKey(source, xid, kind), points, datetime(2026, 11, 2, tzinfo=UTC))


def test_a_tier_upgrade_starts_the_flow_once_carrying_from_and_to():
    # Given a tier.changed flow
    triggers, store = rig()
    # When the change to silver (version 1) is delivered three times
    started = [triggers.on_tier_change(change(1, None, "silver"), 1) for _ in range(3)]
    # Then one run, keyed by the version, carrying where the customer came from and went to
    assert started == [["tier-changed#tier#1"], [], []]
    run = store.get_run(WS, CID, "tier-changed#tier#1")
    assert run is not None and run.context is not None
    assert (run.context.extra["tier_from"], run.context.extra["tier_to"]) == ("", "silver")


def test_points_earned_starts_for_earnings_and_bonuses_only():
    # Given a points.earned flow
    triggers, store = rig()
    # When an earning, a bonus, a manual credit, a reversal and the historical entry arrive
    entries = [
        entry("order", "s1.1001", EARN, 122),
        entry("review", "r1", BONUS, 50),
        entry(MANUAL, "k1", ADJUSTMENT, 10),
        entry("refund", "s1.1001.r1", REVERSE, -40),
        entry("import", "historical", EARN, 300),
    ]
    started = [run for e in entries for run in triggers.on_entry(e)]
    # Then the earning and the bonus started a run each, keyed by their entries
    assert started == ["points-earned#order#s1.1001#earn", "points-earned#review#r1#bonus"]
    run = store.get_run(WS, CID, started[0])
    assert run is not None and run.context is not None and run.context.extra["points"] == 122


CHANGES = [change(1, None, "silver"), change(2, "silver", "gold"), change(3, "gold", "silver")]
ENTRIES = [entry("order", f"s1.{n}", EARN, 10 + n) for n in range(3)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(CHANGES) + len(ENTRIES))), min_size=1, max_size=20),
)
def test_replays_in_any_order_enrol_once_per_change_and_entry(deliveries):
    # Given tier.changed and points.earned flows
    triggers, store = rig()
    # When the changes and entries are delivered any number of times, in any order
    for i in deliveries:
        if i < len(CHANGES):
            triggers.on_tier_change(CHANGES[i], i + 1)
        else:
            triggers.on_entry(ENTRIES[i - len(CHANGES)])
    # Then there is exactly one run per distinct change or entry delivered
    expected = {f"tier-changed#tier#{i + 1}" for i in deliveries if i < len(CHANGES)} | {
        f"points-earned#order#s1.{i - len(CHANGES)}#earn" for i in deliveries if i >= len(CHANGES)
    }
    assert {r["id"] for r in store.items(WS, CID)} == expected
    assert len(store.items(WS, CID)) == len(expected)
