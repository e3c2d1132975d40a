"""Unsubscribe: a signed link in every marketing email, honoured with one click.

The token names the workspace, the customer and the channel, signed with HMAC-SHA256
under a key derived from the workspace's secret salt, so it cannot be forged or moved to
another customer. `POST /unsubscribe/{token}` (RFC 8058 one-click, what mail clients
send for `List-Unsubscribe-Post`) records the opt-out; `GET` shows a page whose button
posts, so a link scanner that follows links unsubscribes nobody. The opt-out is an item
of its own (`W#<ws>#OPT` / `<channel>#<cid>`), checked before every marketing send: a
later storefront consent update cannot silently undo it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Protocol

from chalicelib.domain.errors import BadRequest, NotFound

CHANNELS = ("email", "sms")


class OptOutStore(Protocol):
    def opt_out(self, workspace_id: str, channel: str, customer_id: str, source: str) -> None: ...
    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(salt: str) -> bytes:
    return hmac.new(salt.encode(), b"patron-unsubscribe-v1", hashlib.sha256).digest()


def make_token(workspace_id: str, customer_id: str, channel: str, salt: str) -> str:
    payload = f"{workspace_id}|{customer_id}|{channel}".encode()
    signature = hmac.new(_key(salt), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def read_token(token: str, salt_for: Any) -> tuple[str, str, str]:
    """(workspace, customer, channel) from a token whose signature holds; else a 404."""
    try:
        payload_text, signature_text = token.split(".", 1)
        payload = _unb64(payload_text)
        workspace_id, customer_id, channel = payload.decode().split("|")
        signature = _unb64(signature_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotFound("unknown unsubscribe link") from exc
    salt = salt_for(workspace_id)
    expected = hmac.new(_key(salt or ""), payload, hashlib.sha256).digest()[:16]
    if salt is None or channel not in CHANNELS or not hmac.compare_digest(signature, expected):
        raise NotFound("unknown unsubscribe link")
    return workspace_id, customer_id, channel


class UnsubscribeService:
    def __init__(self, store: OptOutStore, workspaces: Any, public_url: str | None) -> None:
        self.store = store
        self.workspaces = workspaces
        self.public_url = (public_url or "").rstrip("/")

    def _salt(self, workspace_id: str) -> str | None:
        settings = self.workspaces.settings(workspace_id)
        return settings.id_salt if settings else None

    def link(self, workspace_id: str, customer_id: str, channel: str = "email") -> str | None:
        salt = self._salt(workspace_id)
        if not self.public_url or salt is None:
            return None
        return f"{self.public_url}/unsubscribe/{make_token(workspace_id, customer_id, channel, salt)}"

    def unsubscribe(self, token: str) -> dict[str, str]:
        if len(token) > 400:
            raise BadRequest("unsubscribe link too long")
        workspace_id, customer_id, channel = read_token(token, self._salt)
        self.store.opt_out(workspace_id, channel, customer_id, "unsubscribe link")
        return {"status": "unsubscribed", "channel": channel}

    def check(self, token: str) -> dict[str, str]:
        workspace_id, _, channel = read_token(token, self._salt)
        settings = self.workspaces.settings(workspace_id)
        return {"store": settings.name if settings else "", "channel": channel}
