"""Tiers: rules validated, up at once on the qualifying order, down only on the scheduled
evaluation after the grace period, manual moves audited, the preview, the earning's
multiplier, and the incremental path equal to a recomputation from scratch (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import NotFound
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.adjust import PointsRefused
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import EARN, EntryKey
from chalicelib.domain.loyalty.tier_service import TierMoveIn, TierService, view_json
from chalicelib.domain.loyalty.tiers import Tier, TierRules, recompute, rules_from_json, rules_json
from chalicelib.domain.models import OrderStatus
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, order

RULES = TierRules(
    tiers=(
        Tier("silver", Decimal(100), Decimal(80), Decimal("1.5")),
        Tier("gold", Decimal(500), Decimal(400), Decimal(2), True, Decimal(10)),
    ),
    measure="net_spend",
    window="trailing",
    window_days=365,
    grace_days=30,
)


def paid(total: str, at: datetime, order_id: str, refunds=(), status=OrderStatus.PAID) -> IngestChange:
    change = order(total, status, refunds, order_id=order_id)
    image = change.order
    assert image is not None
    return IngestChange(after=replace(image, snapshot=replace(image.snapshot, created_at=at)))


class Rig:
    def __init__(self, rules: TierRules = RULES) -> None:
        self.settings = Settings()
        self.settings.value = replace(self.settings.value, tiers=rules)
        self.ledger, self.store = FakePointsLedger(), FakeTierStore()
        self.points = PointsService(self.ledger, self.settings, tiers=self.store)
        self.tiers = TierService(self.store, self.ledger, self.settings)

    def apply(self, change: IngestChange, now: datetime) -> None:
        self.points.on_order(change, now, CID)
        self.tiers.on_order(change, now, CID)

    def tier(self) -> str | None:
        return self.store.tier_of(WS, CID)


def test_rules_are_validated_and_round_trip_through_json():
    # Given rules as JSON, and broken ones
    # When they are read and written back
    again = rules_from_json(rules_json(RULES))
    # Then the same rules come back, and every broken rule is refused with its reason
    assert again == RULES
    bad = [
        {"tiers": [{"name": "a", "enter": 10, "keep": 20}]},
        {"tiers": [{"name": "a", "enter": 10}, {"name": "b", "enter": 5}]},
        {"tiers": [{"name": "a", "enter": 10}, {"name": "a", "enter": 20}]},
        {"measure": "visits"},
        {"window": "weekly"},
        {"tiers": [{"name": "a", "enter": 10, "discount_percent": 101}]},
        {"tiers": [{"name": "a", "enter": "ten"}]},
        {"grace": 3},
    ]
    for raw in bad:
        with pytest.raises(ValueError):
            rules_from_json(raw)


def test_the_qualifying_order_upgrades_at_once_and_the_next_order_earns_at_the_tier_rate():
    # Given a customer without a tier
    rig = Rig()
    # When a paid order of 120 EUR arrives (twice: a replay)
    for _ in range(2):
        rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    # Then they are silver at once, audited once; their next order earns at 1.5
    assert rig.tier() == "silver"
    assert [(c.before, c.after, c.kind) for c in rig.store.changes(WS, CID)] == [(None, "silver", "upgrade")]
    rig.apply(paid("10.00", PAID_AT + timedelta(days=1), "2"), PAID_AT + timedelta(days=1))
    earning = rig.ledger.entry(WS, CID, EntryKey("order", "s1.2", EARN))
    assert earning is not None and (earning.rate, earning.points) == (Decimal("1.5"), 15)


def test_a_refund_never_downgrades_until_the_evaluation_after_the_grace_period():
    # Given a silver customer whose order is then mostly refunded
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    refund = (("r1", "60.00", PAID_AT + timedelta(days=2)),)
    rig.apply(
        paid("120.00", PAID_AT, "1", refund, OrderStatus.PARTIALLY_REFUNDED), PAID_AT + timedelta(days=2)
    )
    assert rig.tier() == "silver"
    # When the evaluation runs on day 3 (grace starts), day 32 and day 33
    day = PAID_AT + timedelta(days=3)
    rig.tiers.evaluate(WS, day)
    state = rig.store.get(WS, CID)
    assert state is not None and (state.tier, state.below_since) == ("silver", day.date())
    rig.tiers.evaluate(WS, day + timedelta(days=29))
    assert rig.tier() == "silver"
    counts = rig.tiers.evaluate(WS, day + timedelta(days=30))
    # Then the downgrade happens only once the 30 days of grace have passed, audited
    assert rig.tier() is None and counts["downgraded"] == 1
    assert [c.kind for c in rig.store.changes(WS, CID)] == ["upgrade", "downgrade"]


def test_back_above_keep_during_grace_ends_the_grace():
    # Given a silver customer below the keep threshold since an evaluation
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    rig.apply(
        paid("120.00", PAID_AT, "1", (("r1", "60.00", PAID_AT),), OrderStatus.PARTIALLY_REFUNDED), PAID_AT
    )
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=1))
    # When an order brings them to 80 (the keep threshold) and the evaluations go on
    rig.apply(paid("20.00", PAID_AT + timedelta(days=2), "2"), PAID_AT + timedelta(days=2))
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=3))
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=60))
    # Then they keep silver, the grace cleared
    state = rig.store.get(WS, CID)
    assert state is not None and (state.tier, state.below_since) == ("silver", None)


def test_a_manual_move_is_audited_and_holds_for_its_stated_days():
    # Given a customer with a small order
    rig = Rig()
    rig.tiers.profiles = None
    rig.apply(paid("10.00", PAID_AT, "1"), PAID_AT)
    # When an operator moves them to gold for 60 days
    body = TierMoveIn(tier="gold", reason="VIP complaint", hold_days=60)
    view = rig.tiers.move(WS, CID, body, "cli", PAID_AT)
    # Then the move is audited with actor and reason, and no downgrade comes before day 60
    assert view_json(view)["benefits"]["free_shipping"] is True
    (change,) = [c for c in rig.store.changes(WS, CID) if c.kind == "manual"]
    assert (change.before, change.after, change.actor, change.reason) == (
        None,
        "gold",
        "cli",
        "VIP complaint",
    )
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=59))
    assert rig.tier() == "gold"
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=60))  # grace starts (30 days)
    rig.tiers.evaluate(WS, PAID_AT + timedelta(days=90))
    assert rig.tier() is None
    # And an unknown tier or the same tier is refused with a reason
    for tier, reason in (("platinum", "unknown_tier"), (None, "same_tier")):
        with pytest.raises(PointsRefused) as refused:
            rig.tiers.move(WS, CID, TierMoveIn(tier=tier, reason="x"), "cli", PAID_AT)
        assert refused.value.reason == reason


def test_the_preview_shows_who_would_move_and_writes_nothing():
    # Given a silver customer (120) and one without a tier (60)
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    rig.points.on_order(paid("60.00", PAID_AT, "2"), PAID_AT, "c_2")
    rig.tiers.on_order(paid("60.00", PAID_AT, "2"), PAID_AT, "c_2")
    before = dict(rig.store.states_)
    # When thresholds change: silver from 50, gold from 110 (keep 100)
    new = rules_from_json(
        {"tiers": [{"name": "silver", "enter": 50}, {"name": "gold", "enter": 110, "keep": 100}]}
    )
    seen = rig.tiers.preview(WS, new, PAID_AT)
    # Then both would move up, and nothing was written
    assert seen["up"] == {"count": 2, "sample": ["c_1", "c_2"]}
    assert seen["down"]["count"] == 0 and rig.store.states_ == before
    # And raising silver above their value shows the silver customer going down
    higher = rules_from_json({"tiers": [{"name": "silver", "enter": 300, "keep": 200}]})
    assert rig.tiers.preview(WS, higher, PAID_AT)["down"] == {"count": 1, "sample": ["c_1"]}


def test_the_tier_read_shows_benefits_and_progress_and_refuses_without_tiers():
    # Given a silver customer at 120
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    # When their tier is read
    seen = view_json(rig.tiers.view(WS, CID, PAID_AT))
    # Then it shows the tier, its benefits and what is needed for gold
    assert (seen["tier"], seen["benefits"]["points_multiplier"]) == ("silver", "1.5")
    assert seen["progress"] == {"next_tier": "gold", "needed": "380.00", "value": "120.00"}
    # And a workspace without tiers refuses with a reason; an unknown customer is 404
    bare = Rig(TierRules())
    with pytest.raises(PointsRefused) as refused:
        bare.tiers.view(WS, CID, PAID_AT)
    assert refused.value.reason == "no_tiers"

    class NoProfiles:
        def load(self, workspace_id, customer_id):
            return None

    rig.tiers.profiles = NoProfiles()  # type: ignore[assignment]
    with pytest.raises(NotFound):
        rig.tiers.view(WS, "nobody", PAID_AT)


def test_the_tier_multipliers_have_one_source_the_tiers():
    # Given rules whose loyalty block still carries an old multiplier
    rig = Rig()
    value = rig.settings.value
    old = replace(value.loyalty, tier_multipliers={"silver": Decimal(9)})
    # When the settings are built with tiers
    built = replace(value, loyalty=old)
    # Then the tiers' multipliers win
    assert built.loyalty.rate("silver") == Decimal("1.5") and built.loyalty.rate(None) == Decimal(1)


WINDOWS = st.sampled_from([("trailing", 90), ("calendar_year", 365), ("lifetime", 365)])
EVENT = st.tuples(
    st.integers(0, 400),  # day of the event
    st.sampled_from(["order", "refund", "cancel", "evaluate"]),
    st.integers(0, 5),  # which order
    st.sampled_from(["20.00", "75.00", "130.00", "260.00"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(EVENT, max_size=25), WINDOWS, st.sampled_from(["net_spend", "points_earned"]), st.integers(0, 40)
)
def test_the_incremental_tier_equals_a_recomputation_from_scratch(events, window, measure, grace):
    # Given tier rules over a window and measure, and a timeline of orders, refunds,
    # cancellations and daily evaluations, each delivered (and replayed) in time order
    rules = replace(RULES, window=window[0], window_days=window[1], measure=measure, grace_days=grace)
    rig = Rig(rules)
    totals: dict[str, str] = {}
    paid_on: dict[str, datetime] = {}
    refunds: dict[str, list] = {}
    evaluations: list[datetime] = []
    for day, kind, n, total in sorted(events, key=lambda e: e[0]):
        at = PAID_AT + timedelta(days=day, hours=1)
        oid = str(n)
        if kind == "evaluate":
            evaluations.append(at)
            rig.tiers.evaluate(WS, at)
            continue
        if kind == "order" and oid not in paid_on:
            totals[oid], paid_on[oid] = total, at
        if oid not in paid_on:
            continue
        if kind == "refund":
            refunds.setdefault(oid, []).append((f"r{len(refunds.get(oid, []))}", "10.00", at))
        status = OrderStatus.PARTIALLY_REFUNDED if refunds.get(oid) else OrderStatus.PAID
        change = paid(totals[oid], paid_on[oid], oid, tuple(refunds.get(oid, ())), status)
        if kind == "cancel":
            image = change.order
            assert image is not None
            snap = replace(
                image.snapshot,
                status=OrderStatus.CANCELLED,
                history=(("paid", paid_on[oid].isoformat()), ("cancelled", at.isoformat())),
            )
            change = IngestChange(after=replace(image, snapshot=snap))
        for _ in range(2):  # a replay changes nothing
            rig.apply(change, at)
    # When the tier is recomputed from the final ledger and the evaluation days
    entries, _ = rig.ledger.entries(WS, CID, 10_000, None)
    end = PAID_AT + timedelta(days=500)
    scratch = recompute(WS, CID, entries, evaluations, rules, rig.settings.value.convert, end)
    # Then it is the tier, its date and grace the incremental path recorded
    stored = rig.store.get(WS, CID)
    got = (stored.tier, stored.since, stored.below_since) if stored else (None, None, None)
    assert got == (scratch.tier, scratch.since, scratch.below_since)


def test_recompute_with_no_events_gives_no_tier():
    # Given an empty ledger
    # When the tier is recomputed
    state = recompute(WS, CID, [], [], RULES, lambda a, c: a, PAID_AT)
    # Then there is none
    assert state.tier is None and state.since is None


def test_a_calendar_year_window_starts_again_on_1_january():
    # Given a silver customer from an order in December, calendar-year window, no grace
    rig = Rig(replace(RULES, window="calendar_year", grace_days=0))
    december = datetime(2026, 12, 20, 10, tzinfo=PAID_AT.tzinfo)
    rig.apply(paid("150.00", december, "1"), december)
    assert rig.tier() == "silver"
    # When the evaluation runs on 31 December and on 1 January
    rig.tiers.evaluate(WS, december + timedelta(days=11))
    assert rig.tier() == "silver"
    rig.tiers.evaluate(WS, datetime(2027, 1, 1, 1, tzinfo=PAID_AT.tzinfo))
    # Then the new year's value is 0 and, with no grace, the tier lapses
    assert rig.tier() is None
    assert date(2027, 1, 1) == rig.store.changes(WS, CID)[-1].at.date()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(["20.00", "75.00", "130.00", "260.00"])), max_size=8
    ),
    st.randoms(use_true_random=False),
)
def test_paid_orders_delivered_in_any_order_and_replayed_end_in_the_same_tier(orders, rnd):
    # Given paid orders on several days, delivered after the last of them in a shuffled
    # order, each up to three times
    end = PAID_AT + timedelta(days=61)
    changes = [paid(total, PAID_AT + timedelta(days=day), str(n)) for n, (day, total) in enumerate(orders)]
    deliveries = [c for c in changes for _ in range(rnd.randint(1, 3))]
    rnd.shuffle(deliveries)
    rig = Rig()
    # When each is applied
    for change in deliveries:
        rig.apply(change, end)
    # Then the tier is the one their total enters, upgraded once per tier crossed at most,
    # and the same as in time order
    total = sum((Decimal(t) for _, t in orders), Decimal(0))
    assert rig.tier() == RULES.entered(total)
    ups = [c for c in rig.store.changes(WS, CID) if c.kind == "upgrade"]
    assert len(ups) <= len(RULES.tiers) and len({c.after for c in ups}) == len(ups)
    in_order = Rig()
    for change in sorted(changes, key=lambda c: c.order.snapshot.created_at if c.order else PAID_AT):
        in_order.apply(change, end)
    assert in_order.tier() == rig.tier()


def test_concurrent_deliveries_upgrade_once():
    # Given a customer whose paid order is already in the ledger
    import threading

    rig = Rig()
    change = paid("600.00", PAID_AT, "1")
    rig.points.on_order(change, PAID_AT, CID)
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        rig.tiers.on_order(change, PAID_AT, CID)

    # When eight consumers apply it at once
    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the customer is gold with one audit entry, the state at version 1
    state = rig.store.get(WS, CID)
    assert state is not None and (state.tier, state.version) == ("gold", 1)
    assert [c.after for c in rig.store.changes(WS, CID)] == ["gold"]


def test_the_evaluation_reads_a_ledger_only_from_the_day_the_tier_could_move():
    # Given a silver customer from one order (trailing 365 days), so the tier can move only
    # when that order leaves the window
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    state = rig.store.get(WS, CID)
    assert state is not None and state.check_on == (PAID_AT + timedelta(days=365)).date()
    reads: list[str] = []
    entries = rig.ledger.entries
    rig.ledger.entries = lambda ws, cid, limit, cursor: reads.append(cid) or entries(ws, cid, limit, cursor)  # type: ignore[method-assign]
    # When the job runs on day 100 and on the day the order leaves the window
    early = rig.tiers.evaluate(WS, PAID_AT + timedelta(days=100))
    due = rig.tiers.evaluate(WS, PAID_AT + timedelta(days=365, hours=1))
    # Then the first skips her without reading her ledger, the second reads it and starts
    # the grace period (her value is now 0)
    assert (early["skipped"], early["evaluated"]) == (1, 0)
    assert (due["skipped"], due["evaluated"]) == (0, 1) and reads == [CID]
    state = rig.store.get(WS, CID)
    assert state is not None and state.below_since == (PAID_AT + timedelta(days=365)).date()


def test_new_rules_make_everyone_due_at_the_next_evaluation():
    # Given a silver customer at 120 and one without a tier at 60, skipped by the job
    rig = Rig()
    rig.apply(paid("120.00", PAID_AT, "1"), PAID_AT)
    rig.points.on_order(paid("60.00", PAID_AT, "2"), PAID_AT, "c_2")
    rig.tiers.on_order(paid("60.00", PAID_AT, "2"), PAID_AT, "c_2")
    assert rig.tiers.evaluate(WS, PAID_AT + timedelta(days=1))["evaluated"] == 0
    # When the rules change (silver from 50, no gold) and the job runs
    lower = replace(RULES, tiers=(Tier("silver", Decimal(50), Decimal(50)),))
    rig.settings.value = replace(rig.settings.value, tiers=lower)
    counts = rig.tiers.evaluate(WS, PAID_AT + timedelta(days=2))
    # Then both are read again under the new rules: the customer without a tier goes up
    assert counts["evaluated"] == 2 and counts["upgraded"] == 1
    assert rig.store.tier_of(WS, "c_2") == "silver"
    # And the next run, under the same rules, skips them again
    assert rig.tiers.evaluate(WS, PAID_AT + timedelta(days=3))["evaluated"] == 0


def test_a_checkout_or_an_order_that_earned_nothing_writes_no_tier_state():
    # Given a tiered workspace
    rig = Rig()
    checkout = paid("120.00", PAID_AT, "1")
    image = checkout.order
    assert image is not None
    checkout = IngestChange(after=replace(image, snapshot=replace(image.snapshot, is_order=False)))
    # When a checkout and a pending (unpaid) order arrive
    rig.apply(checkout, PAID_AT)
    rig.apply(paid("120.00", PAID_AT, "2", status=OrderStatus.PENDING), PAID_AT)
    # Then no tier state is written for them
    assert rig.store.states_ == {}
