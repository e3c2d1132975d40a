"""Membership of the loyalty programme: enrolment, leaving, member numbers (docs/loyalty.md).

The rule. A profile is a member when its latest explicit fact is an enrolment; without
any explicit fact, when a record of it reported a storefront account (as before). Explicit
facts (enrol, leave) are stamped with the time Patron recorded them; the latest wins, and
of two at the same time the leaving does. A storefront record never overrides an explicit
fact, and a record without an account never makes a member a guest: the state is a join
of its facts, the same whatever order they arrive in (`join`).

Member numbers come from one atomic counter per workspace (ports.EnrolmentStore.next_number):
`M` and at least six digits (`M000042`), unique, never reused: a person keeps theirs
after leaving and on coming back; of two merged profiles the older (smaller) number stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile, Enrolment, EnrolmentAudit
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import EnrolmentStore, ProfileReader

ENROL, LEAVE = "enrol", "leave"
# A number issued to a storefront member who has no explicit fact (`number_account`): it
# records that an account was seen, so any explicit fact outranks it, whatever its time.
ACCOUNT = "account"
CHANNELS = ("storefront", "api", "cli", "invite")  # invite: a join link a flow sent (loyalty/invite.py)
ATTEMPTS = 5  # optimistic-lock retries against concurrent profile writers
MAX_REASON = 200


def member_number(n: int) -> str:
    """The counter's value as a member number: `M` and at least six digits."""
    return f"M{n:06d}"


def _order(fact: Enrolment) -> tuple[int, str, int]:
    return (0 if fact.kind == ACCOUNT else 1, fact.at, 1 if fact.kind == LEAVE else 0)


def join(a: Enrolment | None, b: Enrolment | None) -> Enrolment | None:
    """The state two sets of explicit facts give together: the latest fact (a leaving wins a
    tie; any explicit fact wins over an `account` one), with the smaller of their member
    numbers. Commutative, associative, idempotent."""
    if a is None or b is None:
        return a or b
    latest = max(a, b, key=_order)
    numbers = [n for n in (a.number, b.number) if n is not None]
    return replace(latest, number=min(numbers, key=lambda n: (len(n), n)) if numbers else None)


class MembershipView(BaseModel):
    """`membership` of `GET /customers/{id}` and the answer of enrol/leave."""

    member: bool
    number: str | None = None
    since: str | None = None  # when the current membership was recorded (None: storefront only)
    channel: str | None = None  # storefront, api or cli (None: a guest)
    left_at: str | None = None  # a former member's leaving

    @classmethod
    def of(cls, profile: CustomerProfile) -> MembershipView:
        fact = profile.enrolment
        if fact is None:
            member = profile.is_member
            return cls(member=member, channel="storefront" if member else None)
        if fact.kind in (ENROL, ACCOUNT):
            return cls(member=True, number=fact.number, since=fact.at, channel=fact.channel)
        return cls(member=False, number=fact.number, left_at=fact.at)


class MembershipIn(BaseModel):
    """The optional body of `POST` and `DELETE /customers/{id}/membership`."""

    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, min_length=1, max_length=MAX_REASON)


@dataclass(frozen=True)
class Actor:
    """Who records a fact: `channel` api (`by` names the key by its hash's first 12 hex
    digits, never the key) or cli (`by` = `cli`)."""

    channel: str
    by: str


class MembershipRefused(Conflict):
    """A business rule refuses the change (409 with its `reason`)."""

    code = "membership_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


def _after(now: datetime, current: Enrolment | None) -> str:
    """The new fact's time: now, or just after the latest fact when a clock lags behind the
    one that recorded it (a recorded change always becomes the latest fact)."""
    if current is not None:
        latest = timemath.parse_iso(current.at)
        if latest is not None and now <= latest:
            now = latest + timedelta(microseconds=1)
    return timemath.iso(now) or ""


