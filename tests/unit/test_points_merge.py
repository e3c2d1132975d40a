"""Merged profiles' ledgers become one balance (domain/loyalty/merge.py): the transfer, once;
a closed balance's writes follow it; the tiers count the merged ids' earnings; and any
interleaving of earnings, refunds and spends with the merge, replayed, loses and doubles
no point (hypothesis)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.adjust import PointsRefused, spend_entry
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.merge import LedgerMerges
from chalicelib.domain.loyalty.model import (
    ADJUSTMENT,
    EARN,
    MANUAL,
    MERGE,
    REVERSE,
    TRANSFER_IN,
    TRANSFER_OUT,
    EntryKey,
    LedgerEntry,
    PointsBalance,
)
from chalicelib.domain.loyalty.tier_service import TierService
from chalicelib.domain.models import OrderStatus
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore
from tests.unit.points_orders import PAID_AT, WS, Settings, on, order
from tests.unit.test_tiers import RULES, paid

X, S = "c_gone", "c_kept"
NOW = PAID_AT + timedelta(days=3)
LATER = PAID_AT + timedelta(days=60)  # every order's points available
REFUND_AT = PAID_AT + timedelta(days=5)


def refunded(order_id: str, amount: str = "40.00") -> Any:
    return order("100.00", OrderStatus.PARTIALLY_REFUNDED, (("r1", amount, REFUND_AT),), order_id=order_id)


def everything(ledger: FakePointsLedger, cid: str) -> dict[EntryKey, LedgerEntry]:
    return ledger.ledgers.get((WS, cid), {})


def ledger_sum(ledger: FakePointsLedger, cid: str) -> int:
    return sum(e.points for e in everything(ledger, cid).values())


def spend(ledger: FakePointsLedger, cid: str, points: int, key: str, today: date) -> bool:
    entry = LedgerEntry(WS, cid, EntryKey(MANUAL, key, ADJUSTMENT), -points, LATER, reason="test")
    if ledger.entry(WS, cid, entry.key) is not None:
        return False
    return ledger.adjust(spend_entry(ledger, entry, points, today))


def test_a_merge_moves_the_balance_lots_and_debt_to_the_survivor_once():
    # Given X with a pending earning and a debt-free available credit, S with its own points
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    points.on_order(order("100.00", order_id="1"), NOW, X)
    points.on_order(order("30.00", order_id="2"), NOW, S)
    x_before = ledger.balance(WS, X)
    # When X is merged into S, and the transfer is replayed twice
    moved = [LedgerMerges(ledger).transfer(WS, X, S, NOW) for _ in range(3)]
    # Then the first moved X's total and lots (same days) to S; the replays did nothing
    assert moved[0] is not None and moved[1:] == [None, None]
    assert moved[0].key == EntryKey(MERGE, X, TRANSFER_IN) and moved[0].points == 100
    kept, gone = ledger.balance(WS, S), ledger.balance(WS, X)
    assert kept.total == 130 and kept.lots == {day: 130 for day in x_before.lots}  # the same day
    assert (gone.total, gone.lots, gone.debt, gone.moved_to) == (0, {}, 0, S)
    out = everything(ledger, X)[EntryKey(MERGE, S, TRANSFER_OUT)]
    assert out.points == -100 and out.lots == tuple((d, -n) for d, n in x_before.lots.items())
    # And each ledger still sums to its balance
    assert (ledger_sum(ledger, X), ledger_sum(ledger, S)) == (0, 130)


def test_a_debt_moves_with_the_balance():
    # Given X who spent the points of an order that was then half refunded: a debt
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1", window=0)))
    points.on_order(order("100.00", order_id="1"), NOW, X)
    assert spend(ledger, X, 100, "k1", LATER.date())
    points.on_order(refunded("1", "50.00"), NOW, X)
    assert ledger.balance(WS, X).debt == 50
    # When X is merged into S
    LedgerMerges(ledger).transfer(WS, X, S, NOW)
    # Then S owes the debt, and X is closed at 0
    assert (ledger.balance(WS, S).total, ledger.balance(WS, S).debt) == (-50, 50)
    assert (ledger.balance(WS, X).total, ledger.balance(WS, X).debt) == (0, 0)


def test_a_refund_after_the_merge_reverses_the_earning_in_x_and_the_points_on_s_once():
    # Given X's earning of order 1, then X merged into S
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    points.on_order(order("100.00", order_id="1"), NOW, X)
    LedgerMerges(ledger).transfer(WS, X, S, NOW)
    # When the order's refund of 40 arrives three times (named for either id)
    for cid in (S, X, S):
        points.on_order(refunded("1"), NOW, cid)
    # Then the earning in X moved once, and one reversal of 40 is on S, from the earning's lot
    earning = everything(ledger, X)[EntryKey("order", "s1.1", EARN)]
    assert (earning.refunded, earning.reversed) == (Decimal("40.00"), 40)
    reversal = everything(ledger, S)[EntryKey("refund", "s1.1.r1", REVERSE)]
    assert reversal.points == -40 and reversal.lots == ((earning.available_on, -40),)
    assert EntryKey("refund", "s1.1.r1", REVERSE) not in everything(ledger, X)
    assert (ledger.balance(WS, S).total, ledger.balance(WS, X).total) == (60, 0)
    assert ledger_sum(ledger, S) == 60


def test_an_earning_or_a_spend_that_meets_a_closed_balance_lands_on_the_survivor():
    # Given X merged into S (X had 100 points)
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1", window=0)))
    points.on_order(order("100.00", order_id="1"), NOW, X)
    LedgerMerges(ledger).transfer(WS, X, S, NOW)
    # When a stale delivery earns order 2 for X, and a spend of 120 is made for X
    points.on_order(order("50.00", order_id="2"), NOW, X)
    assert spend(ledger, X, 120, "k1", LATER.date())
    # Then both landed on S (X stays closed at 0, with nothing new)
    assert EntryKey("order", "s1.2", EARN) in everything(ledger, S)
    assert EntryKey(MANUAL, "k1", ADJUSTMENT) in everything(ledger, S)
    assert ledger.balance(WS, S).total == 30 and ledger_sum(ledger, S) == 30
    assert ledger.balance(WS, X).total == 0 and ledger_sum(ledger, X) == 0


def test_a_transfer_that_lost_a_race_reads_again_and_moves_what_is_there():
    # Given X with 100 points, and an earning on X that lands between the transfer's read and write
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    points.on_order(order("100.00", order_id="1"), NOW, X)
    original = ledger.transfer

    def late(out: LedgerEntry, into: LedgerEntry, read: PointsBalance) -> bool:
        ledger.transfer = original  # type: ignore[method-assign]
        points.on_order(order("20.00", order_id="2"), NOW, X)
        return original(out, into, read)

    ledger.transfer = late  # type: ignore[method-assign]
    # When X is merged into S
    moved = LedgerMerges(ledger).transfer(WS, X, S, NOW)
    # Then the first attempt failed on the moved balance, the second moved all 120
    assert moved is not None and moved.points == 120
    assert (ledger.balance(WS, S).total, ledger.balance(WS, X).total) == (120, 0)


def test_the_profile_hook_transfers_only_newly_merged_ids_and_closes_an_id_without_points():
    # Given S's profile before and after it absorbed X (with points) and Y (without)
    ledger = FakePointsLedger()
    PointsService(ledger, Settings(on("1"))).on_order(order("100.00", order_id="1"), NOW, X)
    before = SimpleNamespace(workspace_id=WS, customer_id=S, merged_ids=["c_old"])
    after = SimpleNamespace(workspace_id=WS, customer_id=S, merged_ids=["c_old", X, "c_none"])
    # When the CRM stream hands the change over (and again)
    first = LedgerMerges(ledger).on_profile(before, after, NOW)  # type: ignore[arg-type]
    again = LedgerMerges(ledger).on_profile(before, after, NOW)  # type: ignore[arg-type]
    # Then X's points moved once; Y (no balance item) is closed into S, empty
    assert [e.key for e in first] == [EntryKey(MERGE, X, TRANSFER_IN)] and again == []
    assert ledger.balance(WS, S).total == 100
    assert ledger.balances[(WS, "c_none")] == (0, {}, 0) and ledger.into[(WS, "c_none")] == S


class MergedProfiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        if customer_id in (S, X):
            return SimpleNamespace(customer_id=S, entry_partitions=lambda: [S, X])
        return None


def test_the_tiers_count_the_earnings_of_the_ids_merged_into_the_customer():
    # Given X's order of 80 and S's order of 30 (silver enters at 100), X merged into S
    settings_ = Settings()
    settings_.value = replace(settings_.value, tiers=RULES)
    ledger, store = FakePointsLedger(), FakeTierStore()
    points = PointsService(ledger, settings_, tiers=store)
    tiers = TierService(store, ledger, settings_, MergedProfiles())  # type: ignore[arg-type]
    points.on_order(paid("80.00", PAID_AT, "1"), NOW, X)
    LedgerMerges(ledger).transfer(WS, X, S, NOW)
    change = paid("30.00", NOW, "2")
    points.on_order(change, NOW, S)
    # When S's order is applied to the tiers
    tiers.on_order(change, NOW, S)
    # Then S's qualifying value holds both orders: silver
    assert store.tier_of(WS, S) == "silver"
    assert tiers.view(WS, X, NOW).value == Decimal("110.00")


# any interleaving: earn / refund / spend on X or S, the merge at any point, each replayed
ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.sampled_from(["1", "2", "3"]), st.booleans()),
        st.tuples(st.just("refund"), st.sampled_from(["1", "2", "3"]), st.booleans()),
        st.tuples(st.just("spend"), st.integers(min_value=1, max_value=90), st.booleans()),
        st.tuples(st.just("merge"), st.just(""), st.just(False)),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(steps=ops, replays=st.lists(st.integers(min_value=1, max_value=3), min_size=12, max_size=12))
def test_any_interleaving_with_the_merge_replayed_loses_and_doubles_no_point(steps, replays):
    # Given orders 1 (on X) and 2, 3 (on S or X as drawn), spends, and the merge anywhere
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1", window=0)))
    merges = LedgerMerges(ledger)
    merged = False
    steps = [*steps, ("merge", "", False)]  # the merge happens (at the end at the latest)
    # When each step runs one to three times (after the merge, a stale step still names X:
    # X is closed even when it had no balance to move)
    for n, (kind, arg, on_x) in enumerate(steps):
        cid = X if on_x or arg == "1" else S
        for _ in range(replays[n % len(replays)]):
            if kind == "earn":
                points.on_order(order("100.00", order_id=str(arg)), NOW, cid)
            elif kind == "refund":
                points.on_order(refunded(str(arg)), NOW, cid)
            elif kind == "spend":
                with contextlib.suppress(PointsRefused):
                    spend(ledger, cid, int(arg), f"k{n}", LATER.date())
            else:
                merges.transfer(WS, X, S, NOW)
                merged = True
    assert merged
    # Then X is closed at 0, and each balance is the sum of its ledger, lots minus debt
    gone, kept = ledger.balance(WS, X), ledger.balance(WS, S)
    assert (gone.total, gone.lots, gone.debt, gone.moved_to, gone.recorded) == (0, {}, 0, S, True)
    assert kept.total == ledger_sum(ledger, S) and ledger_sum(ledger, X) == 0
    assert kept.total == sum(kept.lots.values()) - kept.debt and kept.debt >= 0
    assert all(n >= 0 for n in kept.lots.values())
    # And every earning, reversal and spend is once across both ledgers, none lost or doubled
    keys = [k for cid in (X, S) for k in everything(ledger, cid) if k.source != MERGE]
    assert len(keys) == len(set(keys))
    earned = {k.external_id for k in keys if k.kind == EARN}
    reversals = [k for k in keys if k.kind == REVERSE]
    assert len(reversals) == len({k.external_id for k in reversals}) <= len(earned)
    assert {k.external_id.rsplit(".", 1)[0] for k in reversals} <= earned
    assert kept.total == sum(e.points for cid in (X, S) for e in everything(ledger, cid).values())
    assert kept.total == 100 * len(earned) - 40 * len(reversals) - sum(
        -e.points for cid in (X, S) for k, e in everything(ledger, cid).items() if k.kind == ADJUSTMENT
    )


def test_a_bonus_that_meets_a_closed_balance_lands_on_the_survivor_once():
    # Given X merged into S (X had 100 points), an enrolment bonus of 25, capped at 1 a day
    from chalicelib.domain.loyalty.bonuses import PointsActions
    from chalicelib.domain.workspace_settings import ActionCap

    ledger = FakePointsLedger()
    rules = replace(on("1"), bonuses={"enrolment": 25}, caps={"enrolment": ActionCap(1, "day")})
    PointsService(ledger, Settings(rules)).on_order(order("100.00", order_id="1"), NOW, X)
    LedgerMerges(ledger).transfer(WS, X, S, NOW)
    actions = PointsActions(ledger, Settings(rules), MergedProfiles())  # type: ignore[arg-type]
    # When the bonus is credited to X (a stale id), three times
    credited = [actions.credit(WS, X, "enrolment", NOW) for _ in range(3)]
    # Then it was written once, on S; X stays closed at 0
    assert credited[0] is not None and credited[0].customer_id == S and credited[1:] == [None, None]
    assert (ledger.balance(WS, S).total, ledger.balance(WS, X).total) == (125, 0)
