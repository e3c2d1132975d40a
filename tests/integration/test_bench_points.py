"""`patron bench points` run small: concurrent redeemers on shared balances, with earning,
refunds, cancellations, expiry and replayed deliveries interleaved, keep the ledger exact;
and its checks see a broken ledger (so the zeros it prints mean something)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.model import EARN, REDEEM, EntryKey, LedgerEntry
from patron.bench.points import _check, deliveries
from tests.unit.fake_points import FakePointsLedger

WS = "ws_1"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LOT = date(2026, 11, 3)


def test_the_points_bench_keeps_every_ledger_exact_under_eight_redeemers():
    from patron.bench.points import run

    # When the bench runs small: 8 redeemers on 2 customers, 24 orders each state delivered 3 times
    result = run(redeemers=8, customers=2, orders=24, attempts=48, seed=3)
    # Then no redemption overdrew a balance, every ledger adds up, no replay wrote an entry
    assert (result["overdrafts"], result["ledger_mismatches"], result["duplicate_entries"]) == (0, 0, 0)
    assert result["redemptions_attempted"] == 48 and result["redemptions_succeeded"] > 0
    assert result["redemptions_errors"] == 0
    assert result["ledger_entries"] == result["points_events"] > 24
    # And the real sweep ran under the lots policy, a day further each time
    assert result["expiry"] == "lots" and result["expiry_sweeps"] > 0
    # And each kind of event is billed as DynamoDB bills it: an earning's transaction of three
    # items (entry, balance, order pointer), an expiry's of two, twice each, and a write whose
    # condition failed (a redeemer took the lot first) billed on top; with expiry on, an
    # earning also puts its lot-day bucket (1 unit, docs/loyalty.md#expiry)
    kinds = result["by_kind"]
    assert kinds["earn"]["wcu_per_event"] == 7.0 and kinds["earn"]["failed_writes"] == 0
    expiry = kinds.get("expire", {"events": 0, "wcu": 0, "failed_writes": 0})
    assert expiry["events"] == result["lots_expired"]
    assert (
        expiry["wcu"] == 4 * expiry["events"]
        if not expiry["failed_writes"]
        else expiry["wcu"] > 4 * expiry["events"]
    )
    assert kinds["redeem"]["events"] == result["redemptions_succeeded"]
    total = sum(k["wcu"] for k in kinds.values())
    assert result["wcu_per_points_event"] == round(total / result["points_events"], 3)
    landed = total - sum(k["failed_wcu"] for k in kinds.values())
    assert result["wcu_per_points_event_written"] == round(landed / result["points_events"], 3)
    assert all(k["failed_wcu"] >= 2 * k["failed_writes"] for k in kinds.values())


def test_without_expiry_an_earning_puts_no_lot_day_bucket():
    from patron.bench.points import run

    # When the bench runs tiny in a workspace whose expiry policy is none
    result = run(redeemers=2, customers=1, orders=6, attempts=4, seed=1, expiry="none")
    # Then no sweep ran, and an earning costs its transaction of three items only (6 units)
    assert result["expiry_sweeps"] == 0 and "expire" not in result["by_kind"]
    assert result["by_kind"]["earn"]["wcu_per_event"] == 6.0
    assert (result["overdrafts"], result["ledger_mismatches"], result["duplicate_entries"]) == (0, 0, 0)


def _earning(points: int = 100) -> LedgerEntry:
    return LedgerEntry(
        WS, "c1", EntryKey("order", "s1.1", EARN), points, AT, order_id="s1.1", lots=((LOT, points),)
    )


def test_the_checks_count_a_balance_that_is_not_its_ledger_and_an_overdrawing_redemption():
    # Given a ledger with an earning of 100 and a redemption of 30 from its lot
    ledger = FakePointsLedger()
    assert ledger.earn(_earning())
    spend = LedgerEntry(WS, "c1", EntryKey(REDEEM, "k1", REDEEM), -30, AT, lots=((LOT, -30),))
    assert ledger.adjust(spend)
    # Then it checks clean
    assert _check(ledger, WS, ["c1"])["ledger_mismatches"] == 0
    assert _check(ledger, WS, ["c1"])["overdrafts"] == 0
    # When the balance drifts from its ledger (a lost write), and a redemption takes past its lot
    total, lots, debt = ledger.balances[(WS, "c1")]
    ledger.balances[(WS, "c1")] = (total + 5, lots, debt)
    ledger.ledgers[(WS, "c1")][spend.key] = replace(spend, lots=((LOT, -20),), debt=10)
    checked = _check(ledger, WS, ["c1"])
    # Then both are counted
    assert checked["ledger_mismatches"] >= 2 and checked["overdrafts"] == 1


@settings(max_examples=100, deadline=None)
@given(
    shape=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=8), seed=st.integers(0, 10**6)
)
def test_every_state_is_delivered_three_times_its_first_deliveries_in_version_order(shape, seed):
    # Given orders of any number of states
    states = [[f"o{i}.{v}" for v in range(n)] for i, n in enumerate(shape)]
    # When they are interleaved with their replays
    feed = deliveries(states, random.Random(seed))
    # Then each state comes three times under one delivery id, and never a replay before its first
    assert sorted(s for _, s in feed) == sorted(s for order in states for s in order for _ in range(3))
    assert all(len({d for d, s in feed if s == x}) == 1 for order in states for x in order)
    firsts: list[str] = []
    for _, s in feed:
        if s not in firsts:
            firsts.append(s)
    # And an order's states first come in version order
    for order in states:
        assert [s for s in firsts if s in order] == order
