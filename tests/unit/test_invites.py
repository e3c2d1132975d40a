"""Invitations to join (domain/loyalty/invite.py, docs/loyalty.md#invitations): a signed
join link valid INVITE_DAYS days enrols a guest with channel invite, once; a member
following it again changes nothing; expired, tampered or moved links enrol nobody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.enrolment import EnrolmentService
from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.invite import INVITE_DAYS, InviteRefused, InviteService
from tests.fakes_enrolment import FakeEnrolmentStore

SENT = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)


@dataclass
class Settings:
    id_salt: str
    name: str = "Acme"


class Workspaces:
    def __init__(self) -> None:
        self.found = {"ws_a": Settings("salt-a"), "ws_b": Settings("salt-b")}

    def settings(self, workspace_id: str) -> Settings | None:
        return self.found.get(workspace_id)


@pytest.fixture
def store() -> FakeEnrolmentStore:
    found = FakeEnrolmentStore()
    found.put(CustomerProfile("ws_a", "c_1", rev=1))
    found.put(CustomerProfile("ws_a", "c_2", rev=1))
    return found


def invites(store: FakeEnrolmentStore, at: datetime = SENT) -> InviteService:
    enrolments = EnrolmentService(store, store, now=lambda: at)
    return InviteService(Workspaces(), enrolments, "https://crm.example/")  # type: ignore[arg-type]


def token_of(link: str) -> str:
    assert link.startswith("https://crm.example/join/")
    return link.rsplit("/", 1)[1]


def test_a_guest_follows_the_link_and_joins_with_channel_invite_once(store):
    # Given a guest sent a join link
    token = token_of(invites(store).link("ws_a", "c_1", SENT))
    # When they follow it (the page) and tap join, the next day
    later = invites(store, SENT + timedelta(days=1))
    assert later.check(token, SENT + timedelta(days=1)) == {"store": "Acme"}
    outcome, view = later.join(token, SENT + timedelta(days=1))
    # Then a member with the first number, channel invite, audited as the invitation's
    assert (outcome, view.member, view.number, view.channel) == ("joined", True, "M000001", "invite")
    (entry,) = store.audit("ws_a", "c_1")
    assert (entry.kind, entry.channel, entry.by, entry.number) == ("enrol", "invite", "invite", "M000001")
    # When they tap it again, Then nothing changes
    again, same = later.join(token, SENT + timedelta(days=2))
    assert (again, same) == ("already_member", view)
    assert len(store.audit("ws_a", "c_1")) == 1 and store.counters["ws_a"] == 1


def test_the_link_works_through_its_last_day_and_then_is_refused(store):
    token = token_of(invites(store).link("ws_a", "c_1", SENT))
    last_day = datetime.combine((SENT + timedelta(days=INVITE_DAYS)).date(), datetime.max.time(), UTC)
    # When it is followed the day after its last day, Then refused with a reason, nothing recorded
    with pytest.raises(InviteRefused) as refused:
        invites(store).join(token, last_day + timedelta(seconds=1))
    assert refused.value.details == {"reason": "invite_expired"}
    with pytest.raises(InviteRefused):
        invites(store).check(token, last_day + timedelta(seconds=1))
    assert store.audit("ws_a", "c_1") == [] and store.counters["ws_a"] == 0
    # When it is followed on its last day, Then it enrols
    assert invites(store).join(token, last_day)[0] == "joined"


def test_tampered_moved_or_foreign_links_enrol_nobody(store):
    service = invites(store)
    token = token_of(service.link("ws_a", "c_1", SENT))
    other = token_of(service.link("ws_a", "c_2", SENT))
    payload, signature = token.split(".")
    # Given a link whose signature is altered, one with another customer's signature,
    # one made under another workspace's salt, and garbage
    forged = [
        f"{payload}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}",
        f"{payload}.{other.split('.')[1]}",
        token_of(service.link("ws_b", "c_1", SENT)).replace(
            token_of(service.link("ws_b", "c_1", SENT)).split(".")[0], payload
        ),
        "not-a-token",
    ]
    # When each is followed, Then unknown (404), and nobody was enrolled
    for bad in forged:
        with pytest.raises(NotFound):
            service.join(bad, SENT)
    assert store.audit("ws_a", "c_1") == [] and store.audit("ws_a", "c_2") == []


def test_no_public_url_no_link(store):
    enrolments = EnrolmentService(store, store)
    # Given a stage without a public URL, When a link is asked for, Then none
    assert InviteService(Workspaces(), enrolments, None).link("ws_a", "c_1", SENT) is None  # type: ignore[arg-type]
