"""Signed one-tap links' tokens (the unsubscribe link, the join link): `|`-joined fields,
HMAC-SHA256 under a key derived from the workspace's salt and the link's purpose (so a
token of one kind is never valid as another), truncated to 16 bytes, both parts base64url
without padding: `<payload>.<signature>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(salt: str, purpose: bytes, payload: bytes) -> bytes:
    key = hmac.new(salt.encode(), purpose, hashlib.sha256).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()[:16]


def sign(fields: list[str], salt: str, purpose: bytes) -> str:
    """The token of `fields` (the first: the workspace whose salt signs it)."""
    payload = "|".join(fields).encode()
    return f"{_b64(payload)}.{_b64(_signature(salt, purpose, payload))}"


def signed_fields(token: str, purpose: bytes, salt_for: Callable[[str], str | None]) -> list[str] | None:
    """The fields of a token whose signature holds under its workspace's salt (the first
    field's); None when it is malformed, its workspace unknown, or it was tampered with."""
    try:
        payload_text, signature_text = token.split(".", 1)
        payload = _unb64(payload_text)
        fields = payload.decode().split("|")
        signature = _unb64(signature_text)
    except (ValueError, UnicodeDecodeError):
        return None
    salt = salt_for(fields[0])
    if salt is None or not hmac.compare_digest(signature, _signature(salt, purpose, payload)):
        return None
    return fields
