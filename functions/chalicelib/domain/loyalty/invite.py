"""Invitations to join: a signed one-tap join link for a guest (`{{ join_url }}` in a flow's
message), valid INVITE_DAYS days, that enrols the customer with channel `invite` through
the enrolment service (audited, a number issued once). docs/loyalty.md#invitations.

The token names the workspace, the customer and the last day it is valid, signed with
HMAC-SHA256 under a key derived from the workspace's secret salt (as the unsubscribe
link's, with its own derivation label): it cannot be forged, moved to another customer
or extended. `GET /join/{token}` shows a page whose button posts, so a link scanner that
follows links enrols nobody; `POST /join/{token}` enrols. A member following it again
changes nothing; an expired link is refused (409 `invite_expired`), a tampered one is
unknown (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.domain.enrolment import Actor, EnrolmentService, MembershipRefused, MembershipView
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.loyalty.ports import LoyaltySettings
from chalicelib.domain.models import now_utc
from chalicelib.domain.signed_links import sign, signed_fields

INVITE_DAYS = 30  # a join link is valid this many days from the day it was sent (UTC)
MAX_TOKEN = 400
INVITE = Actor("invite", "invite")  # the channel and the audit's `by`: the customer, through a link


class InviteRefused(Conflict):
    """The link cannot enrol (409 with its `reason`: `invite_expired`)."""

    code = "invite_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class JoinClaims:
    workspace_id: str
    customer_id: str
    valid_until: date  # the last UTC day the link enrols


PURPOSE = b"patron-join-v1"


def make_join_token(workspace_id: str, customer_id: str, valid_until: date, salt: str) -> str:
    return sign([workspace_id, customer_id, valid_until.isoformat()], salt, PURPOSE)


def read_join_token(token: str, salt_for: Callable[[str], str | None]) -> JoinClaims:
    """What a token whose signature holds names; else NotFound (tampered, unknown)."""
    if len(token) > MAX_TOKEN:
        raise BadRequest("join link too long")
    fields = signed_fields(token, PURPOSE, salt_for)
    try:
        if fields is None:
            raise ValueError("unknown join link")
        ws, cid, until = fields
        return JoinClaims(ws, cid, date.fromisoformat(until))
    except ValueError as exc:
        raise NotFound("unknown join link") from exc


class InviteService:
    def __init__(
        self,
        workspaces: LoyaltySettings,
        enrolments: EnrolmentService,
        public_url: str | None,
        days: int = INVITE_DAYS,
    ) -> None:
        self.workspaces = workspaces
        self.enrolments = enrolments
        self.public_url = (public_url or "").rstrip("/")
        self.days = days

    def _salt(self, workspace_id: str) -> str | None:
        settings = self.workspaces.settings(workspace_id)
        return settings.id_salt if settings else None

    def link(self, workspace_id: str, customer_id: str, now: datetime | None = None) -> str | None:
        """The join link of a message sent at `now` (None without a public URL)."""
        now = now or now_utc()
        salt = self._salt(workspace_id)
        if not self.public_url or salt is None:
            return None
        until = now.date() + timedelta(days=self.days)
        return f"{self.public_url}/join/{make_join_token(workspace_id, customer_id, until, salt)}"

    def _claims(self, token: str, now: datetime) -> JoinClaims:
        claims = read_join_token(token, self._salt)
        if now.date() > claims.valid_until:
            raise InviteRefused("this invitation has expired; ask the store for a new one", "invite_expired")
        return claims

    def check(self, token: str, now: datetime) -> dict[str, str]:
        """What the page shows: the store's name (refusals as in `join`)."""
        claims = self._claims(token, now)
        settings = self.workspaces.settings(claims.workspace_id)
        return {"store": settings.name if settings else ""}

    def join(self, token: str, now: datetime) -> tuple[str, MembershipView]:
        """Enrol the link's customer (`joined`); a member already changes nothing
        (`already_member`, with their membership)."""
        claims = self._claims(token, now)
        try:
            return "joined", self.enrolments.enrol(claims.workspace_id, claims.customer_id, INVITE)
        except MembershipRefused as refused:
            if refused.reason != "already_member":
                raise
        profile = self.enrolments.profiles.load(claims.workspace_id, claims.customer_id)
        if profile is None:
            raise NotFound("customer not found")
        return "already_member", MembershipView.of(profile)
