"""Phone numbers read in the country they were written in: libphonenumber, never a silent +1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.audience import customer_match_row, sha256
from chalicelib.domain.identity import identity_keys, normalize_phone, read_phone
from chalicelib.domain.messaging.model import Channel, Policy, Purpose
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.models import Delivery, Platform
from chalicelib.parsers import generic, run_parser, shopify, woocommerce
from patron.phones import renormalized
from tests.conftest import load_event
from tests.unit.test_messaging import (
    AFTERNOON,
    FakeChannels,
    FakeLedger,
    FakeLimits,
    FakeTemplates,
    message,
    profile,
)

# Real-world formats: national as a shopper types it, and international (+ and 00).
NUMBERS = [
    ("CN", "13812345678", "+86 138 1234 5678", "+8613812345678"),
    ("FR", "06 12 34 56 78", "0033 6 12 34 56 78", "+33612345678"),
    ("DE", "030 12345678", "+49 30 12345678", "+493012345678"),
    ("DE", "0151 23456789", "+49 151 23456789", "+4915123456789"),
    ("AT", "0660 1234567", "+43 660 1234567", "+436601234567"),
    ("IT", "06 6982 1234", "+39 06 6982 1234", "+390669821234"),  # the leading zero stays
    ("IT", "312 345 6789", "0039 312 345 6789", "+393123456789"),
    ("GB", "020 7946 0958", "+44 20 7946 0958", "+442079460958"),
    ("GB", "07911 123456", "+44 7911 123456", "+447911123456"),
    ("US", "(212) 555-0147", "+1 212-555-0147", "+12125550147"),
    ("BR", "(11) 91234-5678", "+55 11 91234-5678", "+5511912345678"),
    ("JP", "090-1234-5678", "+81 90-1234-5678", "+819012345678"),
    ("JP", "03-1234-5678", "+81 3-1234-5678", "+81312345678"),
    ("IN", "098765 43210", "+91 98765 43210", "+919876543210"),
]


@pytest.mark.parametrize(("region", "national", "international", "expected"), NUMBERS)
def test_national_and_international_forms_are_the_same_number(region, national, international, expected):
    # Given a number written the national way in the country of the address,
    # and the same number written with its country code (+ or 00)
    # When both are normalized (the international one without a region, and with another country's)
    # Then both are the E.164 form in that country, not a North American one
    assert normalize_phone(national, region) == expected
    assert normalize_phone(international) == expected
    assert normalize_phone(international, "US") == expected


@pytest.mark.parametrize("national", ["0660 1234567", "13812345678", "06 12 34 56 78", "212-555-0147"])
def test_national_number_without_a_region_is_not_valid(national):
    # Given a national number and no address country nor source default region
    # When it is normalized
    phone = normalize_phone(national)
    # Then it is not a phone: there is no silent +1
    assert phone is None
    assert read_phone(national)[1] == national


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0660 1234567", "US"),  # an Austrian mobile is no North American number
        ("13812345678", "US"),
        ("06 12 34 56 78", "US"),
        ("+1 660 123 4567", None),  # exchange 123 is not assigned
        ("12345", "FR"),
    ],
)
def test_number_not_valid_for_its_region_is_kept_as_written_but_not_a_key(raw, region):
    # Given a number that is not valid for the country it is read in
    # When it is normalized and identity keys are built
    phone = normalize_phone(raw, region)
    keys = identity_keys("jane@example.com", phone, None)
    # Then it is no phone and no identity key, and it is kept as written to be flagged
    assert phone is None
    assert keys == ["email:jane@example.com"]
    assert read_phone(raw, region)[1] == raw


def test_valid_number_is_not_flagged():
    # Given a valid French mobile
    # When the invalid form is asked for
    # Then there is none
    assert read_phone("06 12 34 56 78", "FR")[1] is None
    assert read_phone(None, "FR")[1] is None
    assert read_phone("  ", "FR")[1] is None


def test_same_national_digits_in_two_countries_are_two_numbers():
    # Given the same national digits written by a French and a Dutch customer
    digits = "0612345678"
    # When each is read in its own country
    french, dutch = normalize_phone(digits, "FR"), normalize_phone(digits, "NL")
    # Then they are two different numbers, so two different identity keys
    assert french == "+33612345678"
    assert dutch == "+31612345678"
    assert identity_keys(None, french, None) != identity_keys(None, dutch, None)


def _delivery(platform: Platform, topic: str, default_region: str | None = None) -> Delivery:
    return Delivery(
        workspace_id="ws_1",
        source_id="src_1",
        platform=platform,
        topic=topic,
        received_at=datetime(2026, 11, 27, 12, tzinfo=UTC),  # the fixtures' window
        default_region=default_region,
    )


PARSERS = {
    Platform.SHOPIFY: shopify.PARSERS,
    Platform.WOOCOMMERCE: woocommerce.PARSERS,
    Platform.GENERIC: generic.PARSERS,
}


def _parse(platform: Platform, topic: str, body: dict, default_region: str | None = None):
    return run_parser(
        PARSERS[platform], json.dumps(body).encode(), _delivery(platform, topic, default_region)
    )


def test_shopify_phone_is_read_in_the_shipping_country():
    # Given a Shopify order shipped to France with a French national mobile number
    body = load_event("shopify/orders_create.json")
    body["phone"] = "06 12 34 56 78"
    body["customer"]["phone"] = None
    for address in ("shipping_address", "billing_address"):
        body[address]["country_code"] = "FR"
    # When it is parsed
    order = _parse(Platform.SHOPIFY, "orders/create", body)
    # Then the phone is French
    assert order.person.phone == "+33612345678"


def test_shopify_phone_falls_back_to_the_customer_default_address_then_the_source_region():
    # Given a Shopify customer whose default address is in China, and one without any address
    body = load_event("shopify/customers_create.json")
    body["phone"] = "13812345678"
    body.setdefault("default_address", {})
    body["default_address"] = {**(body["default_address"] or {}), "country_code": "CN"}
    bare = {**body, "default_address": None}
    # When they are parsed, the second from a source whose default region is China
    with_address = _parse(Platform.SHOPIFY, "customers/create", body)
    from_source = _parse(Platform.SHOPIFY, "customers/create", bare, default_region="CN")
    without = _parse(Platform.SHOPIFY, "customers/create", bare)
    # Then the address, else the source region, reads the number; without either it is no phone
    assert with_address.person.phone == "+8613812345678"
    assert from_source.person.phone == "+8613812345678"
    assert without.person.phone is None


def test_woocommerce_phone_is_read_in_the_billing_country():
    # Given a WooCommerce order billed to Austria with an Austrian national mobile number
    body = load_event("woocommerce/order_created.json")
    body["billing"]["phone"] = "0660 1234567"
    body["billing"]["country"] = "AT"
    # When it is parsed
    order = _parse(Platform.WOOCOMMERCE, "order.created", body)
    # Then the phone is Austrian, not +1 660...
    assert order.person.phone == "+436601234567"


def test_generic_phone_is_read_in_the_customer_country_or_the_source_region():
    # Given a generic order with an Italian landline, once with the country, once without
    body = load_event("generic/order.json")
    body["customer"]["phone"] = "06 6982 1234"
    body["customer"]["country"] = "IT"
    bare = json.loads(json.dumps(body))
    del bare["customer"]["country"]
    # When they are parsed (the second from a source whose default region is Italy)
    with_country = _parse(Platform.GENERIC, "order", body)
    from_source = _parse(Platform.GENERIC, "order", bare, default_region="IT")
    # Then the leading zero of the Italian number is kept
    assert with_country.person.phone == "+390669821234"
    assert from_source.person.phone == "+390669821234"


def test_a_number_not_valid_for_its_country_is_flagged_on_the_person_not_a_key():
    # Given a WooCommerce order billed to the US whose phone is an Austrian national number
    body = load_event("woocommerce/order_created.json")
    body["billing"]["phone"] = "0660 1234567"
    body["billing"]["country"] = "US"
    # When it is parsed
    person = _parse(Platform.WOOCOMMERCE, "order.created", body).person
    # Then the number is kept as written and flagged, and is no identity key
    assert person.phone is None
    assert person.phone_invalid == "0660 1234567"
    assert not any(k.startswith("phone:") for k in identity_keys(person.email, person.phone, person.ext))


def test_a_stored_number_not_valid_for_its_country_gets_no_sms():
    # Given a profile whose stored number was read as North American by the old rule (+1 + a French mobile)
    channels = FakeChannels()
    service = MessagingService(FakeLedger(), FakeLimits(), channels, FakeTemplates())
    bad = profile(ph="+1612345678")
    # When a receipt is sent to it by SMS
    receipt = message("txn:o1:shipped", Channel.SMS, purpose=Purpose.TRANSACTIONAL)
    decision = service.send(receipt, bad, Policy(), AFTERNOON)
    # Then nothing is sent
    assert (decision.status, decision.reason) == ("dropped", "sms number not valid for its country")
    assert channels.sent == []


def test_a_stored_number_not_valid_for_its_country_is_not_in_the_audience_export():
    # Given an SMS-subscribed profile whose stored number is not valid (the old +1 reading of 0612345678)
    item = {"ws": "ws_1", "cid": "c_1", "ph": "+1612345678", "cs": {"s": "subscribed"}}
    # When its customer-match row is built
    row = customer_match_row(profile_of(item))
    # Then there is no phone hash, so no row at all
    assert row is None
    assert customer_match_row(profile_of({**item, "ph": "+33612345678"})) == ("", sha256("+33612345678"))


def test_renormalized_profile_keeps_its_valid_phone_as_current_and_indexed():
    # Given a stored profile with a valid French number and an old +1 reading as current and indexed
    item = {
        "ws": "ws_1",
        "cid": "c_1",
        "phs": {"+1612345678", "+33612345678"},
        "ph": "+1612345678",
        "phone_k": "ws_1#+1612345678",
    }
    # When it is renormalized, then renormalized again
    new, dropped = renormalized(item)
    assert new is not None
    again, _ = renormalized(new)
    # Then the valid number takes the bad one's places, the bad one is kept flagged, and once is enough
    assert dropped == ["+1612345678"]
    assert new["phs"] == {"+33612345678"}
    assert (new["ph"], new["phone_k"], new["phx"]) == ("+33612345678", "ws_1#+33612345678", "+1612345678")
    assert again is None
