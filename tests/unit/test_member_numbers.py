"""Member numbers for storefront members never enrolled explicitly (domain/enrolment.py
`number_account`, docs/loyalty.md#member-numbers): issued once by the CRM stream's hook,
dated when the account was first seen, outranked by any explicit fact, kept (the smaller)
through replays and merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.domain.customer_profile import CustomerProfile, Enrolment
from chalicelib.domain.enrolment import (
    ACCOUNT,
    Actor,
    EnrolmentService,
    MembershipRefused,
    MembershipView,
    join,
)
from chalicelib.domain.errors import Conflict
from chalicelib.domain.profile_model import Profile
from tests.fakes_enrolment import FakeEnrolmentStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATED = "2026-01-01T00:00:00.000000Z"
SEEN = "2026-02-01T09:30:00.000000Z"
API = Actor("api", "key:0123456789ab")


def profile(cid: str = "c_1", member: bool | None = True, rev: int = 3) -> CustomerProfile:
    return CustomerProfile("ws_a", cid, created_at=CREATED, updated_at=SEEN, rev=rev, member=member)


@pytest.fixture
def store() -> FakeEnrolmentStore:
    return FakeEnrolmentStore()


def service(store: FakeEnrolmentStore) -> EnrolmentService:
    return EnrolmentService(store, store, now=lambda: T0)


def test_a_profile_becoming_a_storefront_member_gets_a_number_dated_when_the_account_was_seen(store):
    # Given a profile whose latest change reported a storefront account (it was a guest before)
    store.put(profile())
    # When the CRM stream's hook sees the change
    view = service(store).number_account(profile(member=None), profile())
    # Then a number, channel storefront, since the change that reported the account
    expected = MembershipView(member=True, number="M000001", since=SEEN, channel="storefront")
    assert view == expected
    stored = store.load("ws_a", "c_1")
    assert (MembershipView.of(stored), stored.is_member, stored.rev) == (expected, True, 4)
    # And the audit records it, by the storefront, without a reason
    (entry,) = store.audit("ws_a", "c_1")
    assert (entry.kind, entry.at, entry.channel, entry.by, entry.number, entry.reason) == (
        ACCOUNT,
        SEEN,
        "storefront",
        "storefront",
        "M000001",
        None,
    )


def test_replays_and_later_changes_issue_nothing_and_read_nothing(store):
    # Given a storefront member numbered once
    store.put(profile())
    hook = service(store)
    hook.number_account(None, profile())
    numbered = store.load("ws_a", "c_1")
    # When the same change is replayed (the stale image) and a later change arrives
    again = hook.number_account(None, profile())
    later = hook.number_account(numbered, numbered)
    # Then nothing more: one number taken, one audit entry
    assert (again, later, store.counters["ws_a"]) == (None, None, 1)
    assert len(store.audit("ws_a", "c_1")) == 1
    assert store.load("ws_a", "c_1").enrolment == numbered.enrolment


def test_guests_and_profiles_with_an_explicit_fact_are_left_alone(store):
    # Given a guest, and a storefront member who left through the API
    store.put(profile("c_g", member=False))
    left = profile("c_l")
    left.enrolment = Enrolment("leave", "2026-02-02T00:00:00.000000Z", "api", None)
    store.put(left)
    # When the hook sees them, Then no number is taken and nothing is written
    assert service(store).number_account(None, profile("c_g", member=False)) is None
    assert service(store).number_account(None, left) is None
    assert store.counters["ws_a"] == 0 and store.load("ws_a", "c_l").is_member is False


def test_a_member_from_before_numbers_is_dated_by_the_profile_creation(store):
    # Given a profile that was a storefront member before numbers existed
    store.put(profile())
    # When a later change of it reaches the hook, Then its since is the profile's creation
    assert service(store).number_account(profile(), profile()).since == CREATED


def test_a_lost_race_retries_with_the_number_issued_and_yields_to_an_explicit_change(store):
    # Given another writer wins the profile once
    store.put(profile())
    store.conflicts = 1
    # When the hook numbers it, Then once, with one number taken
    assert service(store).number_account(None, profile()).number == "M000001"
    assert store.counters["ws_a"] == 1
    # Given a storefront member the API enrolled between the image and the hook's read
    store.put(profile("c_2"))
    service(store).enrol("ws_a", "c_2", API)
    # When the hook sees the old image, Then it yields (the explicit number stands)
    assert service(store).number_account(None, profile("c_2")) is None
    assert store.load("ws_a", "c_2").enrolment.channel == "storefront"
    assert [a.kind for a in store.audit("ws_a", "c_2")] == ["enrol"]


def test_a_numbered_storefront_member_leaves_and_is_refused_a_second_number(store):
    # Given a storefront member numbered by the hook
    store.put(profile())
    hook = service(store)
    hook.number_account(None, profile())
    # When an operator enrols them, Then already_member (they have a number)
    with pytest.raises(MembershipRefused) as refused:
        hook.enrol("ws_a", "c_1", API)
    assert refused.value.reason == "already_member"
    # When they leave, Then a guest keeping the number; the leaving outranks the account fact
    left = hook.leave("ws_a", "c_1", API)
    assert (left.member, left.number) == (False, "M000001")
    assert profile_of(profile_item(store.load("ws_a", "c_1"))).is_member is False


def test_a_profile_that_keeps_changing_fails_the_record_for_a_retry(store):
    # Given a profile another writer wins every time
    store.put(profile())
    store.conflicts = 99
    # When the hook numbers it, Then a Conflict (the stream record fails and is retried)
    with pytest.raises(Conflict):
        service(store).number_account(None, profile())


def fact(kind: str, minutes: int, number: str | None) -> Enrolment:
    at = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return Enrolment(kind, at, "storefront" if kind == ACCOUNT else "api", number)


FACTS = st.builds(
    fact,
    st.sampled_from(["enrol", "leave", ACCOUNT]),
    st.integers(0, 20),
    st.sampled_from(["M000007", "M000003", "M000012", None]),
)


@given(st.lists(FACTS, min_size=3, max_size=3))
@settings(max_examples=200, derandomize=True, database=None, deadline=None)
def test_join_with_account_facts_is_commutative_associative_and_idempotent(facts):
    a, b, c = facts
    assert join(a, b) == join(b, a)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert join(a, a) == a


@given(st.lists(FACTS, min_size=1, max_size=6), st.data())
@settings(max_examples=150, derandomize=True, database=None, deadline=None)
def test_any_explicit_fact_outranks_an_account_fact_and_the_smallest_number_stays(facts, data):
    # Given account facts (numbers issued to storefront members) and explicit facts, merged in any order
    shuffled = data.draw(st.permutations(facts))
    joined = None
    for one in shuffled:
        joined = join(joined, one)
    # Then the latest explicit fact decides when there is one, whatever the account facts' times
    explicit = [f for f in facts if f.kind != ACCOUNT]
    if explicit:
        assert joined.kind != ACCOUNT
    numbers = [f.number for f in facts if f.number]
    assert joined.number == (min(numbers, key=lambda n: (len(n), n)) if numbers else None)


def test_two_numbered_storefront_profiles_merging_keep_the_smaller_number():
    # Given two profiles of one person, each numbered when its account was first seen
    mine = Profile.load(profile("c_1"))
    mine.state.enrolment = Enrolment(ACCOUNT, "2026-02-03T00:00:00.000000Z", "storefront", "M000009")
    theirs = Profile.load(profile("c_2"))
    theirs.state.enrolment = Enrolment(ACCOUNT, "2026-02-05T00:00:00.000000Z", "storefront", "M000004")
    # When they merge, Then one member, with the smaller (older) number
    mine.merge_from(theirs)
    assert (mine.state.is_member, mine.state.enrolment.number) == (True, "M000004")


def test_the_joined_hook_runs_once_for_each_guest_who_becomes_a_member(store):
    # Given the hook an enrolment bonus would use
    joined: list[tuple[str, str, str | None]] = []
    hooked = EnrolmentService(
        store, store, now=lambda: T0, on_joined=lambda w, c, v: joined.append((w, c, v.number))
    )
    store.put(profile("c_g", member=False))
    store.put(profile("c_s"))
    store.put(profile("c_n"))
    # When a guest enrols, is enrolled again (refused), leaves and comes back
    hooked.enrol("ws_a", "c_g", API)
    with pytest.raises(MembershipRefused):
        hooked.enrol("ws_a", "c_g", API)
    hooked.leave("ws_a", "c_g", API)
    hooked.enrol("ws_a", "c_g", API)
    # And a storefront member is enrolled explicitly (a member already: no join)
    hooked.enrol("ws_a", "c_s", API)
    # And a profile first becomes a storefront member (numbered), then its change is replayed
    hooked.number_account(profile("c_n", member=None), profile("c_n"))
    hooked.number_account(profile("c_n", member=None), profile("c_n"))
    # Then the hook ran for each becoming a member: twice for the guest, once for the new account
    assert joined == [("ws_a", "c_g", "M000001"), ("ws_a", "c_g", "M000001"), ("ws_a", "c_n", "M000003")]
