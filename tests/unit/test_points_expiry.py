"""Expiry by dated lots (domain/loyalty/expiry.py, docs/loyalty.md#expiry): each lot expires
on its own `expiry_days` after its day, once; an expiring lot settles the debt first; spent
points are never expired (hypothesis over interleavings and replayed sweeps, on the fake)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.workspace_store import loyalty_from_item, loyalty_item
from chalicelib.domain.loyalty.adjust import PointsRefused, spend_entry
from chalicelib.domain.loyalty.expiry import PointsExpiry, expiry_key, plan_lot_expiry
from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey, LedgerEntry
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, WS, Settings, on

D1, D2 = date(2026, 1, 10), date(2026, 1, 20)
DAYS = 30


def lots_rules(days: int = DAYS):  # type: ignore[no-untyped-def]
    return replace(on(), expiry="lots", expiry_days=days)


def credit(ledger: FakePointsLedger, day: date, points: int, key: str, cid: str = CID) -> None:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    entry = LedgerEntry(WS, cid, EntryKey(MANUAL, key, ADJUSTMENT), points, at, lots=((day, points),))
    assert ledger.adjust(entry)


def spend(ledger: FakePointsLedger, points: int, today: date, key: str, cid: str = CID) -> bool:
    at = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    entry = LedgerEntry(WS, cid, EntryKey(MANUAL, key, ADJUSTMENT), -points, at)
    try:
        return ledger.adjust(spend_entry(ledger, entry, points, today))
    except PointsRefused:
        return False


def owe(ledger: FakePointsLedger, points: int, key: str) -> None:
    """A reversal of points already spent: debt (as domain/loyalty/lots.py plans it)."""
    at = datetime(2026, 1, 25, tzinfo=UTC)
    assert ledger.adjust(LedgerEntry(WS, CID, EntryKey("refund", key, "reverse"), -points, at, debt=points))


def test_each_lot_expires_on_its_own_day_once():
    # Given lots of 100 (10 Jan) and 50 (20 Jan), and a 30-day lot expiry
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    credit(ledger, D2, 50, "b")
    expiry = PointsExpiry(ledger, Settings(lots_rules()))
    # When the sweep runs the day before the first is due, on its day, and again on it
    before = expiry.expire(WS, D1 + timedelta(days=DAYS - 1))
    due = expiry.expire(WS, D1 + timedelta(days=DAYS))
    again = expiry.expire(WS, D1 + timedelta(days=DAYS))
    # Then only the first lot expires, once, by its keyed entry; the second stays
    assert before["lots_expired"] == 0 and again["lots_expired"] == 0
    assert (due["lots_expired"], due["points_expired"]) == (1, 100)
    stored = ledger.entry(WS, CID, expiry_key(D1))
    assert stored is not None and stored.key == EntryKey("expiry", "2026-01-10", "expire")
    assert (stored.points, stored.lots, stored.at) == (-100, ((D1, -100),), datetime(2026, 2, 9, tzinfo=UTC))
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (50, {D2: 50}, 0)


def test_a_customer_whose_balance_keeps_moving_is_left_to_the_next_run_not_the_workspace():
    # Given two customers' lots due today, and a ledger on which one customer's balance
    # moves under every expiry write (a spender always landing first)
    class Contended(FakePointsLedger):
        busy = True

        def adjust(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
            if self.busy and entry.key.source == "expiry" and entry.customer_id == "c_busy":
                return False
            return super().adjust(entry, list_lots)

    ledger = Contended()
    credit(ledger, D1, 100, "a")
    credit(ledger, D1, 70, "b", cid="c_busy")
    expiry = PointsExpiry(ledger, Settings(lots_rules()))
    # When the sweep runs on the lots' day
    ran = expiry.expire(WS, D1 + timedelta(days=DAYS))
    # Then the other customer's lot expired, the contended one is counted deferred (no
    # crash), and a later run with the contention gone expires it, once
    assert (ran["lots_expired"], ran["points_expired"], ran["deferred"]) == (1, 100, 1)
    assert ledger.balance(WS, "c_busy").total == 70
    ledger.busy = False
    caught_up = expiry.expire(WS, D1 + timedelta(days=DAYS + 1))
    assert (caught_up["lots_expired"], caught_up["points_expired"], caught_up["deferred"]) == (1, 70, 0)


def test_an_expiring_lot_settles_the_debt_first_and_expires_the_rest():
    # Given a lot of 100 and a debt of 30 (a refund of points already spent elsewhere)
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    owe(ledger, 30, "r1")
    # When the lot expires
    result = PointsExpiry(ledger, Settings(lots_rules())).expire(WS, D1 + timedelta(days=DAYS))
    # Then 30 settle the debt (no points change) and 70 expire: total == sum(lots) - debt holds
    stored = ledger.entry(WS, CID, expiry_key(D1))
    assert stored is not None and (stored.points, stored.lots, stored.debt) == (-70, ((D1, -100),), -30)
    assert (result["points_expired"], result["settled_debt"]) == (70, 30)
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (0, {}, 0)
    # (a lot smaller than the debt only settles part of it, expiring nothing)
    assert plan_lot_expiry(20, 30) is not None and plan_lot_expiry(20, 30).points == 0  # type: ignore[union-attr]


def test_points_spent_before_the_expiry_are_never_expired():
    # Given a lot of 100 of which 60 were spent, and another customer's lot spent whole
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    credit(ledger, D1, 40, "b", cid="c_2")
    assert spend(ledger, 60, D1, "s1")
    assert spend(ledger, 40, D1, "s2", cid="c_2")
    # When the lot's day comes
    result = PointsExpiry(ledger, Settings(lots_rules())).expire(WS, D1 + timedelta(days=DAYS))
    # Then only what is left expires; the spent lot writes no entry
    assert (result["lots_expired"], result["points_expired"]) == (1, 40)
    assert ledger.entry(WS, "c_2", expiry_key(D1)) is None
    assert ledger.balance(WS, CID).total == 0 and ledger.balance(WS, "c_2").total == 0


def test_a_missed_day_is_caught_up_and_no_policy_expires_nothing():
    # Given a lot of 100 and the sweep missed its day
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    late = D1 + timedelta(days=DAYS + 2)
    # When the workspace has no expiry, then lots
    none = PointsExpiry(ledger, Settings(on())).expire(WS, late)
    lots = PointsExpiry(ledger, Settings(lots_rules())).expire(WS, late)
    # Then nothing expires without a policy, and the late sweep expires the lot
    assert none == {
        "policy": "none",
        "lots_expired": 0,
        "points_expired": 0,
        "settled_debt": 0,
        "deferred": 0,
    }
    assert lots["points_expired"] == 100


def test_the_expiry_settings_round_trip_and_default_to_none():
    # Given lots expiry after 90 days
    rules = lots_rules(90)
    # When stored and read back; and a stored map without them
    # Then the same rules; none by default
    assert loyalty_from_item(loyalty_item(rules)) == rules
    assert loyalty_from_item({"on": True}).expiry == "none"
    assert "xp" not in loyalty_item(on())


DAY0 = date(2026, 1, 1)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(0, 20), st.integers(1, 50)),
        st.tuples(st.just("spend"), st.integers(0, 40), st.integers(1, 60)),
        st.tuples(st.just("owe"), st.integers(0, 40), st.integers(1, 30)),
        st.tuples(st.just("sweep"), st.integers(0, 45), st.integers(1, 3)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_any_interleaving_keeps_the_invariant_and_expires_each_lot_once(ops):
    # Given credits, spends, debts and sweeps (each replayed 1 to 3 times) in any order
    ledger = FakePointsLedger()
    expiry = PointsExpiry(ledger, Settings(lots_rules(10)))
    spent = 0
    for i, (op, day, n) in enumerate(ops):
        # When each happens
        today = DAY0 + timedelta(days=day)
        if op == "credit":
            credit(ledger, today, n, f"c{i}")
        elif op == "spend":
            spent += n if spend(ledger, n, today, f"s{i}") else 0
        elif op == "owe":
            owe(ledger, n, f"o{i}")
        else:
            for _ in range(n):
                expiry.expire(WS, today)
        # Then the balance's invariant holds at every step, no lot nor the debt below zero
        balance = ledger.balance(WS, CID)
        assert balance.total == sum(balance.lots.values()) - balance.debt
        assert all(v >= 0 for v in balance.lots.values()) and balance.debt >= 0
    # and each lot day has at most one expiry entry, whose points never exceed its lot's credits
    entries = ledger.ledgers.get((WS, CID), {})
    expired = [e for k, e in entries.items() if k.source == "expiry"]
    assert len({e.key for e in expired}) == len(expired)
    for e in expired:
        credited = sum(
            c.points
            for c in entries.values()
            if c.key.source == MANUAL and c.lots == ((e.lots[0][0], c.points),)
        )
        assert 0 <= -e.points <= credited


def inactive_rules(days: int = DAYS):  # type: ignore[no-untyped-def]
    return replace(on(), expiry="inactivity", expiry_days=days)


def test_inactivity_expires_the_whole_available_balance_once_and_a_redemption_resets_it():
    # Given credits on 10 Jan (100) and 20 Jan (50), a pending lot (1 Apr, 70), and a spend on 1 Feb
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    credit(ledger, D2, 50, "b")
    pending = LedgerEntry(WS, CID, EntryKey("order", "o1", "earn"), 70, datetime(2026, 1, 20, tzinfo=UTC))
    assert ledger.earn(replace(pending, available_on=date(2026, 4, 1)))
    assert spend(ledger, 30, date(2026, 2, 1), "s1")  # activity: 1 Feb
    expiry = PointsExpiry(ledger, Settings(inactive_rules()))
    # When the sweep runs 30 days after the first credit (activity since), then 30 days after the spend, twice
    early = expiry.expire(WS, D1 + timedelta(days=DAYS))
    due = expiry.expire(WS, date(2026, 3, 3))
    again = expiry.expire(WS, date(2026, 3, 3))
    # Then nothing before the deadline; on it the 120 available points expire, once; the pending lot stays
    assert early["points_expired"] == 0 and again["points_expired"] == 0
    assert due["points_expired"] == 120
    stored = ledger.entry(WS, CID, EntryKey("expiry", "inactive:2026-02-01", "expire"))
    assert stored is not None and stored.points == -120
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (70, {date(2026, 4, 1): 70}, 0)


def test_inactivity_is_cancelled_by_activity_after_the_read():
    # Given a balance of 100 whose last activity was on 10 Jan
    ledger = FakePointsLedger()
    credit(ledger, D1, 100, "a")
    read = ledger.balance(WS, CID).last_activity
    assert read is not None
    # When a redemption lands between the sweep's read and its write
    assert spend(ledger, 10, D2, "s1")
    entry = LedgerEntry(
        WS, CID, EntryKey("expiry", "inactive:2026-01-10", "expire"), -90, read, lots=((D1, -90),)
    )
    # Then the expiry's write is refused (nothing written)
    assert ledger.expire_inactive(entry, read) is False
    assert ledger.balance(WS, CID).total == 90
