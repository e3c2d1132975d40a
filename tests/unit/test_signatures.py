"""Webhook signatures: base64 HMAC-SHA256 over the raw body, with secret rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from chalicelib.domain.signatures import sign, verify
from tests.conftest import event_bytes

SECRET = "shpss_" + "a1b2c3d4" * 4
NEW_SECRET = "shpss_" + "e5f6a7b8" * 4


def test_sign_is_base64_hmac_sha256_of_the_body():
    # Given a body and a secret
    body = event_bytes("shopify/orders_create.json")
    # When it is signed
    signature = sign(SECRET, body)
    # Then the signature is the base64 HMAC-SHA256 the platforms send
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    assert base64.b64decode(signature) == expected


def test_signature_round_trip():
    # Given a body signed with the source's secret
    body = event_bytes("shopify/orders_create.json")
    signature = sign(SECRET, body)
    # When it is verified with that secret
    ok = verify([SECRET], body, signature)
    # Then it is accepted
    assert ok is True


def test_surrounding_whitespace_in_the_header_is_tolerated():
    # Given a signature header with a trailing newline
    body = b'{"id": 1}'
    signature = sign(SECRET, body) + "\n"
    # When it is verified
    # Then it is accepted
    assert verify([SECRET], body, signature) is True


@pytest.mark.parametrize("position", [0, 17, -1])
def test_one_flipped_byte_in_the_body_fails(position):
    # Given a signed body
    body = event_bytes("shopify/orders_create.json")
    signature = sign(SECRET, body)
    # When one byte of the body is changed after signing
    tampered = bytearray(body)
    tampered[position] ^= 0x01
    # Then the signature no longer matches
    assert bytes(tampered) != body
    assert verify([SECRET], bytes(tampered), signature) is False


def test_wrong_secret_fails():
    # Given a body signed with another secret
    body = event_bytes("shopify/orders_create.json")
    signature = sign("someone-elses-secret", body)
    # When it is verified with the source's secret
    ok = verify([SECRET], body, signature)
    # Then it is rejected
    assert ok is False


@pytest.mark.parametrize(
    "signature",
    [None, "", "   ", "not base64 at all!", "abc", "%%%%", "é" * 44],
)
def test_missing_empty_or_malformed_signature_fails(signature):
    # Given a body and a missing, empty or non-base64 signature
    body = b'{"id": 1}'
    # When it is verified
    ok = verify([SECRET], body, signature)
    # Then it is rejected without raising
    assert ok is False


def test_valid_base64_of_the_wrong_length_fails():
    # Given a well-formed base64 signature that is not a SHA-256 digest
    body = b'{"id": 1}'
    signature = base64.b64encode(b"short").decode()
    # When it is verified
    # Then it is rejected
    assert verify([SECRET], body, signature) is False


def test_no_secrets_accepts_nothing():
    # Given a correctly signed body but a source without secrets
    body = b'{"id": 1}'
    signature = sign(SECRET, body)
    # When it is verified against no secrets
    # Then it is rejected
    assert verify([], body, signature) is False


@pytest.mark.parametrize("signing_secret", [SECRET, NEW_SECRET])
def test_during_rotation_either_secret_is_accepted(signing_secret):
    # Given a source in the middle of a secret rotation (old and new secret)
    body = event_bytes("woocommerce/order_created.json")
    signature = sign(signing_secret, body)
    # When a body signed with either secret is verified against both
    ok = verify([SECRET, NEW_SECRET], body, signature)
    # Then it is accepted
    assert ok is True


def test_during_rotation_an_unrelated_secret_is_still_rejected():
    # Given a source with two secrets during a rotation
    body = event_bytes("woocommerce/order_created.json")
    signature = sign("a-third-secret", body)
    # When a body signed with a third secret is verified
    # Then it is rejected
    assert verify([SECRET, NEW_SECRET], body, signature) is False


def test_verify_accepts_a_one_shot_iterable_of_secrets():
    # Given the secrets as a generator (an Iterable, as the signature allows)
    body = b'{"id": 1}'
    signature = sign(NEW_SECRET, body)
    # When verified
    ok = verify((s for s in [SECRET, NEW_SECRET]), body, signature)
    # Then the matching second secret is found
    assert ok is True
