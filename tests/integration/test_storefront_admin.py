"""The Admin API clients against local stand-ins of Shopify and WooCommerce (127.0.0.1):
pagination, cost-based throttling, userErrors, retries with backoff, typed one-line errors.
Waits go through an injected sleep, so nothing here sleeps or reads the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.storefront_admin.http import HttpResponse, RetryPolicy, retry_after
from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.domain.store_admin import (
    AdminAuthError,
    AdminQueryError,
    AdminUnavailable,
    AdminUserErrors,
    ShopifyCredentials,
    WooCommerceApiError,
    WooCommerceCredentials,
)
from tests.storefront_servers import Answer, ShopifyServer, WooCommerceServer, throttled, user_errors

TOKEN = "shpat_0123456789abcdef"
VERSION = "2025-07"
PRODUCTS = (
    "query($after: String) { products(first: 2, after: $after) "
    "{ nodes { id title } pageInfo { hasNextPage endCursor } } }"
)
DISCOUNT = (
    "mutation($d: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $d) "
    "{ codeDiscountNode { id } userErrors { field message code } } }"
)


class Waits(list[float]):
    """The injected sleep: records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(round(seconds, 6))


def policy(waits: Waits, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(
        attempts=attempts, base=1.0, cap=30.0, timeout=5.0, sleep=waits, monotonic=lambda: 1000.0
    )


@pytest.fixture
def shop() -> Iterator[ShopifyServer]:
    with ShopifyServer(TOKEN, VERSION, products=5, page_size=2).running() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def woo() -> Iterator[WooCommerceServer]:
    with WooCommerceServer("ck_key", "cs_secret", orders=250).running() as server:
        yield server  # type: ignore[misc]


def shopify(server: ShopifyServer, waits: Waits, token: str = TOKEN, attempts: int = 3) -> ShopifyAdmin:
    credentials = ShopifyCredentials(access_token=token, api_version=VERSION)
    return ShopifyAdmin("my-shop.myshopify.com", credentials, server.url, policy(waits, attempts))


def woocommerce(server: WooCommerceServer, waits: Waits, secret: str = "cs_secret") -> WooCommerceAdmin:  # noqa: S107
    credentials = WooCommerceCredentials(consumer_key="ck_key", consumer_secret=secret)
    return WooCommerceAdmin("shop.example", credentials, server.url, policy(waits))


# -- Shopify ---------------------------------------------------------------------------
def test_shopify_pagination_walks_every_page_with_the_documented_request(shop):
    # Given a shop of 5 products served 2 a page, and a bucket that always holds the query
    waits = Waits()

    # When every product node is read
    nodes = list(shopify(shop, waits).nodes(PRODUCTS, ("products",)))

    # Then every page was asked for once, each cursor following the last page's endCursor
    assert [n["title"] for n in nodes] == [f"Product {n}" for n in range(1, 6)]
    assert len(shop.seen) == 3
    assert shop.seen[0].body["variables"] == {"after": None}
    assert all(s.body["query"] == PRODUCTS for s in shop.seen)
    assert all(s.headers["x-shopify-access-token"] == TOKEN for s in shop.seen)
    assert waits == []


def test_shopify_waits_for_the_bucket_before_a_query_it_cannot_hold(shop):
    # Given answers saying a query costs 100 while 40 points are available, restoring 50 a second
    shop.cost = (100.0, 40.0, 50.0)
    waits = Waits()

    # When three pages are read
    list(shopify(shop, waits).nodes(PRODUCTS, ("products",)))

    # Then the second and third queries each waited (100 - 40) / 50 seconds first
    assert waits == [1.2, 1.2]


def test_a_throttled_query_is_waited_out_and_tried_again(shop):
    # Given Shopify throttles the first query (requested 752, available 666, restore 50/s)
    shop.then(throttled(752, 666, 50))
    waits = Waits()

    # When a page is asked for
    data = shopify(shop, waits).query(PRODUCTS, {"after": None})

    # Then it waited (752 - 666) / 50 seconds and the same query got its page
    assert waits == [1.72]
    assert len(shop.seen) == 2 and shop.seen[0].body == shop.seen[1].body
    assert len(data["products"]["nodes"]) == 2


def test_user_errors_raise_a_typed_error_with_a_one_line_message(shop):
    # Given the store refuses a discount code that already exists
    shop.then(
        user_errors(
            "discountCodeBasicCreate",
            (["basicCodeDiscount", "code"], "Code must be unique. Please try a different code.", "TAKEN"),
        )
    )

    # When the mutation is sent
    with pytest.raises(AdminUserErrors) as refused:
        shopify(shop, Waits()).mutate(DISCOUNT, {"d": {"code": "BACK10"}}, "discountCodeBasicCreate")

    # Then the error carries the userErrors and says which field, on one line
    assert refused.value.user_errors[0]["code"] == "TAKEN"
    assert str(refused.value) == (
        "Shopify refused discountCodeBasicCreate: basicCodeDiscount.code: "
        "Code must be unique. Please try a different code."
    )


def test_graphql_errors_raise_a_query_error(shop):
    # Given the store rejects the query itself
    shop.then(Answer(200, {"errors": [{"message": "Field 'nope' doesn't exist on type 'Product'"}]}))

    # When it is sent, Then a typed error names the problem
    with pytest.raises(AdminQueryError, match="Field 'nope' doesn't exist"):
        shopify(shop, Waits()).query("{ products(first: 1) { nodes { nope } } }")


def test_a_bad_token_raises_an_auth_error_at_once_without_the_token(shop):
    # Given a revoked token
    # When a query is sent
    with pytest.raises(AdminAuthError) as refused:
        shopify(shop, Waits(), token="shpat_revoked_token_0000").query(PRODUCTS)

    # Then it is a one-line auth error, naming no token, and was not retried
    assert refused.value.status == 401
    assert "\n" not in str(refused.value) and "shpat_" not in str(refused.value)
    assert len(shop.seen) == 1


def test_429_honours_retry_after_and_500_backs_off_then_succeeds(shop):
    # Given a 429 asking for 3 seconds, then a 500, then the normal answer
    shop.then(Answer(429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "3"}), Answer(500, {}))
    waits = Waits()

    # When a page is asked for
    data = shopify(shop, waits).query(PRODUCTS, {"after": None})

    # Then it waited the Retry-After, then the second backoff step (1 * 2**1), and got the page
    assert waits == [3.0, 2.0]
    assert data["products"]["nodes"]


