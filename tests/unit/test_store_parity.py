"""WooCommerce and generic stores as first-class as Shopify: consent from plugin meta,
shipment tracking, deletions, coupons; generic checkouts, refunds and privacy requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.adapters import records
from chalicelib.domain.models import (
    Checkout,
    ConsentState,
    Delivery,
    Order,
    OrderDeletion,
    OrderStatus,
    Platform,
    PrivacyRequest,
    RefundEvent,
)
from chalicelib.domain.tenancy import consent_keys
from chalicelib.parsers import PayloadError, generic, run_parser, woo_meta, woocommerce
from tests.conftest import event_bytes, load_event

RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def delivery(platform: Platform, topic: str, **source: object) -> Delivery:
    return Delivery(
        workspace_id="ws_test",
        source_id="src_1",
        platform=platform,
        topic=topic,
        webhook_id="wh-1",
        received_at=RECEIVED,
        **source,
    )


def woo(topic: str, body: dict | str, **source: object):
    raw = event_bytes(body) if isinstance(body, str) else json.dumps(body).encode()
    return run_parser(woocommerce.PARSERS, raw, delivery(Platform.WOOCOMMERCE, topic, **source))


def gen(topic: str, body: dict | str):
    raw = event_bytes(body) if isinstance(body, str) else json.dumps(body).encode()
    return run_parser(generic.PARSERS, raw, delivery(Platform.GENERIC, topic))


def with_meta(fixture: str, *meta: tuple[str, object]) -> dict:
    body = load_event(fixture)
    body["meta_data"] = [{"id": 900 + i, "key": k, "value": v} for i, (k, v) in enumerate(meta)]
    return body


# -- consent from plugin meta --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "state"),
    [
        ("mailchimp_woocommerce_is_subscribed", "1", ConsentState.SUBSCRIBED),
        ("mailchimp_woocommerce_is_subscribed", True, ConsentState.SUBSCRIBED),
        ("mailchimp_woocommerce_is_subscribed", "0", ConsentState.NOT_SUBSCRIBED),
        ("cc_woo_customer_agrees_to_marketing", "yes", ConsentState.SUBSCRIBED),
        ("cc_woo_customer_agrees_to_marketing", "no", ConsentState.NOT_SUBSCRIBED),
        ("ckwc_opt_in", "yes", ConsentState.SUBSCRIBED),
        ("ckwc_opt_in", " On ", ConsentState.SUBSCRIBED),
        ("ckwc_opt_in", "off", ConsentState.NOT_SUBSCRIBED),
    ],
)
def test_a_default_plugin_key_on_the_order_is_email_consent_at_the_order_time(key, value, state):
    # Given an order whose meta holds an opt-in plugin's key
    body = with_meta("woocommerce/order_created.json", (key, value))
    # When it is parsed with the source's default keys
    order = woo("order.created", body)
    # Then the buyer's email consent is that answer, at the time the order was placed
    assert order.person.email_consent is not None
    assert order.person.email_consent.state is state
    assert order.person.email_consent.updated_at == order.created_at
    assert order.person.email_consent.record_time is True  # never overrides an unsubscribe


@pytest.mark.parametrize("value", ["", None, "maybe", ["yes"], 7])
def test_an_empty_or_unreadable_value_is_no_report(value):
    # Given a plugin key whose value says neither yes nor no
    body = with_meta("woocommerce/order_created.json", ("mailchimp_woocommerce_is_subscribed", value))
    # When it is parsed
    order = woo("order.created", body)
    # Then there is no consent report (not a refusal)
    assert order.person.email_consent is None


def test_without_any_plugin_key_there_is_no_consent():
    # Given the core fixture: no opt-in plugin meta
    # When it is parsed
    order = woo("order.created", "woocommerce/order_created.json")
    # Then nothing is said about consent
    assert order.person.email_consent is None and order.person.sms_consent is None


def test_a_customer_with_mailchimp_meta_gets_consent_at_mailchimps_own_time():
    # Given a customer whose meta holds Mailchimp's opt-in, its change time, and an SMS refusal
    customer = woo("customer.updated", "woocommerce/customer_updated_opted_in.json")
    # Then email consent is subscribed at Mailchimp's time (a time of its own), SMS refused
    email = customer.person.email_consent
    assert email is not None and email.state is ConsentState.SUBSCRIBED
    assert email.updated_at == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert email.record_time is False
    assert customer.person.sms_consent is not None
    assert customer.person.sms_consent.state is ConsentState.NOT_SUBSCRIBED


def test_the_source_keys_replace_the_defaults():
    # Given an order with both a default key and the shop's own checkout field
    body = with_meta(
        "woocommerce/order_created.json",
        ("mailchimp_woocommerce_is_subscribed", "1"),
        ("_wc_other/my-shop/newsletter", "0"),
    )
    # When the source names its own key
    order = woo("order.created", body, email_consent_keys=("_wc_other/my-shop/newsletter",))
    # Then only that key is read
    assert order.person.email_consent is not None
    assert order.person.email_consent.state is ConsentState.NOT_SUBSCRIBED
    # And a source with no keys at all reads none
    silent = woo("order.created", body, email_consent_keys=())
    assert silent.person.email_consent is None


def test_a_time_key_outside_the_window_falls_back_to_the_record_time():
    # Given a consent time in the year 2100
    body = with_meta(
        "woocommerce/order_created.json", ("ckwc_opt_in", "yes"), ("ckwc_opt_in_at", "4102444800")
    )
    # When the source pairs the keys
    order = woo("order.created", body, email_consent_keys=("ckwc_opt_in@ckwc_opt_in_at",))
    # Then the consent stands, at the order's time
    assert order.person.email_consent is not None
    assert order.person.email_consent.updated_at == order.created_at


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (None, None),
        ("default", None),
        ("none", ()),
        ("a, b@t ,a", ("a", "b@t")),
    ],
)
def test_consent_key_options(text, keys):
    # Given a CLI value / When it is read / Then it is the defaults, none, or the keys
    assert consent_keys(text) == keys


@pytest.mark.parametrize("text", ["", "a b", "a@b@c", ",".join(f"k{i}" for i in range(11))])
def test_bad_consent_key_options_are_refused(text):
    # Given a malformed value / Then it is a bad request
    from chalicelib.domain.errors import BadRequest

    with pytest.raises(BadRequest):
        consent_keys(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", True), ("1", True), ("on", True), (True, True), (1, True), ("no", False), (0, False)],
)
def test_truthy(value, expected):
    # Given a meta value / Then it reads as a yes or a no
    assert woo_meta.truthy(value) is expected


# -- tracking, coupons, deletions ----------------------------------------------------


def test_a_tracked_processing_order_has_shipped_with_its_tracking_link():
    # Given a processing order with a Shipment Tracking item and a coupon
    order = woo("order.updated", "woocommerce/order_updated_shipped.json")
    # Then it is fulfilled (shipped), tracked by the link, and carries the coupon code
    assert isinstance(order, Order)
    assert order.status is OrderStatus.FULFILLED
    assert order.fulfillment_status == "shipped"
    assert order.tracking == ("https://www.post.at/s/sendungsdetails?snr=1043999990023614101",)
    assert [(d.code, d.amount) for d in order.discount_codes] == [("welcome10", Decimal("4.00"))]
    # And the mailchimp opt-in of the same meta is its consent
    assert order.person.email_consent is not None
    assert order.person.email_consent.state is ConsentState.SUBSCRIBED


def test_a_predefined_provider_is_tracked_by_its_number_and_junk_items_are_skipped():
    # Given tracking items without links (a predefined carrier), and junk
    items = [{"tracking_provider": "dhl", "tracking_number": 4711}, "junk", {"tracking_number": ""}]
    body = with_meta("woocommerce/order_created.json", ("_wc_shipment_tracking_items", items))
    # When it is parsed
    order = woo("order.updated", body)
    # Then the number is the tracking value and the rest is skipped
    assert order.tracking == ("4711",)


def test_order_deleted_carries_only_the_id():
    # Given WooCommerce's order.deleted body
    deleted = woo("order.deleted", "woocommerce/order_deleted.json")
    # Then it is a deletion of that order, dated when received
    assert deleted == OrderDeletion(order_id="5131", at=RECEIVED)


def test_order_restored_is_marked_as_a_restoration():
    # Given the same order state under order.restored and order.updated
    restored = woo("order.restored", "woocommerce/order_created.json")
    updated = woo("order.updated", "woocommerce/order_created.json")
    # Then only the first restores
    assert restored.restores is True and updated.restores is False


@pytest.mark.parametrize(
    ("dels", "rsts", "counted"),
    [(set(), set(), True), ({"d1"}, set(), False), ({"d1"}, {"r1"}, True), ({"d1", "d2"}, {"r1"}, False)],
)
def test_an_order_counts_unless_deleted_more_often_than_restored(dels, rsts, counted):
    # Given a stored paid order with deletion and restoration marks
    item = {"ws": "w", "src": "s", "oid": "1", "ver": "x", "st": "paid", "tot": Decimal(10)}
    item |= {records.DELETIONS: dels} if dels else {}
    item |= {records.RESTORATIONS: rsts} if rsts else {}
    # Then it counts only while deletions do not outnumber restorations
    assert records.snapshot(item).counted is counted


# -- the generic schema --------------------------------------------------------------


def test_generic_checkout_is_a_checkout():
    # Given the generic checkout fixture
    k = gen("checkout", "generic/checkout.json")
    # Then it is a checkout with the buyer, the cart and the recovery link
    assert isinstance(k, Checkout)
    assert (k.checkout_id, k.total, k.currency) == ("cart-7f3a91", Decimal("58.00"), "USD")
    assert k.person.email == "sam.rivera@example.com"
    assert k.recovery_url == "https://shop.example.com/cart/recover/7f3a91"
    assert k.completed_at is None and k.line_items[0].quantity == 2


def test_generic_refund_is_a_refund_of_its_order():
    # Given the generic refund fixture
    r = gen("refund", "generic/refund.json")
    # Then it is a refund event for the order
    assert isinstance(r, RefundEvent)
    assert (r.order_id, r.refund.refund_id, r.refund.amount) == (
        "POS-20261121-0042",
        "r-42-1",
        Decimal("24.00"),
    )


@pytest.mark.parametrize(
    ("topic", "request_kind"),
    [
        ("customer_redact", "customers_redact"),
        ("customer_data_request", "customers_data_request"),
        ("shop_redact", "shop_redact"),
    ],
)
def test_generic_privacy_requests_are_shopifys_privacy_requests(topic, request_kind):
    # Given a generic privacy request
    p = gen(topic, f"generic/{topic}.json")
    # Then it is the same privacy request a Shopify topic gives, keyed by its id
    assert isinstance(p, PrivacyRequest)
    assert p.request == request_kind
    assert p.request_id == load_event(f"generic/{topic}.json")["id"]
    if topic != "shop_redact":
        assert p.person is not None and p.person.ext == "generic:src_1:loyalty-88121"
        assert p.orders == ("POS-20261121-0042",)


def test_a_generic_privacy_body_under_another_topic_is_refused():
    # Given a shop_redact body sent as customer_redact
    # Then it is a payload error, not an erasure of the wrong kind
    with pytest.raises(PayloadError):
        gen("customer_redact", "generic/shop_redact.json")
