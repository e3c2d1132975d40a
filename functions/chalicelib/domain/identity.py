"""Identity normalization and keys.

One person is one profile per workspace. Identities are normalized so that the
same person written differently by two storefronts yields the same key:
emails are trimmed and lower-cased, phones are E.164 (read in the country of the address, else the
source's default region), platform customer ids are
namespaced by platform and source.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NON_DIGITS = re.compile(r"[^\d]")


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    email = value.strip().lower()
    if not email or not _EMAIL_RE.match(email):
        return None
    return email


def normalize_phone(value: str | None, region: str | None = None) -> str | None:
    """Return the E.164 form of a valid phone number, or None.

    Numbers in international form (+ or 00 prefix) carry their own country code;
    a national number is read in `region` (ISO 3166 alpha-2: the country of the
    order's address, else the source's default region). Without a region a
    national number is not valid: there is no silent +1. Validity is
    libphonenumber's (`phonenumbers.is_valid_number`) for the number's region.
    """
    parsed = _parse_phone(value, region)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def read_phone(value: str | None, region: str | None = None) -> tuple[str | None, str | None]:
    """What a parser stores of one number, parsed once: (its E.164 form, None) when it is
    valid for its region, else (None, the number as written). A number that is not valid
    is kept on the profile, flagged, and is neither an identity key nor an SMS target."""
    e164 = normalize_phone(value, region)
    if e164 is not None or value is None or not value.strip():
        return e164, None
    return None, value.strip()[:64]


def _parse_phone(value: str | None, region: str | None) -> phonenumbers.PhoneNumber | None:
    if value is None:
        return None
    raw = value.strip()
    if not raw or len(_NON_DIGITS.sub("", raw)) > 17:
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    region = region.strip().upper() if region else None
    if not raw.startswith("+") and not region:
        return None
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


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


_EMAIL_IN_TEXT = re.compile(rb"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


def person_ids_in(salt: str, body: bytes) -> list[str]:
    """The customer ids of the email addresses written anywhere in a raw body (one that could
    not be parsed, kept in the quarantine): where the person index lists it."""
    emails = {normalize_email(m.decode("ascii", "ignore")) for m in _EMAIL_IN_TEXT.findall(body)}
    return sorted({customer_id_for(salt, "email:" + e) for e in emails if e})
