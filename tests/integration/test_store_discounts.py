"""The StoreDiscounts adapter against the local stand-ins: the documented request shapes for
Shopify's discountCodeBasicCreate and WooCommerce's POST /coupons, a code the store already
has taken as created, a refusal and a store that keeps failing raised."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.adapters.storefront_admin.discounts import AdminStoreDiscounts
from chalicelib.adapters.storefront_admin.http import RetryPolicy
from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoreCode
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.store_admin import (
    AdminCredentials,
    AdminUnavailable,
    AdminUserErrors,
    ShopifyCredentials,
    WooCommerceApiError,
    WooCommerceCredentials,
)
from tests.storefront_servers import Answer, ShopifyServer, WooCommerceServer, user_errors

COUPON = IssuedCoupon(
    code="BACKABCDEFGHIJ",
    customer_id="c_1",
    message_key="flow:abandoned-checkout:k1:1",
    expires_at="2026-11-22T19:13:44.000000Z",
    percent_off=Decimal("10"),
    issued_at="2026-11-20T19:13:44.000000Z",
)


class Held:
    def __init__(self, credentials: AdminCredentials) -> None:
        self.credentials = credentials

    def admin_credentials(self, secret_ref: str, api_version: str | None) -> AdminCredentials:
        return self.credentials


def source(platform: Platform, url: str) -> Source:
    return Source(
        workspace_id="ws_1",
        source_id="src_1",
        platform=platform,
        shop_domain="shop.example",
        secret_ref="ref",
        admin_ref="admin-ref",
        admin_endpoint=url,
    )


def discounts(credentials: AdminCredentials) -> AdminStoreDiscounts:
    return AdminStoreDiscounts(Held(credentials), RetryPolicy(attempts=2, sleep=lambda s: None))


def test_shopify_gets_one_single_use_code_for_the_known_customer_and_taken_means_created():
    with ShopifyServer("tok", "2025-07", products=0).running() as shop:
        made = discounts(ShopifyCredentials(access_token="tok", api_version="2025-07"))
        src = source(Platform.SHOPIFY, shop.url)
        # When the code is created for a customer the store knows, and created again
        first = made.create(src, COUPON, "7204518390331", "jane.doe@example.com")
        again = made.create(src, COUPON, "7204518390331", "jane.doe@example.com")
    # Then the store holds one code, for that customer, once, until the coupon's expiry
    (held,) = shop.discounts
    assert first == StoreCode(held["id"]) and again == StoreCode(None, existed=True)
    assert held["context"] == {"customers": {"add": ["gid://shopify/Customer/7204518390331"]}}
    assert (held["usageLimit"], held["appliesOncePerCustomer"], held["endsAt"]) == (
        1,
        True,
        COUPON.expires_at,
    )


def test_shopify_refusal_is_raised():
    with ShopifyServer("tok", "2025-07", products=0).running() as shop:
        # Given a store that refuses the input
        shop.then(user_errors("discountCodeBasicCreate", (["basicCodeDiscount", "code"], "bad", "INVALID")))
        made = discounts(ShopifyCredentials(access_token="tok", api_version="2025-07"))
        # When the code is created for a guest (no store id): Then the refusal is raised
        with pytest.raises(AdminUserErrors):
            made.create(source(Platform.SHOPIFY, shop.url), COUPON, None, None)


def test_woocommerce_gets_the_documented_coupon_and_exists_means_created():
    with WooCommerceServer("ck", "cs", orders=0).running() as woo:
        made = discounts(WooCommerceCredentials(consumer_key="ck", consumer_secret="cs"))
        src = source(Platform.WOOCOMMERCE, woo.url)
        # When the coupon is created, and created again
        first = made.create(src, COUPON, None, "jane.doe@example.com")
        again = made.create(src, COUPON, None, "jane.doe@example.com")
    # Then WooCommerce holds one single-use coupon, for her email, until the expiry (UTC)
    (held,) = woo.coupons
    assert first == StoreCode(str(held["id"])) and again == StoreCode(None, existed=True)
    assert held["discount_type"] == "percent" and held["amount"] == "10"
    assert (held["usage_limit"], held["usage_limit_per_user"]) == (1, 1)
    assert held["date_expires_gmt"] == "2026-11-22T19:13:44"
    assert held["email_restrictions"] == ["jane.doe@example.com"]


def test_woocommerce_failing_or_refusing_is_raised():
    error = {"code": "woocommerce_rest_invalid_coupon", "message": "no", "data": {"status": 400}}
    with WooCommerceServer("ck", "cs", orders=0).running() as woo:
        made = discounts(WooCommerceCredentials(consumer_key="ck", consumer_secret="cs"))
        src = source(Platform.WOOCOMMERCE, woo.url)
        # Given a store that fails on every try, then one that refuses
        woo.then(
            Answer(500, {"code": "internal_server_error"}), Answer(500, {"code": "internal_server_error"})
        )
        with pytest.raises(AdminUnavailable):
            made.create(src, COUPON, None, None)
        woo.then(Answer(400, error))
        with pytest.raises(WooCommerceApiError):
            made.create(src, COUPON, None, None)
    # Then nothing was created
    assert woo.coupons == []
