"""Webhook signatures: base64 HMAC-SHA256 over the raw body, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secrets: Iterable[str], body: bytes, signature: str | None) -> bool:
    """True when the signature matches any of the secrets (several during a rotation)."""
    if not signature:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        return False
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        # Evaluate every secret: the time taken does not tell which one matched.
        ok |= hmac.compare_digest(expected, given)
    return ok
