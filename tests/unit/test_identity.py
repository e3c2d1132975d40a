"""Identity normalization and keys: emails, E.164 phones, salted customer ids."""

from __future__ import annotations

import pytest

from chalicelib.domain.identity import (
    customer_id_for,
    identity_keys,
    identity_kind,
    normalize_email,
    normalize_phone,
    person_ids_in,
    platform_key,
)


def test_email_is_trimmed_and_lower_cased():
    # Given an email as a storefront sends it, with capitals and a trailing space
    raw = "  Jane.Doe@Example.com "
    # When it is normalized
    email = normalize_email(raw)
    # Then it is the trimmed, lower-case address
    assert email == "jane.doe@example.com"


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "not-an-email", "jane@example", "jane doe@example.com", "@example.com"]
)
def test_invalid_email_is_none(raw):
    # Given a value that is not an email address
    # When it is normalized
    email = normalize_email(raw)
    # Then there is no email
    assert email is None


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("+1 (212) 555-0147", "US", "+12125550147"),
        ("00 43 664 1234567", "US", "+436641234567"),
        ("212-555-0147", "US", "+12125550147"),
        ("1-212-555-0147", "US", "+12125550147"),
        ("0664 1234567", "AT", "+436641234567"),
    ],
)
def test_phone_becomes_e164(raw, default, expected):
    # Given a phone number written in international or national form
    # When it is normalized in the country of the address
    phone = normalize_phone(raw, default)
    # Then it is the E.164 form
    assert phone == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "call me maybe",
        "+",
        "12",
        "+1 212 555 0147 1234 56",  # 17 digits: longer than E.164 allows
        "+0 212 555 0147",  # a country code never starts with 0
    ],
)
def test_garbage_or_too_long_phone_is_none(raw):
    # Given something that cannot be a phone number
    # When it is normalized
    phone = normalize_phone(raw)
    # Then there is no phone
    assert phone is None


def test_phone_longer_than_e164_or_invalid_for_its_country_is_none():
    # Given an international number of 16 digits and one of 15 that no country assigns
    sixteen = "+" + "4" + "1" * 15
    fifteen = "+" + "4" + "1" * 14
    # When they are normalized
    # Then neither is a phone (libphonenumber validates the number for its country)
    assert normalize_phone(sixteen) is None
    assert normalize_phone(fifteen) is None


def test_customer_id_is_deterministic_for_a_salt():
    # Given one identity key and one workspace salt
    key = "email:jane.doe@example.com"
    # When the customer id is computed twice
    first = customer_id_for("salt-a", key)
    second = customer_id_for("salt-a", key)
    # Then both are the same pseudonymous id that does not reveal the key
    assert first == second
    assert first.startswith("c_")
    assert len(first) == len("c_") + 24
    assert "jane" not in first


def test_customer_id_differs_across_salts_and_keys():
    # Given one identity key
    key = "email:jane.doe@example.com"
    # When ids are computed for two workspaces' salts and for another key
    a = customer_id_for("salt-a", key)
    b = customer_id_for("salt-b", key)
    other = customer_id_for("salt-a", "email:john@example.com")
    # Then they all differ
    assert a != b
    assert a != other


def test_identity_keys_are_in_priority_order():
    # Given a person with an email, a phone and a platform id
    ext = platform_key("shopify", "src_1", 7204518390331)
    # When the identity keys are listed
    keys = identity_keys("jane.doe@example.com", "+12125550147", ext)
    # Then email comes first, then phone, then the platform id
    assert keys == [
        "email:jane.doe@example.com",
        "phone:+12125550147",
        "ext:shopify:src_1:7204518390331",
    ]
    assert [identity_kind(k) for k in keys] == ["email", "phone", "ext"]


def test_identity_keys_skip_missing_identities():
    # Given a person with only a phone
    # When the identity keys are listed
    keys = identity_keys(None, "+12125550147", None)
    # Then only the phone key is there
    assert keys == ["phone:+12125550147"]
    assert identity_keys(None, None, None) == []


@pytest.mark.parametrize("customer_id", [None, "", 0, "0"])
def test_guest_has_no_platform_key(customer_id):
    # Given a guest checkout (no platform customer id)
    # When the platform key is built
    key = platform_key("woocommerce", "src_1", customer_id)
    # Then there is none
    assert key is None


def test_the_emails_of_an_unparsable_body_give_the_ids_the_person_index_uses():
    # Given a body that is not even JSON, naming Jane twice (in two spellings) and Rob
    body = b'{"email": " Jane.Doe@Example.com", broken, "contact": "jane.doe@example.com"; rob@example.org'
    # When the person index reads it
    ids = person_ids_in("salt", body)
    # Then each person is listed once, under the id their email key gives
    assert ids == sorted(
        {
            customer_id_for("salt", "email:jane.doe@example.com"),
            customer_id_for("salt", "email:rob@example.org"),
        }
    )
    assert person_ids_in("salt", b'{"total_price": "twelve"}') == []
