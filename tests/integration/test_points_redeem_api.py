"""Redemption through the Admin API on the stage (moto), its code made in the customer's
Shopify store (the local stand-in of discountCodeBasicCreate): once per key, the amount the
points are worth, a store that refuses gives the points back (502), refusals 409."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.errors import StoreFailed
from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.store_admin import WooCommerceCredentials
from tests.cli_runs import run
from tests.integration.test_flow_store_coupons import TOKEN, VERSION, connect, creations
from tests.integration.test_points_adjust_api import adjust, customer, refusal
from tests.integration.test_store_discounts import discounts as held_discounts
from tests.integration.test_store_discounts import source as woo_source
from tests.storefront_servers import Answer, ShopifyServer, WooCommerceServer, user_errors
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on
from tests.unit.test_points_redeem import D1, D2, NOW, Profiles


def redeem(stage: Any, ws: Any, cid: str, body: dict[str, Any], key: str) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    headers["Idempotency-Key"] = key
    return stage.http.http.post(f"/customers/{cid}/points/redeem", headers=headers, body=json.dumps(body))


@pytest.fixture
def shop(stage, ws, monkeypatch) -> Iterator[ShopifyServer]:
    with ShopifyServer(TOKEN, VERSION, products=0).running() as server:
        connect(stage, ws, monkeypatch, server)
        yield server


def test_points_are_redeemed_once_for_a_code_in_the_customers_store(stage, ws, shop):
    # Given Jane (an order from the connected Shopify source) with 500 points, 1 cent a point
    cid = customer(stage, ws)
    assert adjust(stage, ws, cid, {"points": 500, "reason": "welcome"}, "k-0").status_code == 200
    # When she redeems 250 points, and the request is replayed
    first = redeem(stage, ws, cid, {"points": 250}, "r-1")
    again = redeem(stage, ws, cid, {"points": 250}, "r-1")
    # Then one entry answers both, worth 2.50 in the workspace currency, with its code
    assert first.status_code == 200, first.body
    entry = json.loads(first.body)
    assert json.loads(again.body) == entry
    assert (entry["kind"], entry["points"], Decimal(entry["amount"])) == ("redeem", -250, Decimal("2.50"))
    # And the store has that one single-use code for 2.50 off (a replay found it taken)
    (made,) = shop.discounts
    assert made["code"] == entry["code"] and made["usageLimit"] == 1
    assert made["customerGets"]["value"]["discountAmount"]["amount"] == "2.50"
    assert creations(shop) == 2 and entry["source_id"] == ws.sources["shopify"]["source_id"]
    shown = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    assert (shown["total"], shown["available"]) == (250, 250)
    # And the code is listed with the coupons, so an order that uses it is tracked
    listed = stage.container.coupons.get(ws.workspace_id, entry["code"])
    assert listed is not None and (listed.store_id, listed.amount_off) == (made["id"], Decimal("2.50"))
    assert listed.customer_id == cid and listed.message_key == "redeem:r-1"
    # When the key is reused with another body, too many points are asked, or too few
    reused = redeem(stage, ws, cid, {"points": 260}, "r-1")
    short = redeem(stage, ws, cid, {"points": 251}, "r-2")
    small = redeem(stage, ws, cid, {"points": 99}, "r-3")
    # Then each is refused with its reason
    assert refusal(reused) == (409, "points_refused", "idempotency_key_reused")
    assert refusal(short) == (409, "points_refused", "insufficient_points")
    assert refusal(small) == (409, "points_refused", "below_minimum")


def test_a_store_that_refuses_the_code_gives_the_points_back(stage, ws, shop):
    # Given Jane with 500 points, and a store that refuses the next discount
    cid = customer(stage, ws)
    adjust(stage, ws, cid, {"points": 500, "reason": "welcome"}, "k-0")
    shop.then(user_errors("discountCodeBasicCreate", (["basicCodeDiscount"], "Shop is frozen", "INVALID")))
    # When she redeems 300 points
    failed = redeem(stage, ws, cid, {"points": 300}, "r-1")
    # Then 502 in the error shape, the points restored by a keyed entry, no code made
    body = json.loads(failed.body)
    assert failed.status_code == 502 and body["error"] == "store_failed"
    assert body["details"] == {"reason": "store_failed", "restored_points": 300}
    shown = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    assert (shown["total"], shown["available"]) == (500, 500)
    kinds = sorted((e["source"], e["kind"], e["points"]) for e in shown["entries"])
    assert kinds == [("manual", "adjustment", 500), ("redeem", "redeem", -300), ("redeem", "restore", 300)]
    assert shop.discounts == []


def test_the_cli_sets_the_redemption_rules_and_redeems_as_store_credit(stage, ws, cli_on):
    # Given Jane with 500 points
    cid = customer(stage, ws)
    adjust(stage, ws, cid, {"points": 500, "reason": "welcome"}, "k-0")
    # When the workspace redeems as store credit at 2 cents a point from 50 points (CLI)
    rules = run(
        "workspace", "loyalty", "-w", ws.workspace_id, "--redeem-as", "store_credit",
        "--redeem-value-per-point", "0.02", "--redeem-min-points", "50",
    )  # fmt: skip
    # And the CLI redeems 60 points without a key, then 600 with one
    done = run("customers", "redeem", cid, "-w", ws.workspace_id, "--points", "60")
    short = run("customers", "redeem", cid, "-w", ws.workspace_id, "--points", "600", "--key", "k")
    # Then the rules are shown, the entry records 1.20 of credit (no code), the key it made
    assert rules.exit_code == 0, rules.output
    shown = json.loads(rules.output)
    assert (shown["redeem_as"], shown["redeem_value_per_point"], shown["redeem_min_points"]) == (
        "store_credit",
        "0.02",
        50,
    )
    assert done.exit_code == 0, done.output
    entry = json.loads(done.output)["entry"]
    assert (entry["points"], entry["amount"], entry["code"]) == (-60, "1.20", None)
    assert short.exit_code == 2 and "insufficient_points" in short.output
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["total"] == 440


class WooSource:
    def __init__(self, url: str) -> None:
        self.url = url

    def source(self, workspace_id: str, source_id: str) -> Source:
        return woo_source(Platform.WOOCOMMERCE, self.url)  # src_1, in ws_1


def test_a_woocommerce_store_gets_one_fixed_cart_coupon_and_a_failing_one_gives_back():
    # Given Jane's profile (a WooCommerce order), 350 points, and the WooCommerce stand-in
    with WooCommerceServer("ck", "cs", orders=0).running() as woo:
        ledger = FakePointsLedger()
        service = PointsRedemptions(
            ledger,
            Settings(on()),
            Profiles(),  # type: ignore[arg-type]
            WooSource(woo.url),
            held_discounts(WooCommerceCredentials(consumer_key="ck", consumer_secret="cs")),
        )
        for day, n, key in ((D1, 150, "c1"), (D2, 200, "c2")):
            credit = LedgerEntry(WS, CID, EntryKey("manual", key, "adjustment"), n, PAID_AT, lots=((day, n),))
            ledger.adjust(credit)
        # When 200 points are redeemed twice with one key (named store), then 100 with another
        # key while the store fails on every try
        first = service.redeem(WS, CID, RedeemIn(points=200, source="src_1"), "r-1", NOW)
        again = service.redeem(WS, CID, RedeemIn(points=200, source="src_1"), "r-1", NOW)
        woo.then(*[Answer(500, {"code": "internal_server_error"})] * 2)
        with pytest.raises(StoreFailed):
            service.redeem(WS, CID, RedeemIn(points=100, source="src_1"), "r-2", NOW)
    # Then WooCommerce holds one single-use fixed_cart coupon of 2.00 for her email
    assert first == again
    (held,) = woo.coupons
    assert (held["code"], held["discount_type"], held["amount"]) == (first.code, "fixed_cart", "2.00")
    assert held["usage_limit"] == 1 and held["email_restrictions"] == ["jane@example.com"]
    # And the failed redemption's points came back to their lot: 150 left
    balance = ledger.balance(WS, CID)
    assert (balance.total, balance.lots) == (150, {D2: 150})
