"""Unsubscribe: a signed link in every marketing email, honoured with one click.

The token names the workspace, the customer and the channel, signed with HMAC-SHA256
under a key derived from the workspace's secret salt, so it cannot be forged or moved to
another customer. `POST /unsubscribe/{token}` (RFC 8058 one-click, what mail clients
send for `List-Unsubscribe-Post`) records the opt-out; `GET` shows a page whose button
posts, so a link scanner that follows links unsubscribes nobody. The opt-out is an item
of its own (`W#<ws>#OPT#<NN>` / `<channel>#<cid>`), checked before every marketing send: a
later storefront consent update cannot silently undo it. The profile's consent for the
channel is then set to `unsubscribed` (`ProfileConsent.withdraw`), so the profile, the
segments on consent and the exports show it too.

A token may also name the message's scope (`camp#<id>`, `flow#<id>`) and A/B variant:
the first unsubscribe through it adds `unsubscribed` to that scope's statistics (and
the variant's), together with the opt-out, once. Tokens without them (older links, and
transactional messages) still work and count nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.messaging.ports import CountedOptOuts, OptOutStore, ProfileConsent, WorkspaceReader
from chalicelib.domain.messaging.render import variables_used
from chalicelib.domain.messaging.stats import variant_scope
from chalicelib.domain.models import now_utc
from chalicelib.domain.signed_links import sign, signed_fields
from chalicelib.domain.timemath import iso

CHANNELS = ("email", "sms")


HTML_FOOTER = (
    '<p style="font-size:12px;color:#666">'
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a> from these emails.</p>'
)
TEXT_FOOTER = "\n\nUnsubscribe: {{ unsubscribe_url }}\n"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def with_link(html: str, text: str) -> tuple[str, str]:
    """A marketing email's template bodies, each with the signed link: a body that does not
    show `{{ unsubscribe_url }}` gets a footer that does (before `</body>` in HTML)."""
    if html and "unsubscribe_url" not in variables_used(html):
        end = _BODY_END.search(html)
        html = html[: end.start()] + HTML_FOOTER + html[end.start() :] if end else html + HTML_FOOTER
    if (text and "unsubscribe_url" not in variables_used(text)) or not (html or text):
        text = text + TEXT_FOOTER
    return html, text


def one_click_headers(url: str | None) -> dict[str, str]:
    """One-click unsubscribe (RFC 8058) when the message carries a signed link."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True)
class TokenClaims:
    workspace_id: str
    customer_id: str
    channel: str
    scope: str = ""  # the message's campaign or flow, when the link came in one
    variant: str = ""


PURPOSE = b"patron-unsubscribe-v1"


def make_token(
    workspace_id: str, customer_id: str, channel: str, salt: str, scope: str = "", variant: str = ""
) -> str:
    fields = [workspace_id, customer_id, channel] + ([scope, variant] if scope else [])
    return sign(fields, salt, PURPOSE)


def read_token(token: str, salt_for: Any) -> TokenClaims:
    """What a token whose signature holds names; else a 404. Three fields (older links) or
    five (with the message's scope and variant)."""
    fields = signed_fields(token, PURPOSE, salt_for)
    if fields is None or len(fields) not in (3, 5):
        raise NotFound("unknown unsubscribe link")
    claims = TokenClaims(*fields)
    if claims.channel not in CHANNELS:
        raise NotFound("unknown unsubscribe link")
    return claims


class UnsubscribeService:
    def __init__(
        self,
        store: OptOutStore,
        workspaces: WorkspaceReader,
        public_url: str | None,
        counted: CountedOptOuts | None = None,
        consent: ProfileConsent | None = None,
    ) -> None:
        self.store = store
        self.workspaces = workspaces
        self.public_url = (public_url or "").rstrip("/")
        self.counted = counted
        self.consent = consent

    def _salt(self, workspace_id: str) -> str | None:
        settings = self.workspaces.settings(workspace_id)
        return settings.id_salt if settings else None

    def link(
        self,
        workspace_id: str,
        customer_id: str,
        channel: str = "email",
        scope: str | None = None,
        variant: str | None = None,
    ) -> str | None:
        salt = self._salt(workspace_id)
        if not self.public_url or salt is None:
            return None
        token = make_token(workspace_id, customer_id, channel, salt, scope or "", variant or "")
        return f"{self.public_url}/unsubscribe/{token}"

    def unsubscribe(self, token: str, now: datetime | None = None) -> dict[str, str]:
        if len(token) > 400:
            raise BadRequest("unsubscribe link too long")
        claims = read_token(token, self._salt)
        ws, cid, channel = claims.workspace_id, claims.customer_id, claims.channel
        at = iso(now or now_utc()) or ""
        if claims.scope and self.counted is not None:
            counts: dict[str, dict[str, int | Decimal]] = {claims.scope: {"unsubscribed": 1}}
            if claims.variant:
                counts[variant_scope(claims.scope, claims.variant)] = {"unsubscribed": 1}
            self.counted.opt_out_once(ws, channel, cid, "unsubscribe link", at, counts)
        else:
            self.store.opt_out(ws, channel, cid, "unsubscribe link")
        if self.consent is not None:  # after the opt-out: a retry of a failure here redoes both
            self.consent.withdraw(ws, cid, channel, at, "unsubscribe link")
        return {"status": "unsubscribed", "channel": channel}

    def check(self, token: str) -> dict[str, str]:
        claims = read_token(token, self._salt)
        settings = self.workspaces.settings(claims.workspace_id)
        return {"store": settings.name if settings else "", "channel": claims.channel}
