"""Storefront parsers: every fixture through the topic registries into canonical models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.models import (
    Checkout,
    Customer,
    Delivery,
    Order,
    OrderStatus,
    Platform,
    PrivacyRequest,
    RefundEvent,
)
from chalicelib.parsers import PayloadError, UnknownTopic, generic, run_parser, shopify, woocommerce
from tests.conftest import event_bytes, load_event

REGISTRIES = {
    Platform.SHOPIFY: shopify.PARSERS,
    Platform.WOOCOMMERCE: woocommerce.PARSERS,
    Platform.GENERIC: generic.PARSERS,
}

# Every fixture, the topic it is delivered under and the model it must become.
FIXTURES = [
    (Platform.SHOPIFY, "orders/create", "shopify/orders_create.json", Order),
    (Platform.SHOPIFY, "orders/updated", "shopify/orders_updated_paid.json", Order),
    (Platform.SHOPIFY, "orders/cancelled", "shopify/orders_cancelled.json", Order),
    (Platform.SHOPIFY, "refunds/create", "shopify/refunds_create.json", RefundEvent),
    (Platform.SHOPIFY, "customers/create", "shopify/customers_create.json", Customer),
    (Platform.SHOPIFY, "checkouts/create", "shopify/checkouts_create.json", Checkout),
    (Platform.SHOPIFY, "customers/data_request", "shopify/customers_data_request.json", PrivacyRequest),
    (Platform.SHOPIFY, "customers/redact", "shopify/customers_redact.json", PrivacyRequest),
    (Platform.SHOPIFY, "shop/redact", "shopify/shop_redact.json", PrivacyRequest),
    (Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json", Order),
    (Platform.WOOCOMMERCE, "order.created", "woocommerce/order_guest_created.json", Order),
    (Platform.WOOCOMMERCE, "order.updated", "woocommerce/order_updated_refunded.json", Order),
    (Platform.WOOCOMMERCE, "customer.created", "woocommerce/customer_created.json", Customer),
    (Platform.GENERIC, "order", "generic/order.json", Order),
    (Platform.GENERIC, "customer", "generic/customer.json", Customer),
]

RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def delivery(platform: Platform, topic: str, webhook_id: str | None = "wh-1") -> Delivery:
    return Delivery(
        workspace_id="ws_test",
        source_id="src_1",
        platform=platform,
        topic=topic,
        webhook_id=webhook_id,
        received_at=RECEIVED,
    )


def parse(platform: Platform, topic: str, fixture: str | bytes):
    body = fixture if isinstance(fixture, bytes) else event_bytes(fixture)
    return run_parser(REGISTRIES[platform], body, delivery(platform, topic))


def leaves(value):
    """Every scalar inside a parsed model, however deeply nested."""
    if isinstance(value, tuple | list):
        for v in value:
            yield from leaves(v)
    elif hasattr(value, "__pydantic_fields__"):
        for name in type(value).model_fields:
            yield from leaves(getattr(value, name))
    else:
        yield value


@pytest.mark.parametrize(("platform", "topic", "fixture", "model"), FIXTURES, ids=[f[2] for f in FIXTURES])
def test_every_fixture_parses_into_its_model_with_utc_times(platform, topic, fixture, model):
    # Given a real storefront body and the topic it is delivered under
    # When it goes through its platform's parser registry
    payload = parse(platform, topic, fixture)
    # Then it becomes the expected canonical model, with only UTC-aware timestamps
    assert isinstance(payload, model)
    times = [v for v in leaves(payload) if isinstance(v, datetime)]
    for t in times:
        assert t.tzinfo is not None
        assert t.utcoffset() == timedelta(0)
    if model is not PrivacyRequest:
        assert times, "a record without any timestamp"


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "model"),
    [f for f in FIXTURES if f[3] in (Order, Checkout, RefundEvent)],
    ids=[f[2] for f in FIXTURES if f[3] in (Order, Checkout, RefundEvent)],
)
def test_money_is_decimal_never_float(platform, topic, fixture, model):
    # Given a body with money amounts
    # When it is parsed
    payload = parse(platform, topic, fixture)
    # Then every amount is a Decimal and there is no float anywhere
    values = list(leaves(payload))
    assert any(isinstance(v, Decimal) for v in values)
    assert not any(isinstance(v, float) for v in values)


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "field", "expected"),
    [
        (Platform.SHOPIFY, "orders/create", "shopify/orders_create.json", "total_price", "122.00"),
        (Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json", "total", "104.88"),
        (Platform.WOOCOMMERCE, "order.created", "woocommerce/order_guest_created.json", "total", "52.80"),
        (Platform.GENERIC, "order", "generic/order.json", "total", "64.00"),
    ],
)
def test_order_total_equals_the_fixture_string(platform, topic, fixture, field, expected):
    # Given an order body whose total is a decimal string
    raw = load_event(fixture)[field]
    assert raw == expected
    # When it is parsed
    order = parse(platform, topic, fixture)
    # Then the total is exactly that Decimal (same digits, no binary rounding)
    assert isinstance(order.total, Decimal)
    assert order.total == Decimal(raw)
    assert str(order.total) == expected


def test_shopify_line_items_keep_exact_prices():
    # Given the Shopify order with three lines
    raw = load_event("shopify/orders_create.json")["line_items"]
    # When parsed
    order = parse(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    # Then each line price is the Decimal of its string
    assert [li.price for li in order.line_items] == [Decimal(li["price"]) for li in raw]
    assert all(isinstance(li.price, Decimal) for li in order.line_items)


def test_email_is_normalized():
    # Given a Shopify order whose email has capitals and a trailing space
    assert load_event("shopify/orders_create.json")["email"] == "Jane.Doe@Example.com "
    # When parsed
    order = parse(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    # Then the person's email is normalized
    assert order.person.email == "jane.doe@example.com"


def test_woo_guest_email_and_phone_are_normalized():
    # Given a WooCommerce guest order with a capitalised email and a formatted phone
    billing = load_event("woocommerce/order_guest_created.json")["billing"]
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.created", "woocommerce/order_guest_created.json")
    # Then both are normalized
    assert order.person.email == billing["email"].strip().lower()
    assert order.person.phone == "+19175550182"


@pytest.mark.parametrize(
    ("topic", "fixture", "status"),
    [
        ("orders/create", "shopify/orders_create.json", OrderStatus.PAID),
        ("orders/updated", "shopify/orders_updated_paid.json", OrderStatus.FULFILLED),
        ("orders/cancelled", "shopify/orders_cancelled.json", OrderStatus.CANCELLED),
    ],
)
def test_shopify_status_mapping(topic, fixture, status):
    # Given a Shopify order at one stage of its life
    # When parsed
    order = parse(Platform.SHOPIFY, topic, fixture)
    # Then its canonical status follows the financial/fulfillment/cancel state
    assert order.status is status


def test_shopify_cancelled_order_keeps_its_cancel_time_in_utc():
    # Given the cancelled Shopify order (cancelled at 16:45:03 -05:00)
    order = parse(Platform.SHOPIFY, "orders/cancelled", "shopify/orders_cancelled.json")
    # When its cancel time is read
    # Then it is the same instant in UTC
    assert order.cancelled_at == datetime(2026, 11, 26, 21, 45, 3, tzinfo=UTC)
    assert order.cancelled_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("woocommerce/order_created.json", OrderStatus.PAID),
        ("woocommerce/order_updated_refunded.json", OrderStatus.PARTIALLY_REFUNDED),
    ],
)
def test_woo_status_mapping(fixture, status):
    # Given a WooCommerce order (processing; completed with a partial refund)
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.updated", fixture)
    # Then its canonical status is as expected
    assert order.status is status


def test_woo_cancelled_status_maps_to_cancelled_with_a_cancel_time():
    # Given a WooCommerce order whose status became "cancelled"
    body = load_event("woocommerce/order_created.json")
    body["status"] = "cancelled"
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.updated", json.dumps(body).encode())
    # Then it is cancelled as of its modification time
    assert order.status is OrderStatus.CANCELLED
    assert order.cancelled_at == order.updated_at


def test_shopify_refund_event_amount_is_the_successful_refund_transactions():
    # Given a Shopify refunds/create body
    body = load_event("shopify/refunds_create.json")
    # When parsed
    event = parse(Platform.SHOPIFY, "refunds/create", "shopify/refunds_create.json")
    # Then the refund amount is the sum of the successful refund transactions: 42.93
    assert isinstance(event, RefundEvent)
    assert event.order_id == str(body["order_id"])
    assert event.refund.refund_id == str(body["id"])
    assert event.refund.amount == Decimal("42.93")
    assert isinstance(event.refund.amount, Decimal)
    assert event.refund.created_at == datetime(2026, 11, 24, 14, 30, 12, tzinfo=UTC)


def test_shopify_refund_without_transactions_falls_back_to_refund_lines():
    # Given a refund body without transactions (the lines say 40.50 + 2.43 tax)
    body = load_event("shopify/refunds_create.json")
    body["transactions"] = []
    # When parsed
    event = parse(Platform.SHOPIFY, "refunds/create", json.dumps(body).encode())
    # Then the amount is the refunded lines with their tax
    assert event.refund.amount == Decimal("42.93")


def test_shopify_cancelled_order_carries_its_refunds():
    # Given the cancelled Shopify order, which embeds its refunds
    raw = load_event("shopify/orders_cancelled.json")["refunds"]
    expected = [
        (
            str(r["id"]),
            sum(
                (
                    Decimal(t["amount"])
                    for t in r["transactions"]
                    if t["kind"] == "refund" and t["status"] == "success"
                ),
                Decimal(0),
            ),
        )
        for r in raw
    ]
    # When it is parsed
    order = parse(Platform.SHOPIFY, "orders/cancelled", "shopify/orders_cancelled.json")
    # Then each refund is there with its successful transactions' amount, 42.93 first
    assert [(r.refund_id, r.amount) for r in order.refunds] == expected
    assert order.refunds[0].amount == Decimal("42.93")
    assert sum(r.amount for r in order.refunds) == order.total


def test_woo_refund_amount_is_positive():
    # Given the WooCommerce order with a refund reported as "-10.00"
    assert load_event("woocommerce/order_updated_refunded.json")["refunds"][0]["total"] == "-10.00"
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.updated", "woocommerce/order_updated_refunded.json")
    # Then the refund is 10.00, dated at the order's modification time
    (refund,) = order.refunds
    assert refund.amount == Decimal("10.00")
    assert refund.refund_id == "5131"
    assert refund.created_at == order.updated_at


def test_woo_gmt_times_without_offset_are_utc():
    # Given WooCommerce *_gmt timestamps without an offset (local time is one hour ahead)
    raw = load_event("woocommerce/order_created.json")
    assert raw["date_created_gmt"] == "2026-11-20T15:15:30"
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json")
    # Then they are those wall-clock times in UTC, not the local ones
    assert order.created_at == datetime(2026, 11, 20, 15, 15, 30, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 20, 15, 15, 35, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(0)


def test_woo_guest_is_not_a_member_and_has_no_platform_id():
    # Given a WooCommerce guest order (customer_id 0)
    assert load_event("woocommerce/order_guest_created.json")["customer_id"] == 0
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.created", "woocommerce/order_guest_created.json")
    # Then the person is not a member and has no platform id
    assert order.person.is_member is False
    assert order.person.ext is None


def test_woo_registered_customer_is_a_member_with_a_platform_id():
    # Given a WooCommerce order by registered customer 41
    # When parsed
    order = parse(Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json")
    # Then the person is a member, namespaced by platform and source
    assert order.person.is_member is True
    assert order.person.ext == "woocommerce:src_1:41"


def test_generic_order_has_pos_channel_and_phone_identity():
    # Given the generic POS order
    # When parsed
    order = parse(Platform.GENERIC, "order", "generic/order.json")
    # Then channel, identities and line prices come through
    assert order.channel == "pos"
    assert order.person.email is None
    assert order.person.phone == "+12125550147"
    assert order.person.ext == "generic:src_1:loyalty-88121"
    assert sum(li.price * li.quantity for li in order.line_items) == order.total


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "mutate", "field"),
    [
        (
            Platform.SHOPIFY,
            "orders/create",
            "shopify/orders_create.json",
            lambda b: b.update(total_price="lots", email="secret.person@example.com"),
            "total_price",
        ),
        (
            Platform.SHOPIFY,
            "orders/create",
            "shopify/orders_create.json",
            lambda b: b.pop("created_at"),
            "created_at",
        ),
        (
            Platform.WOOCOMMERCE,
            "order.created",
            "woocommerce/order_created.json",
            lambda b: b.update(id="secret-5127"),
            "id",
        ),
        (
            Platform.GENERIC,
            "order",
            "generic/order.json",
            lambda b: b.update(currency="usd-secret"),
            "currency",
        ),
        (
            Platform.GENERIC,
            "order",
            "generic/order.json",
            lambda b: b["customer"].update(phone=["secret-555-0147"]),
            "customer.phone",
        ),
    ],
)
def test_invalid_body_raises_payload_error_with_fields_not_values(platform, topic, fixture, mutate, field):
    # Given a body with an invalid field holding a recognisable value
    body = load_event(fixture)
    mutate(body)
    raw = json.dumps(body).encode()
    # When it is parsed
    with pytest.raises(PayloadError) as caught:
        parse(platform, topic, raw)
    # Then the error names the field and never echoes the input values
    exc = caught.value
    assert not isinstance(exc, UnknownTopic)
    assert field in [e["field"] for e in exc.errors]
    text = str(exc) + json.dumps(exc.errors)
    assert "secret" not in text
    assert "lots" not in text
    for e in exc.errors:
        assert "input" not in e


def test_naive_shopify_timestamp_is_a_payload_error():
    # Given a Shopify order whose created_at lost its offset
    body = load_event("shopify/orders_create.json")
    body["created_at"] = "2026-11-20T10:15:30"
    # When parsed
    with pytest.raises(PayloadError) as caught:
        parse(Platform.SHOPIFY, "orders/create", json.dumps(body).encode())
    # Then it is rejected on that field (a naive time cannot be made UTC safely)
    assert "created_at" in [e["field"] for e in caught.value.errors]


def test_malformed_json_is_a_payload_error():
    # Given a body that is not JSON
    raw = b'{"id": 5829104638011, "email": "secret@example.com"'
    # When parsed
    with pytest.raises(PayloadError) as caught:
        parse(Platform.SHOPIFY, "orders/create", raw)
    # Then it is a payload error that does not echo the body
    assert caught.value.errors
    assert "secret" not in json.dumps(caught.value.errors)


@pytest.mark.parametrize(
    ("platform", "topic"),
    [
        (Platform.SHOPIFY, "orders/deleted"),
        (Platform.WOOCOMMERCE, "coupon.created"),
        (Platform.GENERIC, "product"),
        (Platform.SHOPIFY, ""),
    ],
)
def test_unknown_topic_raises_unknown_topic(platform, topic):
    # Given a well-formed body delivered under a topic no parser handles
    body = event_bytes("shopify/orders_create.json")
    # When it is parsed
    with pytest.raises(UnknownTopic) as caught:
        run_parser(REGISTRIES[platform], body, delivery(platform, topic))
    # Then the error points at the topic and lists the supported ones
    assert isinstance(caught.value, PayloadError)
    (error,) = caught.value.errors
    assert error["field"] == "topic"
    assert sorted(REGISTRIES[platform])[0] in error["error"]


@pytest.mark.parametrize("path", [("total",), ("line_items", 0, "price")])
def test_generic_money_as_json_number_is_rejected(path):
    # Given a generic order with money as a JSON number instead of a decimal string
    body = load_event("generic/order.json")
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = float(target[path[-1]])
    raw = json.dumps(body).encode()
    sent = json.loads(raw)
    for step in path:
        sent = sent[step]
    assert isinstance(sent, float)
    # When it is parsed
    with pytest.raises(PayloadError) as caught:
        parse(Platform.GENERIC, "order", raw)
    # Then the field is rejected
    assert ".".join(str(p) for p in path) in [e["field"] for e in caught.value.errors]


def test_generic_money_with_too_many_decimals_is_rejected():
    # Given a generic order with a five-decimal total
    body = load_event("generic/order.json")
    body["total"] = "64.00001"
    # When parsed
    with pytest.raises(PayloadError) as caught:
        parse(Platform.GENERIC, "order", json.dumps(body).encode())
    # Then the total is rejected
    assert "total" in [e["field"] for e in caught.value.errors]


def test_generic_unknown_field_is_rejected():
    # Given a generic order with a field the schema does not define
    body = load_event("generic/order.json")
    body["loyalty_points"] = "12"
    # When parsed
    with pytest.raises(PayloadError) as caught:
        parse(Platform.GENERIC, "order", json.dumps(body).encode())
    # Then the extra field is named
    assert "loyalty_points" in [e["field"] for e in caught.value.errors]


def test_shopify_privacy_request_id_prefers_the_data_request_then_the_webhook_id():
    # Given a data request (has its own id) and a redact (has none)
    request = parse(Platform.SHOPIFY, "customers/data_request", "shopify/customers_data_request.json")
    redact = parse(Platform.SHOPIFY, "customers/redact", "shopify/customers_redact.json")
    # When their request ids are read
    # Then the data request uses its id and the redact the delivery's webhook id
    assert request.request_id == str(load_event("shopify/customers_data_request.json")["data_request"]["id"])
    assert redact.request_id == "wh-1"
    assert redact.orders == ("5829104638011",)
    assert redact.person is not None
    assert redact.person.email == "jane.doe@example.com"


@pytest.mark.parametrize("amount", ["1e400", "1" * 41, "NaN", "-5.00"])
def test_out_of_range_money_is_a_payload_error_not_a_storage_failure(amount):
    # Given a signed Shopify order whose total DynamoDB could not hold (or is negative)
    order = load_event("shopify/orders_create.json")
    order["total_price"] = amount
    # When it is parsed, Then it is rejected with the field named, before any write
    with pytest.raises(PayloadError) as caught:
        parse(Platform.SHOPIFY, "orders/create", json.dumps(order).encode())
    assert {e["field"] for e in caught.value.errors} & {"total", "total_price"}


@pytest.mark.parametrize(
    ("country", "zone"),
    [("DE", "Europe/Berlin"), ("es", "Europe/Madrid"), ("CN", "Asia/Shanghai"), ("US", None), (None, None)],
)
def test_a_shopify_shipping_country_with_one_time_zone_gives_the_customer_that_zone(country, zone):
    # Given an order shipped to a country, without a province (the US and China have zones
    # that keep different times: none is guessed; Spain's mainland zone is zone.tab's)
    body = load_event("shopify/orders_create.json")
    for address in ("shipping_address", "billing_address"):
        body[address]["country_code"] = country
        body[address]["province_code"] = None
    # When it is parsed
    order = parse(Platform.SHOPIFY, "orders/create", json.dumps(body).encode())
    # Then the person's time zone follows the country
    assert order.person.timezone == zone


def test_a_woocommerce_billing_country_gives_the_customer_its_zone():
    order = parse(Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json")
    assert order.person.timezone == "Europe/Vienna"  # the fixture bills to Austria


def test_shopify_shop_update_gives_the_shops_zone_and_refuses_an_unknown_one():
    # Given Shopify's shop/update payload
    body = load_event("shopify/shop_update.json")
    shop = delivery(Platform.SHOPIFY, "shop/update")
    # When it is parsed, Then the shop's IANA zone is what it carries
    parsed = run_parser(shopify.PARSERS, json.dumps(body).encode(), shop)
    assert parsed.kind == "shop" and parsed.timezone == "America/Los_Angeles"
    # And a Windows-style or made-up zone is a field error, not a silent UTC
    with pytest.raises(PayloadError) as error:
        run_parser(shopify.PARSERS, json.dumps(body | {"iana_timezone": "Pacific Time"}).encode(), shop)
    assert [e["field"] for e in error.value.errors] == ["iana_timezone"]