def test_retries_stop_after_the_policys_attempts(shop):
    # Given a store that keeps failing
    shop.then(*[Answer(503, {})] * 10)
    waits = Waits()

    # When a query is sent with 3 attempts
    with pytest.raises(AdminUnavailable, match=r"gave up after 3 tries \(HTTP 503\)"):
        shopify(shop, waits, attempts=3).query(PRODUCTS)

    # Then exactly 3 requests went out, with backoff 1 then 2 seconds between them
    assert len(shop.seen) == 3
    assert waits == [1.0, 2.0]


def test_timeouts_are_passed_to_the_transport_and_retried():
    # Given a transport that times out once, then answers
    calls: list[float] = []

    def transport(method, url, headers, body, timeout):
        calls.append(timeout)
        if len(calls) == 1:
            raise TimeoutError("timed out")
        return HttpResponse(200, {}, b'{"data": {"shop": {"name": "x"}}}')

    waits = Waits()
    client = ShopifyAdmin(
        "my-shop.myshopify.com",
        ShopifyCredentials(access_token=TOKEN),
        policy=policy(waits),
        transport=transport,
    )

    # When a query is sent
    data = client.query("{ shop { name } }")

    # Then each try had the policy's timeout and the timeout was retried after a backoff
    assert calls == [5.0, 5.0] and waits == [1.0]
    assert data == {"shop": {"name": "x"}}
    assert client.url == "https://my-shop.myshopify.com/admin/api/2025-07/graphql.json"