class EnrolmentService:
    def __init__(
        self,
        profiles: ProfileReader,
        store: EnrolmentStore,
        now: Callable[[], datetime] = now_utc,
        on_joined: Callable[[str, str, MembershipView], None] | None = None,
    ) -> None:
        self.profiles = profiles
        self.store = store
        self.now = now
        # Called (workspace, customer, membership) once a change is recorded that made a
        # guest (or a former member) a member: an enrolment, a join link, a storefront
        # member's first number. Not for a leaving or a storefront member enrolled. The
        # hook for an enrolment bonus; it runs after the write (a retry of a failed hook
        # finds the member and does not call it again: make the bonus keyed, not counted).
        self.on_joined = on_joined

    def enrol(
        self, workspace_id: str, customer_id: str, actor: Actor, reason: str | None = None
    ) -> MembershipView:
        """Enrol a guest or a former member (a number issued once, kept on coming back); a
        storefront member without a number gets one, their channel staying storefront.
        A current member with a number is refused (`already_member`)."""
        return self._record(workspace_id, customer_id, ENROL, actor, reason)

    def leave(
        self, workspace_id: str, customer_id: str, actor: Actor, reason: str | None = None
    ) -> MembershipView:
        """A member leaves (number kept); a guest is refused (`not_a_member`)."""
        return self._record(workspace_id, customer_id, LEAVE, actor, reason)

    def _record(self, ws: str, cid: str, kind: str, actor: Actor, reason: str | None) -> MembershipView:
        issued: str | None = None  # a number issued in an attempt that lost a race is reused
        for _ in range(ATTEMPTS):
            profile = self.profiles.load(ws, cid)
            if profile is None:
                raise NotFound("customer not found")
            current = profile.enrolment
            number = current.number if current is not None else None
            if kind == ENROL and profile.is_member and number is not None:
                raise MembershipRefused("the customer is already a member", "already_member")
            if kind == LEAVE and not profile.is_member:
                raise MembershipRefused("the customer is not a member", "not_a_member")
            if kind == ENROL and number is None:
                issued = issued or member_number(self.store.next_number(ws))
                number = issued
            was_member = profile.is_member
            channel = "storefront" if kind == ENROL and was_member else actor.channel
            at = _after(self.now(), current)
            fact = Enrolment(kind, at, channel, number)
            expected = profile.rev
            profile.enrolment = join(current, fact)
            profile.rev = (profile.rev or 0) + 1
            profile.updated_at = at
            profile.imported = False  # a live change: its flow triggers and segment events follow
            audit = EnrolmentAudit(ws, profile.customer_id, kind, at, channel, actor.by, number, reason)
            try:
                self.store.record(profile, expected, audit)
            except Conflict:
                continue
            view = MembershipView.of(profile)
            if kind == ENROL and not was_member and self.on_joined:
                self.on_joined(ws, profile.customer_id, view)
            return view
        raise Conflict("the profile kept changing; try again")

    def number_account(self, before: CustomerProfile | None, after: CustomerProfile) -> MembershipView | None:
        """The CRM stream's hook: a storefront member without any membership fact (`ms`)
        gets a number, as an `account` fact (channel `storefront`, `since` the change in
        which the account was first seen; for a profile that was a storefront member before
        numbers existed, its creation), audited (by `storefront`). A profile with a fact,
        or a guest, reads and writes nothing: the common case costs nothing. Replays find
        the fact and do nothing; a race with an explicit change re-reads and yields to it.
        Returns the membership when it numbered the profile (the enrolment bonus's hook)."""
        if after.enrolment is not None or not after.member:
            return None
        first_seen = before is None or not before.member
        since = (after.updated_at if first_seen else after.created_at) or after.updated_at
        ws, cid = after.workspace_id, after.customer_id
        issued: str | None = None
        for _ in range(ATTEMPTS):
            profile = self.profiles.load(ws, cid)
            if profile is None or profile.enrolment is not None or not profile.member:
                return None
            if profile.customer_id != cid:
                return None  # merged away since: the survivor's own change numbers it
            issued = issued or member_number(self.store.next_number(ws))
            at = since or timemath.iso(self.now()) or ""
            expected = profile.rev
            profile.enrolment = Enrolment(ACCOUNT, at, "storefront", issued)
            profile.rev = (profile.rev or 0) + 1
            audit = EnrolmentAudit(ws, cid, ACCOUNT, at, "storefront", "storefront", issued, None)
            try:
                self.store.record(profile, expected, audit)
            except Conflict:
                continue
            view = MembershipView.of(profile)
            if first_seen and self.on_joined:
                self.on_joined(ws, cid, view)
            return view
        raise Conflict("the profile kept changing; the stream retries the record")
