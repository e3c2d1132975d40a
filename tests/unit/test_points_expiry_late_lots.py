"""Lots that arrive after their day was swept still expire (domain/loyalty/expiry.py,
docs/loyalty.md#expiry): a redemption's give-back written after the lots it returns were
due, and the historical import's lot, are listed under the day a sweep still to run reads
(`listing_day`), and a visit expires every due lot of the customer, a second time under the
next free key when the lot was expired before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.errors import StoreFailed
from chalicelib.domain.loyalty.expiry import PointsExpiry, expiry_key, listing_day
from chalicelib.domain.loyalty.history import HISTORICAL
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from chalicelib.domain.models import OrderStatus
from chalicelib.domain.store_admin import AdminApiError
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on
from tests.unit.test_points_expiry import credit, spend
from tests.unit.test_points_history import bring, imported
from tests.unit.test_points_history import setup as history_setup
from tests.unit.test_points_redeem import D1, D2, Profiles, Sources
from tests.unit.test_points_redeem import setup as redeem_setup

DAYS = 60  # D1 (1 Nov) is due on 31 Dec, D2 (20 Nov) on 19 Jan


class Store:
    """The store's Admin API: the first call dies with the Lambda (after the redemption's
    write), every later one fails for good."""

    def __init__(self) -> None:
        self.calls = 0

    def create(self, *args: object) -> object:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the function timed out")
        raise AdminApiError("the store is down", 503)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def sweep_days(expiry: PointsExpiry, first: date, last: date) -> int:
    """The daily sweep on each day from `first` to `last`, twice a day; the points expired."""
    expired = 0
    while first <= last:
        expired += sum(expiry.expire(WS, first)["points_expired"] for _ in range(2))
        first += timedelta(days=1)
    return expired


def test_a_give_back_after_its_lots_were_due_expires_them_at_the_next_sweep():
    # Given 150 points in a 1 Nov lot and 200 in a 20 Nov lot, lots expiring after 60 days,
    # and a redemption of 250 on 12 Dec whose store call died with the Lambda
    _, ledger, _ = redeem_setup()
    rules = Settings(replace(on(), expiry="lots", expiry_days=DAYS))
    service = PointsRedemptions(ledger, rules, Profiles(), Sources(), Store())  # type: ignore[arg-type]
    body = RedeemIn(points=250)
    with pytest.raises(RuntimeError):
        service.redeem(WS, CID, body, "r-1", noon(date(2026, 12, 12)))
    expiry = PointsExpiry(ledger, rules)
    # and the daily sweeps from 31 Dec to 25 Jan expired the 100 left of the 20 Nov lot
    assert sweep_days(expiry, date(2026, 12, 31), date(2027, 1, 25)) == 100
    # When the client retries the key on 1 Feb, the store fails for good (the 250 are given
    # back to the very lots they came from, both past their day), and the sweeps run on
    with pytest.raises(StoreFailed):
        service.redeem(WS, CID, body, "r-1", noon(date(2027, 2, 1)))
    assert ledger.balance(WS, CID).lots == {D1: 150, D2: 100}
    late = sweep_days(expiry, date(2027, 2, 1), date(2027, 2, 10))
    # Then the returned points expire on the give-back's day, once: the 1 Nov lot under its
    # first key (spent when its day was swept), the 20 Nov lot under its second
    assert late == 250
    first, second = ledger.entry(WS, CID, expiry_key(D1)), ledger.entry(WS, CID, expiry_key(D2, 2))
    assert first is not None and (first.points, first.lots) == (-150, ((D1, -150),))
    assert second is not None and second.key.external_id == "2026-11-20#2" and second.points == -100
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (0, {}, 0)


def test_a_give_back_before_its_lots_are_due_waits_for_their_own_day():
    # Given lots of 1 Nov and 20 Nov, 60-day expiry, and a redemption given back on 12 Dec
    service, ledger, _ = redeem_setup(fail=True, expiry="lots", expiry_days=DAYS)
    with pytest.raises(StoreFailed):
        service.redeem(WS, CID, RedeemIn(points=250), "r-1", noon(date(2026, 12, 12)))
    expiry = PointsExpiry(ledger, Settings(replace(on(), expiry="lots", expiry_days=DAYS)))
    # When the sweep runs the day before the 1 Nov lot is due, then on its day
    before = sweep_days(expiry, date(2026, 12, 30), date(2026, 12, 30))
    due = sweep_days(expiry, date(2026, 12, 31), date(2026, 12, 31))
    # Then it expires on its own day, not before; the 20 Nov lot stays
    assert (before, due) == (0, 150)
    assert ledger.balance(WS, CID).lots == {D2: 200}


def test_the_day_a_late_lot_is_listed_under():
    # Given a 60-day expiry
    # When a lot is credited before its due day, on it, and after it
    # Then it is listed under its own day, or under the day due at the credit
    today = date(2027, 2, 1)
    assert listing_day(date(2027, 1, 1), today, DAYS) == date(2027, 1, 1)
    assert listing_day(date(2026, 12, 3), today, DAYS) == date(2026, 12, 3)
    assert listing_day(date(2026, 11, 1), today, DAYS) == date(2026, 12, 3)


def test_a_lot_found_under_a_later_bucket_is_expired_with_it():
    # Given a lot of 1 Jan never listed (credited while expiry was off) and one of 5 Jan
    ledger = redeem_setup()[1]
    from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey, LedgerEntry

    old = LedgerEntry(WS, "c_2", EntryKey(MANUAL, "old", ADJUSTMENT), 40, noon(date(2026, 1, 1)))
    assert ledger.adjust(replace(old, lots=((date(2026, 1, 1), 40),)), list_lots=False)
    credit(ledger, date(2026, 1, 5), 60, "new", cid="c_2")
    assert spend(ledger, 10, date(2026, 1, 5), "s", cid="c_2")  # from the oldest: 1 Jan
    # When the sweep of the 5 Jan lot runs
    result = PointsExpiry(ledger, Settings(replace(on(), expiry="lots", expiry_days=30))).expire(
        WS, date(2026, 2, 4)
    )
    # Then both lots expire, each by its own keyed entry
    assert (result["lots_expired"], result["points_expired"]) == (2, 90)
    assert ledger.balance(WS, "c_2").total == 0


@pytest.mark.parametrize(
    ("days_since", "expires_on"),
    [(30, date(2027, 3, 3)), (400, date(2027, 2, 1))],
)
def test_the_historical_lot_expires_like_any_lot(days_since, expires_on):
    # Given 60-day lots expiry, the historical policy, and imported orders whose latest
    # payment was 30 (or 400) days before the import on 1 Feb 2027
    import_day = date(2027, 2, 1)
    paid = noon(import_day - timedelta(days=days_since))
    rules = Settings(replace(on("2"), import_policy="historical", expiry="lots", expiry_days=DAYS))
    service, ledger, orders, profiles = history_setup(rules)
    image = imported("1", "30.00", OrderStatus.PAID, days=(paid - PAID_AT).days)
    bring(orders, profiles, image)
    # When the import's recompute runs, and the daily sweeps until 60 days after its lot
    service.apply(WS, [CID], noon(import_day))
    entry = ledger.entry(WS, CID, HISTORICAL)
    assert entry is not None and entry.points == 60
    lot = entry.at.date()
    expiry = PointsExpiry(ledger, rules)
    before = sweep_days(expiry, import_day, expires_on - timedelta(days=1))
    on_day = sweep_days(expiry, expires_on, expires_on + timedelta(days=3))
    # Then its 60 points expire once, 60 days after its lot's day (or at the import's own
    # sweep when that day has passed), never before
    assert (before, on_day) == (0, 60)
    assert ledger.balance(WS, CID).lots == {}
    assert lot + timedelta(days=DAYS) <= expires_on
