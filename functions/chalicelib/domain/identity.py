"""Identity normalization and keys.

One person is one profile per workspace. Identities are normalized so that the
same person written differently by two storefronts yields the same key:
emails are trimmed and lower-cased, phones are E.164, platform customer ids are
namespaced by platform and source.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NON_DIGITS = re.compile(r"[^\d]")


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    email = value.strip().lower()
    if not email or not _EMAIL_RE.match(email):
        return None
    return email


def normalize_phone(value: str | None, default_country_code: str = "1") -> str | None:
    """Return the E.164 form of a phone number, or None when it cannot be one.

    Numbers already in international form (+ or 00 prefix) keep their country
    code; national numbers get the workspace's default country code (NANP '1'
    unless configured). E.164 allows at most 15 digits.
    """
    if value is None:
        return None
    raw = value.strip()
    if not raw:
        return None
    international = raw.startswith("+") or raw.startswith("00")
    digits = _NON_DIGITS.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    if not international:
        if default_country_code == "1" and len(digits) == 11 and digits.startswith("1"):
            pass
        else:
            digits = default_country_code + digits.lstrip("0")
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    return "+" + digits


def platform_key(platform: str, source_id: str, platform_customer_id: str | int | None) -> str | None:
    if platform_customer_id in (None, "", 0, "0"):
        return None
    return f"{platform}:{source_id}:{platform_customer_id}"


def identity_keys(email: str | None, phone: str | None, ext: str | None) -> list[str]:
    """Identity keys in priority order: email, phone, platform customer id."""
    keys = []
    if email:
        keys.append("email:" + email)
    if phone:
        keys.append("phone:" + phone)
    if ext:
        keys.append("ext:" + ext)
    return keys


def identity_kind(key: str) -> str:
    return key.split(":", 1)[0]


def customer_id_for(salt: str, key: str) -> str:
    """Deterministic, pseudonymous customer id for an identity key.

    Keyed with the workspace's random salt, so an id reveals nothing about the
    email or phone it came from, and two concurrent first orders of the same
    person converge on one profile item.
    """
    digest = hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:24]
