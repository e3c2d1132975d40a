"""Loyalty membership (domain/enrolment.py, docs/loyalty.md#membership): enrolment and
leaving with member numbers and an audit, the rule that the latest explicit fact wins over
any storefront record, order independence, and the stored form of old and new profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.profile_items import profile_image, profile_item, profile_of
from chalicelib.domain.customer_profile import CustomerProfile, Enrolment
from chalicelib.domain.enrolment import (
    Actor,
    EnrolmentService,
    MembershipRefused,
    MembershipView,
    join,
    member_number,
)
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.models import Person
from chalicelib.domain.profile_model import Profile
from tests.fakes_enrolment import FakeEnrolmentStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
API = Actor("api", "key:0123456789ab")
CLI = Actor("cli", "cli")


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at


def stored(store: FakeEnrolmentStore, cid: str = "c_1", member: bool | None = None) -> None:
    store.put(CustomerProfile("ws_a", cid, created_at="2026-01-01T00:00:00.000000Z", rev=3, member=member))


@pytest.fixture
def store() -> FakeEnrolmentStore:
    found = FakeEnrolmentStore()
    stored(found)
    return found


def test_a_guest_enrols_with_a_number_then_leaves_keeping_it_and_comes_back(store):
    service = EnrolmentService(store, store, now=Clock())
    # When a guest enrols through the API
    joined = service.enrol("ws_a", "c_1", API, "asked at the till")
    # Then they are a member with the workspace's first number, since the enrolment, channel api
    assert joined == MembershipView(
        member=True, number="M000001", since="2026-03-01T12:01:00.000000Z", channel="api"
    )
    # When they leave, Then they are a guest again and keep their number
    left = service.leave("ws_a", "c_1", CLI, "unsubscribed by phone")
    assert left == MembershipView(member=False, number="M000001", left_at="2026-03-01T12:02:00.000000Z")
    assert store.load("ws_a", "c_1").is_member is False
    # When they come back through the CLI, Then the same number, a new since and channel
    back = service.enrol("ws_a", "c_1", CLI)
    assert (back.member, back.number, back.since, back.channel) == (
        True,
        "M000001",
        "2026-03-01T12:03:00.000000Z",
        "cli",
    )
    assert store.counters["ws_a"] == 1
    # And the audit says who, when, why, in order
    trail = store.audit("ws_a", "c_1")
    assert [(a.kind, a.channel, a.by, a.number, a.reason) for a in trail] == [
        ("enrol", "api", "key:0123456789ab", "M000001", "asked at the till"),
        ("leave", "cli", "cli", "M000001", "unsubscribed by phone"),
        ("enrol", "cli", "cli", "M000001", None),
    ]


def test_numbers_are_unique_per_workspace_and_never_reused(store):
    service = EnrolmentService(store, store, now=Clock())
    stored(store, "c_2")
    store.put(CustomerProfile("ws_b", "c_9", rev=1))
    # When two customers enrol, the first leaves, and a customer of another workspace enrols
    first = service.enrol("ws_a", "c_1", API).number
    service.leave("ws_a", "c_1", API)
    second = service.enrol("ws_a", "c_2", API).number
    other = service.enrol("ws_b", "c_9", API).number
    # Then each workspace counts on its own, and a leaver's number is not given again
    assert (first, second, other) == ("M000001", "M000002", "M000001")
    assert member_number(1_234_567) == "M1234567"


def test_business_rules_refuse_with_a_reason(store):
    service = EnrolmentService(store, store, now=Clock())
    # Given a guest, When they leave, Then 409 not_a_member and nothing is recorded
    with pytest.raises(MembershipRefused) as refused:
        service.leave("ws_a", "c_1", API)
    assert refused.value.details == {"reason": "not_a_member"}
    assert isinstance(refused.value, Conflict)  # answered 409 (handlers/http.py)
    # Given a member with a number, When they enrol again, Then already_member
    service.enrol("ws_a", "c_1", API)
    with pytest.raises(MembershipRefused) as again:
        service.enrol("ws_a", "c_1", API)
    assert again.value.reason == "already_member"
    assert len(store.audit("ws_a", "c_1")) == 1
    # And an unknown customer is not found
    with pytest.raises(NotFound):
        service.enrol("ws_a", "c_404", API)


def test_a_storefront_member_enrolled_gets_a_number_and_keeps_the_storefront_channel(store):
    # Given a profile with a storefront account (as the ingest left it: no enrolment)
    stored(store, "c_s", member=True)
    assert MembershipView.of(store.load("ws_a", "c_s")) == MembershipView(member=True, channel="storefront")
    # When it is enrolled through the API
    view = EnrolmentService(store, store, now=Clock()).enrol("ws_a", "c_s", API)
    # Then it has a number and its channel stays storefront
    assert (view.member, view.number, view.channel) == (True, "M000001", "storefront")


def test_a_lost_race_is_retried_with_the_number_already_issued(store):
    # Given another writer wins the profile twice while the enrolment is written
    store.conflicts = 2
    # When the guest enrols
    view = EnrolmentService(store, store, now=Clock()).enrol("ws_a", "c_1", API)
    # Then it is recorded once, with the one number issued
    assert view.number == "M000001" and store.counters["ws_a"] == 1
    assert len(store.audit("ws_a", "c_1")) == 1


def test_a_lagging_clock_still_makes_the_change_the_latest_fact(store):
    # Given a member enrolled by an instance whose clock ran ahead
    ahead = EnrolmentService(store, store, now=lambda: T0 + timedelta(hours=1))
    ahead.enrol("ws_a", "c_1", API)
    # When an instance whose clock lags records the leaving
    left = EnrolmentService(store, store, now=lambda: T0).leave("ws_a", "c_1", API)
    # Then the leaving is stamped just after the enrolment, and wins
    assert left.left_at == "2026-03-01T13:00:00.000001Z"
    assert store.load("ws_a", "c_1").is_member is False


# -- the rule: the latest explicit fact wins; storefront records never override one -----
def account(is_member: bool | None, minutes: int) -> tuple[str, Person, datetime]:
    return ("record", Person(email="a@example.com", is_member=is_member), T0 + timedelta(minutes=minutes))


def explicit(kind: str, minutes: int, number: str | None = "M000007") -> tuple[str, Enrolment, None]:
    at = T0 + timedelta(minutes=minutes)
    return ("fact", Enrolment(kind, at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "api", number), None)


def applied(facts) -> CustomerProfile:
    profile = Profile.new("ws_a", "c_1", T0)
    for kind, fact, at in facts:
        if kind == "record":
            profile.absorb(fact, at)
        else:
            profile.state.enrolment = join(profile.state.enrolment, fact)
    return profile.state


def test_no_stale_or_later_storefront_record_flips_an_explicit_state():
    # Given a storefront member who left through the API at minute 10
    facts = [account(True, 0), explicit("leave", 10)]
    # When orders with the account arrive, older and newer than the leaving, Then still a guest
    assert applied([*facts, account(True, 5), account(True, 20)]).is_member is False
    # Given a guest enrolled at minute 10, When records without an account arrive, Then a member
    assert applied([explicit("enrol", 10), account(False, 30), account(None, 40)]).is_member is True
    # And a storefront member stays one whatever records without an account say (as before)
    assert applied([account(True, 5), account(False, 50)]).is_member is True


def test_the_latest_explicit_fact_wins_in_any_arrival_order_and_a_tie_goes_to_leaving():
    facts = [explicit("enrol", 1), explicit("leave", 2), explicit("enrol", 3), account(True, 4)]
    outcomes = {(p.is_member, p.enrolment) for p in map(applied, permutations(facts))}
    assert outcomes == {(True, Enrolment("enrol", "2026-03-01T12:03:00.000000Z", "api", "M000007"))}
    tie = [explicit("enrol", 5), explicit("leave", 5)]
    assert {applied(order).is_member for order in permutations(tie)} == {False}


EXPLICIT = st.builds(
    explicit,
    st.sampled_from(["enrol", "leave"]),
    st.integers(0, 50),
    st.sampled_from(["M000007", "M000003", None]),
)
FACT = st.one_of(st.builds(account, st.sampled_from([True, False, None]), st.integers(0, 50)), EXPLICIT)


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(facts=st.lists(FACT, min_size=1, max_size=7), data=st.data())
def test_membership_is_the_same_in_any_arrival_order(facts, data):
    # Given storefront records and explicit facts, When they arrive in any two orders
    shuffled = data.draw(st.permutations(facts))
    one, other = applied(facts), applied(shuffled)
    # Then the membership is the same, and what is stored maps back to it
    assert (one.member, one.enrolment, one.is_member) == (other.member, other.enrolment, other.is_member)
    assert MembershipView.of(one) == MembershipView.of(other)
    assert profile_of(profile_item(one)).is_member == one.is_member


@given(st.lists(EXPLICIT.map(lambda f: f[1]), min_size=3, max_size=3))
@settings(max_examples=100, derandomize=True, database=None, deadline=None)
def test_join_is_commutative_associative_and_idempotent(facts):
    a, b, c = facts
    assert join(a, b) == join(b, a)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert join(a, a) == a


def test_a_merge_keeps_the_latest_fact_and_the_older_number():
    # Given two profiles of one person: one enrolled early (M000003), one who left later (M000009)
    mine = Profile.load(
        CustomerProfile(
            "ws_a", "c_1", enrolment=Enrolment("enrol", "2026-01-01T00:00:00.000000Z", "api", "M000009")
        )
    )
    theirs = Profile.load(
        CustomerProfile(
            "ws_a", "c_2", enrolment=Enrolment("leave", "2026-02-01T00:00:00.000000Z", "cli", "M000003")
        )
    )
    # When they merge
    mine.merge_from(theirs)
    # Then the later leaving decides and the older number stays
    assert mine.state.enrolment == Enrolment("leave", "2026-02-01T00:00:00.000000Z", "cli", "M000003")


# -- the stored form ---------------------------------------------------------------------
def test_an_old_profile_reads_as_before_and_round_trips():
    # Given profile items written before membership facts (`m` only, or nothing)
    for m in (True, False, None):
        item = profile_item(CustomerProfile("ws_a", "c_1", rev=2, member=m))
        assert "ms" not in item and item.get("m") == m
        # When read and written back, Then unchanged, and membership as the flag says
        profile = profile_of(item)
        assert profile_item(profile) == item
        assert profile.is_member is bool(m) and profile.enrolment is None


def test_a_profile_with_an_enrolment_round_trips_and_stores_the_derived_flag():
    # Given a storefront member who left through the API
    profile = CustomerProfile("ws_a", "c_1", rev=4, member=True)
    profile.enrolment = Enrolment("leave", "2026-02-01T00:00:00.000000Z", "api", "M000012")
    # When stored, Then `m` is the derived state (segments, flows) and `ms` keeps the facts
    item = profile_item(profile)
    assert item["m"] is False
    assert item["ms"] == {
        "k": "leave",
        "at": "2026-02-01T00:00:00.000000Z",
        "ch": "api",
        "n": "M000012",
        "a": True,
    }
    assert profile_image(item).member is False
    # And read back, it is the same profile and the same item
    again = profile_of(item)
    assert (again.member, again.enrolment, again.is_member) == (True, profile.enrolment, False)
    assert profile_item(again) == item
