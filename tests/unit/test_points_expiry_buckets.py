"""The lot-day buckets follow the expiry policy (docs/loyalty.md#expiry): a credit lists its
lot day only when the workspace expires points (none: no bucket, no write unit), and a
merge's transfer lists the survivor under the moved lots' days so they still expire."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.loyalty.bonuses import PointsActions
from chalicelib.domain.loyalty.expiry import PointsExpiry, expiry_key
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.merge import LedgerMerges
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order

X, S = "c_gone", "c_kept"
NOW = PAID_AT + timedelta(days=1)
LOT = PAID_AT.date() + timedelta(days=1)  # a return window of 0: available the next day
BONUS_AT = NOW + timedelta(days=3)
DAYS = 30


def rules(expiry: str) -> LoyaltyRules:
    return replace(on(window=0), expiry=expiry, expiry_days=DAYS, bonuses={"review": 10})


class Profiles:
    def load(self, workspace_id: str, customer_id: str):  # type: ignore[no-untyped-def]
        from chalicelib.domain.customer_profile import CustomerProfile

        return CustomerProfile(workspace_id=workspace_id, customer_id=customer_id)


@pytest.mark.parametrize(("expiry", "listed"), [("none", False), ("lots", True), ("inactivity", True)])
def test_a_credit_lists_its_lot_day_only_when_points_expire(expiry: str, listed: bool):
    # Given a workspace whose expiry policy is `expiry`
    ledger = FakePointsLedger()
    workspaces = Settings(rules(expiry))
    # When an order earns and a bonus is credited
    PointsService(ledger, workspaces).on_order(order("100.00"), NOW, CID)
    PointsActions(ledger, workspaces, Profiles()).credit(WS, CID, "review", BONUS_AT)
    # Then the points are on the balance whatever the policy
    assert ledger.balance(WS, CID).total == 110
    # And the customer is listed under the lots' days only when points expire
    days = {day for (ws, day), ids in ledger.lot_days.items() if CID in ids}
    assert days == ({LOT, BONUS_AT.date()} if listed else set())


def test_points_earned_while_expiry_was_off_do_not_expire_by_lots():
    # Given an order earned while expiry was off
    ledger = FakePointsLedger()
    PointsService(ledger, Settings(rules("none"))).on_order(order("100.00"), NOW, CID)
    # When lot expiry is switched on and the sweep runs on the lot's due day
    result = PointsExpiry(ledger, Settings(rules("lots"))).expire(WS, LOT + timedelta(days=DAYS))
    # Then the lot was never listed: nothing expires
    assert result["lots_expired"] == 0 and ledger.balance(WS, CID).total == 100


def test_a_later_credit_in_the_same_lot_day_lists_the_earlier_points_too():
    # Given an order earned while expiry was off, then lot expiry on and a second order paid
    # the same day
    ledger = FakePointsLedger()
    PointsService(ledger, Settings(rules("none"))).on_order(order("100.00", order_id="1"), NOW, CID)
    PointsService(ledger, Settings(rules("lots"))).on_order(order("50.00", order_id="2"), NOW, CID)
    # When the sweep runs on the lot's due day
    result = PointsExpiry(ledger, Settings(rules("lots"))).expire(WS, LOT + timedelta(days=DAYS))
    # Then the whole lot expires, the points earned while expiry was off with it
    assert (result["lots_expired"], result["points_expired"]) == (1, 150)


@pytest.mark.parametrize(("expiry", "expires"), [("none", False), ("lots", True)])
def test_a_merged_lot_still_expires_on_the_survivor(expiry: str, expires: bool):
    # Given X earned a lot on LOT (listed when expiry is on), and S never earned
    ledger = FakePointsLedger()
    workspaces = Settings(rules(expiry))
    PointsService(ledger, workspaces).on_order(order("100.00", order_id="1"), NOW, X)
    # When X is merged into S, and lot expiry runs on LOT's due day
    moved = LedgerMerges(ledger, workspaces).transfer(WS, X, S, NOW + timedelta(days=2))
    assert moved is not None and ledger.balance(WS, S).lots.get(LOT) == 100
    swept = PointsExpiry(ledger, Settings(rules("lots"))).expire(WS, LOT + timedelta(days=DAYS))
    # Then with expiry on, S is listed under LOT and the moved lot expires on S's balance
    assert (S in ledger.lot_days.get((WS, LOT), set())) is expires
    assert (ledger.entry(WS, S, expiry_key(LOT)) is not None) is expires
    assert ledger.balance(WS, S).total == (0 if expires else 100)
    assert swept["points_expired"] == (100 if expires else 0)
