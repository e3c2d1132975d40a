"""Redemption on the fakes: points spent oldest lots first, once per Idempotency-Key, for a
code made in the customer's store (the same code on a retry) or store credit; refusals
(insufficient, below the minimum, loyalty off, debt, no store); a store that fails for good
gives the same lots back, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import NotFound, StoreFailed
from chalicelib.domain.loyalty.adjust import PointsRefused
from chalicelib.domain.loyalty.model import REDEEM, RESTORE, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoreCode
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.store_admin import AdminApiError
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on

NOW = PAID_AT + timedelta(days=40)
D1, D2 = date(2026, 11, 1), date(2026, 11, 20)


class Profiles:
    def __init__(self) -> None:
        self.profile = CustomerProfile(
            WS,
            CID,
            email="jane@example.com",
            external_ids={"shopify:s1:77", "woocommerce:w1:9"},
            orders={
                "s1.1001": OrderEntry(version=1, placed_at=1_700_000_000),
                "w1.5": OrderEntry(version=1, placed_at=1_600_000_000),
            },
        )

    def load(self, workspace_id: str, customer_id: str) -> Any:
        return self.profile if customer_id in (CID, "c_merged") else None


class Sources:
    def source(self, workspace_id: str, source_id: str) -> Source | None:
        platform = Platform.SHOPIFY if source_id == "s1" else Platform.WOOCOMMERCE
        ref = None if source_id == "w2" else f"ref-{source_id}"
        return Source(
            workspace_id=WS,
            source_id=source_id,
            platform=platform,
            shop_domain=f"{source_id}.example",
            secret_ref="secret",
            admin_ref=ref,
        )


class Discounts:
    def __init__(self, fail: bool = False) -> None:
        self.made: list[tuple[str, IssuedCoupon, str | None]] = []
        self.fail = fail

    def create(self, source: Source, coupon: IssuedCoupon, store_customer_id: str | None, email: str | None):
        if self.fail:
            raise AdminApiError("the store is down", 503)
        existed = any(c.code == coupon.code for _, c, _ in self.made)
        self.made.append((source.source_id, coupon, store_customer_id))
        return StoreCode(None if existed else "gid://shopify/DiscountCodeNode/1", existed=existed)


def setup(fail: bool = False, **rules: Any) -> tuple[PointsRedemptions, FakePointsLedger, Discounts]:
    ledger, discounts = FakePointsLedger(), Discounts(fail)
    settings = Settings(replace(on(), **rules))
    service = PointsRedemptions(ledger, settings, Profiles(), Sources(), discounts)  # type: ignore[arg-type]
    for day, n, key in ((D1, 150, "c1"), (D2, 200, "c2")):
        ledger.adjust(
            LedgerEntry(WS, CID, EntryKey("manual", key, "adjustment"), n, PAID_AT, lots=((day, n),))
        )
    return service, ledger, discounts


def redeem(
    service: PointsRedemptions, points: int, key: str = "r-1", source: str | None = None
) -> LedgerEntry:
    return service.redeem(WS, CID, RedeemIn(points=points, source=source), key, NOW)


def test_a_redemption_spends_the_oldest_lots_and_makes_one_code_in_the_latest_orders_store():
    # Given 150 points in a 1 Nov lot and 200 in a 20 Nov lot, 1 cent a point
    service, ledger, discounts = setup()
    # When 250 points are redeemed, and the request replayed twice
    answers = [redeem(service, 250) for _ in range(3)]
    # Then one entry took 150 + 100 oldest first, worth 2.50 EUR, with a code
    entry = answers[0]
    assert all(a == entry for a in answers)
    assert (entry.points, entry.lots, entry.amount, entry.currency) == (
        -250,
        ((D1, -150), (D2, -100)),
        Decimal("2.50"),
        "EUR",
    )
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots) == (100, {D2: 100})
    # And the code was made in the latest order's store (s1), for its customer id there, single-use
    source_id, coupon, store_customer = discounts.made[0]
    assert (source_id, store_customer, coupon.code, coupon.amount_off) == (
        "s1",
        "77",
        entry.code,
        Decimal("2.50"),
    )
    assert entry.code is not None and entry.code.startswith("PTS-") and entry.store_source == "s1"
    # And every replay asked for the same code (the store had it: one code)
    assert {c.code for _, c, _ in discounts.made} == {entry.code}


def test_another_key_makes_another_code_and_the_same_key_with_another_body_is_refused():
    # Given a redemption of 100 points under r-1
    service, _, _ = setup()
    first = redeem(service, 100)
    # When r-2 redeems 100 more, and r-1 is sent with 120 points
    second = redeem(service, 100, "r-2")
    with pytest.raises(PointsRefused) as reused:
        redeem(service, 120)
    # Then r-2 has its own code, and the reused key is refused
    assert first.code != second.code
    assert reused.value.reason == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("points", "rules", "reason"),
    [
        (351, {}, "insufficient_points"),
        (50, {}, "below_minimum"),
        (100, {"enabled": False}, "loyalty_off"),
    ],
)
def test_business_rules_refuse_with_a_reason_and_spend_nothing(points, rules, reason):
    # Given 350 available points
    service, ledger, discounts = setup(**rules)
    # When a redemption breaks a rule
    with pytest.raises(PointsRefused) as refused:
        redeem(service, points)
    # Then it is refused with its reason, and no point moved, no code made
    assert refused.value.reason == reason
    assert ledger.balance(WS, CID).total == 350 and discounts.made == []


def test_a_customer_in_debt_beyond_their_points_cannot_redeem():
    # Given 350 points and a debt of 400 (refunded points they had spent)
    service, ledger, _ = setup()
    ledger.adjust(LedgerEntry(WS, CID, EntryKey("refund", "x.r1", "reverse"), -400, PAID_AT, debt=400))
    # When 100 points are redeemed
    with pytest.raises(PointsRefused) as refused:
        redeem(service, 100)
    # Then it is refused for the debt
    assert refused.value.reason == "debt"


def test_a_store_that_fails_gives_the_same_lots_back_once_and_answers_502():
    # Given a store whose Admin API fails for good
    service, ledger, _ = setup(fail=True)
    # When 250 points are redeemed, and the request replayed
    with pytest.raises(StoreFailed) as failed:
        redeem(service, 250)
    with pytest.raises(StoreFailed):
        redeem(service, 250)
    # Then the points are back in the very lots they came from, by one restore entry
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots, balance.debt) == (350, {D1: 150, D2: 200}, 0)
    back = ledger.entry(WS, CID, EntryKey(REDEEM, "r-1", RESTORE))
    assert back is not None and (back.points, back.lots) == (250, ((D1, 150), (D2, 100)))
    assert failed.value.details == {"reason": "store_failed", "restored_points": 250}


def test_store_credit_and_the_store_choice():
    # Given a workspace that redeems as store credit at 2 cents a point
    service, ledger, discounts = setup(redeem_as="store_credit", redeem_value_per_point=Decimal("0.02"))
    # When 125 points are redeemed
    entry = redeem(service, 125)
    # Then the entry records 2.50 of credit, no code, no store call
    assert (entry.amount, entry.code, discounts.made) == (Decimal("2.50"), None, [])
    # And with codes: a named store is used; a store without an Admin API is no_store
    coded, _, made = setup()
    assert redeem(coded, 100, "r-w", source="w1").store_source == "w1" and made.made[0][2] == "9"
    with pytest.raises(PointsRefused) as refused:
        redeem(coded, 100, "r-x", source="w2")
    assert refused.value.reason == "no_store"
    with pytest.raises(NotFound):
        coded.redeem(WS, "c_nobody", RedeemIn(points=100), "r-y", NOW)
    assert ledger.balance(WS, CID).total == 225


def test_the_redemption_rules_round_trip_through_the_workspace_item():
    from chalicelib.adapters.workspace_store import loyalty_from_item, loyalty_item

    # Given rules with every redemption field away from its default
    rules = replace(
        on(),
        redeem_value_per_point=Decimal("0.025"),
        redeem_min_points=250,
        redeem_as="store_credit",
        redeem_code_valid_days=30,
    )
    # When they are mapped to the workspace item's `loy` map and back
    # Then they are the same (and an item without them reads the defaults)
    assert loyalty_from_item(loyalty_item(rules)) == rules
    assert loyalty_from_item({"on": True}).redeem_min_points == 100