def test_retry_after_reads_seconds_and_http_dates():
    # Given the clock at a fixed instant
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    # When Retry-After values are read, Then seconds and dates both give seconds to wait
    assert retry_after("7", now) == 7.0
    assert retry_after("Sun, 01 Mar 2026 12:00:09 GMT", now) == 9.0
    assert retry_after("garbage", now) is None


# -- WooCommerce -----------------------------------------------------------------------
def test_woocommerce_pagination_follows_x_wp_totalpages(woo):
    # Given 250 orders
    waits = Waits()

    # When every order is read
    orders = list(woocommerce(woo, waits).items("orders", {"orderby": "id", "order": "asc"}))

    # Then three pages of 100 were asked for with basic auth, and every order came back once
    assert [o["id"] for o in orders] == list(range(1, 251))
    assert [(s.method, s.path, s.query["page"], s.query["per_page"]) for s in woo.seen] == [
        ("GET", "/wp-json/wc/v3/orders", str(p), "100") for p in (1, 2, 3)
    ]
    assert all(s.headers["authorization"].startswith("Basic ") for s in woo.seen)


def test_woocommerce_401_raises_an_auth_error_without_the_secret(woo):
    # Given a wrong consumer secret
    # When orders are read
    with pytest.raises(AdminAuthError) as refused:
        list(woocommerce(woo, Waits(), secret="cs_wrong_secret").items("orders"))

    # Then the error is one line naming WooCommerce's code, not the secret, and was not retried
    assert str(refused.value) == (
        "WooCommerce refused the consumer key (woocommerce_rest_cannot_view, HTTP 401): reconnect the source"
    )
    assert len(woo.seen) == 1


def test_woocommerce_error_json_raises_a_typed_error_and_429_is_retried(woo):
    # Given a coupon that exists already, and a 429 before the next request
    client = woocommerce(woo, waits := Waits())
    client.post("coupons", {"code": "back10", "usage_limit": 1})
    woo.then(
        Answer(
            429, {"code": "too_many", "message": "slow down", "data": {"status": 429}}, {"Retry-After": "4"}
        )
    )

    # When the same code is posted again
    with pytest.raises(WooCommerceApiError) as refused:
        client.post("coupons", {"code": "back10", "usage_limit": 1})

    # Then the 429 was waited out and the store's own error JSON is raised with its code and status
    assert waits == [4.0]
    assert refused.value.code == "woocommerce_rest_coupon_code_already_exists"
    assert refused.value.status == 400
    assert str(refused.value) == (
        "WooCommerce refused the request (woocommerce_rest_coupon_code_already_exists, HTTP 400): "
        "The coupon code already exists"
    )


def test_a_429_that_carries_the_throttle_status_waits_for_the_bucket(shop):
    # Given Shopify answers HTTP 429 with THROTTLED and the bucket's state (requested 200,
    # available 50, restore 100/s), and no Retry-After
    answer = throttled(200, 50, 100)
    shop.then(Answer(429, answer.body))
    waits = Waits()

    # When a page is asked for
    data = shopify(shop, waits).query(PRODUCTS, {"after": None})

    # Then it waited (200 - 50) / 100 seconds, not a blind backoff, and got the page
    assert waits == [1.5]
    assert data["products"]["nodes"]


def test_shopify_counts_throttles_and_failures_as_one_budget_of_tries(shop):
    # Given a store that throttles, fails, then throttles again
    shop.then(throttled(100, 0, 50), Answer(502, {}), throttled(100, 50, 50), Answer(200, {"data": {}}))
    waits = Waits()

    # When a query is sent with 3 tries
    with pytest.raises(AdminUnavailable, match=r"gave up after 3 tries \(throttled\)"):
        shopify(shop, waits, attempts=3).query(PRODUCTS)

    # Then exactly 3 requests went out: (100 - 0) / 50 s, then the second backoff step, then no more
    assert len(shop.seen) == 3
    assert waits == [2.0, 2.0]
