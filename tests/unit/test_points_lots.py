"""Dated lots and debt (domain/loyalty/lots.py): which lots a spend and a reversal take, and
the balance's invariant `total == sum(lots) - debt` (no lot, nor the debt, below zero) over
any interleaving of earnings, refunds, cancellations, credits, spends and redemptions (some
given back by a failing store), each replayed
(hypothesis, on the fake ledger)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import StoreFailed
from chalicelib.domain.loyalty.adjust import AdjustmentIn, PointsAdjustments, PointsRefused
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.lots import (
    expiring_within,
    oldest_first,
    plan_reversal,
    plan_spend,
    restore,
    spend_refusal,
)
from chalicelib.domain.loyalty.model import LedgerEntry
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from chalicelib.domain.messaging.flow_definition import StoreCode
from chalicelib.domain.models import OrderStatus, Platform, Source
from chalicelib.domain.store_admin import AdminApiError
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, cancelled, on, order
from tests.unit.test_points_adjust import OPERATOR, Profiles
from tests.unit.test_points_redeem import Profiles as Customers

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 5), date(2026, 12, 9)


def test_a_spend_settles_the_debt_then_takes_the_oldest_available_lots():
    # Given lots of 10 (1 Nov), 20 (5 Nov) and 50 pending (9 Dec), and a debt of 5
    lots = {D3: 50, D2: 20, D1: 10}
    # When 12 points are spent on 10 Nov
    plan = plan_spend(lots, 5, date(2026, 11, 10), 12)
    # Then 5 + 12 come from the oldest lots, the pending one untouched, and the debt is settled
    assert (plan.lots, plan.debt) == (((D1, -10), (D2, -7)), -5)


def test_a_spend_is_refused_for_debt_or_short_available_points():
    # Given 30 available points and 50 pending
    lots, today = {D1: 10, D2: 20, D3: 50}, date(2026, 11, 10)
    # When spends are checked against a debt of 0, 25 and 31
    # Then pending points never count, and a debt beyond the available points is `debt`
    assert spend_refusal(lots, 0, today, 30) is None
    assert spend_refusal(lots, 0, today, 31) == ("insufficient_points", 30)
    assert spend_refusal(lots, 25, today, 6) == ("insufficient_points", 5)
    assert spend_refusal(lots, 31, today, 1) == ("debt", 0)


def test_a_reversal_takes_its_own_lot_first_then_the_oldest_and_the_rest_is_debt():
    # Given lots of 10 (1 Nov), 20 (5 Nov) and 5 in the reversed earning's lot (9 Dec)
    lots = {D1: 10, D2: 20, D3: 5}
    # When 40 points are reversed
    plan = plan_reversal(lots, D3, 40)
    # Then its own 5 go first, then the oldest 10 and 20, and 5 are debt
    assert (plan.lots, plan.debt) == (((D1, -10), (D2, -20), (D3, -5)), 5)
    assert oldest_first(lots, 3, D2) == {D2: 3}


def test_a_give_back_is_the_exact_inverse_and_expiring_points_are_counted_by_lot():
    # Given a spend entry that took 10 and 7 and settled a debt of 5
    spent = LedgerEntry(WS, CID, _key(), -12, PAID_AT, lots=((D1, -10), (D2, -7)), debt=-5)
    # When its give-back is planned
    back = restore(spent)
    # Then the same lots and the debt come back
    assert (back.lots, back.debt) == (((D1, 10), (D2, 7)), 5)
    # And with 365-day lots, on 30 Oct 2027, 1 Nov's lot expires within 4 days, 5 Nov's not
    assert expiring_within({D1: 10, D2: 20}, date(2027, 10, 30), 4, 365) == 10
    assert expiring_within({D1: 10, D2: 20, D3: 5}, date(2027, 10, 30), 30, 365) == 30


def _key():
    from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey

    return EntryKey(MANUAL, "k", ADJUSTMENT)


ORDERS = ("1001", "1002", "1003")


class Sources:
    def source(self, workspace_id: str, source_id: str) -> Source:
        return Source(
            workspace_id=WS,
            source_id=source_id,
            platform=Platform.SHOPIFY,
            shop_domain="s1.example",
            secret_ref="x",
            admin_ref="ref",
        )


class Store:
    def __init__(self, fails: bool) -> None:
        self.fails = fails

    def create(self, source: Source, coupon: Any, store_customer_id: Any, email: Any) -> StoreCode:
        if self.fails:
            raise AdminApiError("down", 503)
        return StoreCode("gid://1")


step = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(ORDERS), st.integers(0, 3)),
    st.tuples(st.just("refund"), st.sampled_from(ORDERS), st.integers(1, 60)),
    st.tuples(st.just("cancel"), st.sampled_from(ORDERS), st.just(0)),
    st.tuples(st.just("credit"), st.integers(1, 40), st.integers(0, 80)),
    st.tuples(st.just("spend"), st.integers(1, 80), st.integers(0, 80)),
    st.tuples(st.sampled_from(["redeem", "redeem_fails"]), st.integers(1, 80), st.integers(0, 80)),
)


def check(ledger: FakePointsLedger) -> None:
    balance = ledger.balance(WS, CID)
    entries = list(ledger.ledgers.get((WS, CID), {}).values())
    assert balance.total == sum(balance.lots.values()) - balance.debt
    assert min(balance.lots.values(), default=0) >= 0 and balance.debt >= 0
    assert balance.total == sum(e.points for e in entries)
    by_day: dict[date, int] = {}
    for e in entries:
        for day, n in e.lots:
            by_day[day] = by_day.get(day, 0) + n
    assert {d: n for d, n in by_day.items() if n} == balance.lots
    assert sum(e.debt for e in entries) == balance.debt
    # a give-back returns exactly what its redemption took
    keyed = {(e.key.external_id, e.key.kind): e for e in entries}
    for (xid, kind), back in keyed.items():
        if kind == "restore":
            taken = keyed[(xid, "redeem")]
            assert back.lots == tuple((d, -n) for d, n in taken.lots) and back.points == -taken.points


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(step, st.integers(1, 3)), max_size=14))
def test_any_interleaving_replayed_keeps_total_equal_to_lots_minus_debt(steps):
    # Given a workspace earning 1 point per unit with a 10-day window, and the fake ledger
    ledger, rules = FakePointsLedger(), Settings(on("1", window=10))
    points = PointsService(ledger, rules)
    adjustments = PointsAdjustments(ledger, rules, Profiles())  # type: ignore[arg-type]
    redeem_rules = Settings(replace(on("1", window=10), redeem_min_points=1))
    stores = {
        fails: PointsRedemptions(ledger, redeem_rules, Customers(), Sources(), Store(fails))  # type: ignore[arg-type]
        for fails in (False, True)
    }
    refunds: dict[str, list[tuple[str, str, object]]] = {o: [] for o in ORDERS}
    gone: set[str] = set()
    # When each step (earning, refund, cancellation, credit, spend) runs, replayed 1 to 3 times
    for i, ((kind, what, n), times) in enumerate(steps):
        now = PAID_AT + timedelta(days=n if kind in ("credit", "spend") else 20)
        if kind == "refund":
            refunds[str(what)].append((f"r{i}", f"{n}.00", now))
        for _ in range(times):
            if kind in ("pay", "refund", "cancel"):
                oid = str(what)
                state = order("80.00", OrderStatus.PARTIALLY_REFUNDED, tuple(refunds[oid]), order_id=oid)
                if kind == "cancel" or oid in gone:
                    gone.add(oid)
                    state = cancelled(state, now)
                points.on_order(state, now, CID)
            elif kind.startswith("redeem"):
                # refused, or made and given back (a replay answers the same)
                with contextlib.suppress(PointsRefused, StoreFailed):
                    stores[kind == "redeem_fails"].redeem(WS, CID, RedeemIn(points=int(what)), f"k{i}", now)
            else:
                body = AdjustmentIn(points=int(what) if kind == "credit" else -int(what), reason="r")
                try:
                    adjustments.adjust(WS, CID, body, f"k{i}", OPERATOR, now)
                except PointsRefused as refused:
                    assert refused.reason in ("insufficient_points", "debt")
            # Then after every write the balance is its lots less its debt, the sum of its entries
            check(ledger)
    # And a refund never reversed more than its order earned
    for oid in ORDERS:
        earning = ledger.earning_of(WS, f"s1.{oid}")
        assert earning is None or 0 <= earning.reversed <= earning.points


@pytest.mark.parametrize("spent", [0, 60])
def test_a_refund_of_spent_points_is_debt_once_whatever_the_replays(spent):
    # Given 80 points earned (available after 10 days) and `spent` of them spent
    ledger, rules = FakePointsLedger(), Settings(on("1", window=10))
    points = PointsService(ledger, rules)
    points.on_order(order("80.00"), PAID_AT, CID)
    later = PAID_AT + timedelta(days=20)
    if spent:
        body = AdjustmentIn(points=-spent, reason="r")
        PointsAdjustments(ledger, rules, Profiles()).adjust(WS, CID, body, "k", OPERATOR, later)  # type: ignore[arg-type]
    # When the order is cancelled, the cancellation delivered three times
    for _ in range(3):
        points.on_order(cancelled(order("80.00"), later), later, CID)
    # Then what was left of the lot goes back and the rest is debt, recorded once
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (-spent, {}, spent)
    assert balance.view(later.date()).debt == spent
