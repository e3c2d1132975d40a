"""The CouponLedger and CouponListing ports' contract: one suite, run against the unit
tests' fake and the DynamoDB adapter on moto (the coupon items and the flow's statistics
move in one conditional transaction); and the redeemed coupon item's layout round-trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters.coupon_ledger import DynamoCouponLedger
from chalicelib.adapters.flows import DynamoCoupons, coupon_from_item, coupon_item
from chalicelib.adapters.messaging import DynamoStats
from chalicelib.domain.messaging.flow_definition import IssuedCoupon
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_coupons import FakeCouponLedger

WS = "ws_1"
SCOPE = "flow#abandoned-checkout"
NOW = "2026-11-24T00:00:00.000000Z"


class OnMoto:
    """The adapter, with the issuing and the statistics reading of the same table."""

    def __init__(self, stage: MotoStage) -> None:
        self.ledger = DynamoCouponLedger(stage.crm)
        self.coupons = DynamoCoupons(stage.crm)
        self.stats = DynamoStats(stage.crm)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ledger, name)

    def issue(self, ws: str, coupon: IssuedCoupon) -> IssuedCoupon:
        return self.coupons.issue(ws, coupon)

    def counts(self) -> dict[str, Any]:
        got = self.stats.get(WS, SCOPE)
        return {k: got[k] for k in ("codes_redeemed", "coupon_revenue")}


class OnFake(FakeCouponLedger):
    def counts(self) -> dict[str, Any]:
        got = self.stats.get(SCOPE, {})
        return {k: got.get(k, 0) for k in ("codes_redeemed", "coupon_revenue")}


ledger = port_fixture(OnFake, OnMoto)
__all__ = ["moto_stage"]  # the fixture the moto side asks for


def coupon(code: str, key: str = "flow:abandoned-checkout:k1:1", exp: str = "2026-11-25T12:00:00.000000Z"):
    return IssuedCoupon(
        code=code, customer_id="c_000a", message_key=key, expires_at=exp, percent_off=Decimal(10)
    )


def test_a_redemption_is_recorded_once_revised_and_given_back_with_its_counts(ledger: Any):
    # Given an issued coupon
    ledger.issue(WS, coupon("BACK1"))
    # When an order redeems it, twice (a replay), then another order tries
    first = ledger.redeem(WS, "BACK1", "W#ws_1#O#1", Decimal("50.00"), "2026-11-23T15:00:00.000000Z", SCOPE)
    again = ledger.redeem(WS, "BACK1", "W#ws_1#O#1", Decimal("50.00"), "2026-11-23T15:00:00.000000Z", SCOPE)
    other = ledger.redeem(WS, "BACK1", "W#ws_1#O#2", Decimal("9.00"), "2026-11-23T16:00:00.000000Z", SCOPE)
    # Then it is the first order's, counted once
    assert (first, again, other) == (True, False, False)
    held = ledger.get(WS, "BACK1")
    assert held.order_key == "W#ws_1#O#1" and held.revenue == Decimal("50.00")
    assert held.redeemed_at == "2026-11-23T15:00:00.000000Z"
    assert ledger.counts() == {"codes_redeemed": 1, "coupon_revenue": Decimal("50.00")}
    # When its revenue is revised from what was read, then from a stale read
    revised = ledger.revise(WS, "BACK1", "W#ws_1#O#1", Decimal("50.00"), Decimal("40.00"), SCOPE)
    stale = ledger.revise(WS, "BACK1", "W#ws_1#O#1", Decimal("50.00"), Decimal("30.00"), SCOPE)
    # Then only the first moves it
    assert (revised, stale) == (True, False) and ledger.get(WS, "BACK1").revenue == Decimal("40.00")
    assert ledger.counts() == {"codes_redeemed": 1, "coupon_revenue": Decimal("40.00")}
    # When another order, then the redeeming one gives it back
    wrong = ledger.unredeem(WS, "BACK1", "W#ws_1#O#2", Decimal("40.00"), SCOPE)
    back = ledger.unredeem(WS, "BACK1", "W#ws_1#O#1", Decimal("40.00"), SCOPE)
    # Then only the redeeming order's counts, and the coupon is unused again
    assert (wrong, back) == (False, True)
    held = ledger.get(WS, "BACK1")
    assert held.order_key is None and held.revenue is None and held.redeemed_at is None
    assert ledger.counts() == {"codes_redeemed": 0, "coupon_revenue": Decimal("0")}
    # and a code never issued is not redeemed
    assert ledger.redeem(WS, "NOPE", "W#ws_1#O#3", Decimal(1), NOW, SCOPE) is False
    assert ledger.get(WS, "NOPE") is None


def test_a_page_of_coupons_by_status_and_flow(ledger: Any):
    # Given three coupons: one redeemed, one expired, one of another flow still valid
    ledger.issue(WS, coupon("A1"))
    ledger.issue(WS, coupon("B2", exp="2026-11-23T00:00:00.000000Z"))
    ledger.issue(WS, coupon("C3", key="flow:win-back:c_1:0"))
    ledger.redeem(WS, "A1", "W#ws_1#O#1", Decimal("5.00"), "2026-11-23T15:00:00.000000Z", SCOPE)

    # When pages are read by status and by flow
    def codes(status: str | None, prefix: str | None = None, limit: int = 10) -> list[str]:
        return [c.code for c in ledger.page(WS, status, prefix, NOW, limit, None)[0]]

    # Then each holds what it asked for
    assert codes("redeemed") == ["A1"] and codes("expired") == ["B2"] and codes("issued") == ["C3"]
    assert codes(None, "flow:win-back:") == ["C3"] and codes(None) == ["A1", "B2", "C3"]
    # and a page of two continues from its cursor
    page, cursor = ledger.page(WS, None, None, NOW, 2, None)
    rest, _ = ledger.page(WS, None, None, NOW, 2, cursor)
    assert [c.code for c in page] == ["A1", "B2"] and cursor == "B2" and [c.code for c in rest] == ["C3"]


def test_the_redeemed_coupon_item_layout_round_trips():
    # Given a redeemed coupon
    held = IssuedCoupon(
        code="BACK1",
        customer_id="c_000a",
        message_key="flow:abandoned-checkout:k1:1",
        expires_at="2026-11-25T12:00:00.000000Z",
        percent_off=Decimal(10),
        issued_at="2026-11-23T12:00:00.000000Z",
        order_key="W#ws_1#O#1",
        redeemed_at="2026-11-23T15:00:00.000000Z",
        revenue=Decimal("50.00"),
    )
    # When written as an item and read back
    item = coupon_item(WS, held)
    # Then the short attributes hold the redemption, and nothing is lost
    assert (item["ro"], item["rat"], item["rrev"]) == (
        "W#ws_1#O#1",
        "2026-11-23T15:00:00.000000Z",
        Decimal("50.00"),
    )
    assert coupon_from_item({k: v for k, v in item.items() if v is not None}) == held
