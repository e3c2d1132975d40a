"""The customer edits service (domain/customer_edits.py) on its fake store: what an edit
writes, what its audit records, and that two consoles' interleaved edits lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.customer_edit_values import EditRefused
from chalicelib.domain.customer_edits import CustomerEditIn, CustomerEdits
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.enrolment import Actor
from chalicelib.domain.errors import NotFound
from tests.fakes_customer_edits import FakeCustomerEdits

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONSOLE_A, CONSOLE_B = Actor("api", "key:aaaaaaaaaaaa"), Actor("api", "key:bbbbbbbbbbbb")


def service() -> tuple[CustomerEdits, FakeCustomerEdits]:
    store = FakeCustomerEdits()
    store.put(CustomerProfile("ws", "c_1", rev=1))
    counter = iter(range(1, 10**6))
    return CustomerEdits(profiles=store, store=store, random_hex=lambda: f"{next(counter):06x}"), store


def edit(**fields: object) -> CustomerEditIn:
    return CustomerEditIn.model_validate(fields)


def test_tags_are_normalized_and_a_change_is_audited_once():
    edits, store = service()
    # When a console adds tags as typed
    done = edits.edit("ws", "c_1", edit(tags_add=["  VIP ", "Wholesale   Buyer"]), CONSOLE_A, T0)
    # Then they are stored trimmed, collapsed, lower case, and audited with old and new
    assert done.tags == ["vip", "wholesale buyer"]
    (entry,), _ = store.audit_page("ws", "c_1", 10, None)
    assert (entry.by, entry.at, [(c.field, c.old, c.new) for c in entry.changes]) == (
        "key:aaaaaaaaaaaa",
        "2026-03-01T12:00:00.000000Z",
        [("tags", [], ["vip", "wholesale buyer"])],
    )


def test_a_note_gets_a_time_ordered_id_and_a_missing_one_is_404_after_the_rest_is_audited():
    edits, store = service()
    # When a note is added
    done = edits.edit("ws", "c_1", edit(note=" called "), CONSOLE_A, T0)
    (change,) = done.edit.changes
    # Then its id carries its time and it is stored trimmed
    assert change.field == "note:n_20260301120000000000000001" and change.new == "called"
    # When an edit tags and names a note the customer does not have
    with pytest.raises(NotFound):
        edits.edit(
            "ws",
            "c_1",
            edit(tags_add=["vip"], notes=[{"id": "n_20990101000000000000abcdef", "text": "x"}]),
            CONSOLE_B,
            T0 + timedelta(seconds=1),
        )
    # Then the tag is written and audited all the same
    entries, _ = store.audit_page("ws", "c_1", 10, None)
    assert [c.field for c in entries[0].changes] == ["tags"]
    assert store.load("ws", "c_1").tags == {"vip"}


def test_a_merged_away_id_edits_the_survivor_and_an_unknown_id_is_404():
    edits, store = service()
    store.merge("ws", "c_0", "c_1")
    # When the merged-away id is tagged, Then the survivor holds the tag and the audit
    assert edits.edit("ws", "c_0", edit(tags_add=["vip"]), CONSOLE_A, T0).customer_id == "c_1"
    assert store.load("ws", "c_1").tags == {"vip"}
    assert len(edits.audit("ws", "c_0", 10, None).entries) == 1
    # When an unknown id is edited, Then 404
    with pytest.raises(NotFound):
        edits.edit("ws", "c_9", edit(tags_add=["vip"]), CONSOLE_A, T0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tags_add": ["a"], "tags_remove": ["A "]},
        {"tags_add": [" "]},
        {"tags_add": ["x" * 41]},
        {"consent": {"email": "pending"}},
        {"consent": {}},
        {"notes": [{"id": "n_1", "text": "x"}]},
        {"note": ""},
        {"tags": ["vip"]},
    ],
)
def test_invalid_edits_are_refused(body):
    # When the body asks nothing, contradicts itself or breaks a field's rule, Then it is refused
    with pytest.raises(ValidationError):
        CustomerEditIn.model_validate(body)


class Stale:
    """A ProfileReader that answers the profile as read before the edits began."""

    def __init__(self, profile: CustomerProfile) -> None:
        self.profile = profile

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile:
        return self.profile


TAGS = st.sampled_from(["vip", "gold", "wholesale", "b2b"])
STEP = st.tuples(
    st.sampled_from([CONSOLE_A, CONSOLE_B]), st.booleans(), st.sets(TAGS, min_size=1, max_size=2)
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_two_consoles_interleaved_lose_no_edit_and_the_audit_chains(steps):
    # Given one customer, and two consoles that both read the profile before any edit, then
    # add and remove tags in any interleaving (each edit's read is stale: no read-modify-write)
    _, store = service()
    seen = store.load("ws", "c_1")
    edits = CustomerEdits(
        profiles=Stale(seen), store=store, random_hex=iter(f"{n:06x}" for n in range(999)).__next__
    )
    expected: set[str] = set()
    for n, (actor, add, tags) in enumerate(steps):
        body = edit(tags_add=sorted(tags)) if add else edit(tags_remove=sorted(tags))
        # When each edit is applied
        edits.edit("ws", "c_1", body, actor, T0 + timedelta(seconds=n))
        expected = expected | tags if add else expected - tags
    # Then the tags are those of the edits applied in order: none lost
    assert store.load("ws", "c_1").tags == expected
    # And the audit, oldest first, chains: each entry's old is the one before's new
    entries, _ = store.audit_page("ws", "c_1", 100, None)
    changes = [c for e in reversed(entries) for c in e.changes]
    for before, after in pairwise(changes):
        assert after.old == before.new
    assert (changes[-1].new if changes else []) == sorted(expected)


def test_a_merge_keeps_both_profiles_tags():
    from chalicelib.domain.profile_model import Profile

    # Given two profiles of one person, each tagged
    mine = Profile.load(CustomerProfile("ws", "c_1", tags={"vip"}))
    theirs = Profile.load(CustomerProfile("ws", "c_2", tags={"wholesale", "vip"}))
    # When they merge, Then the survivor holds both profiles' tags
    mine.merge_from(theirs)
    assert mine.state.tags == {"vip", "wholesale"}


class Lists:
    """ConsentLists: the customers who opted out of email and the email addresses suppressed."""

    def __init__(self, opted: set[str], suppressed: set[str]) -> None:
        self.opted, self.suppressed = opted, suppressed

    def listed(self, workspace_id, channel, customer_ids, addresses):
        if channel != "email":
            return set(), set()
        return self.opted & set(customer_ids), self.suppressed & set(addresses)


@pytest.mark.parametrize(
    ("opted", "suppressed", "reason"),
    [({"c_0"}, set(), "opted_out"), (set(), {"jane@example.com"}, "suppressed")],
)
def test_subscribing_a_channel_patron_blocks_is_refused_and_writes_nothing(opted, suppressed, reason):
    # Given a customer (merged with c_0) who opted out through Patron, or whose address bounced
    store = FakeCustomerEdits()
    store.put(CustomerProfile("ws", "c_1", rev=1, email="jane@example.com", merged_ids=["c_0"]))
    edits = CustomerEdits(profiles=store, store=store, lists=Lists(opted, suppressed))
    # When an operator subscribes her email and tags her
    with pytest.raises(EditRefused) as refused:
        edits.edit("ws", "c_1", edit(tags_add=["vip"], consent={"email": "subscribed"}), CONSOLE_A, T0)
    # Then 409 with the reason, and nothing is written
    assert refused.value.details == {"reason": reason}
    assert (store.load("ws", "c_1").tags, store.load("ws", "c_1").email_consent) == (set(), None)
    # When she is unsubscribed instead, or her SMS subscribed, Then it is taken
    edits.edit("ws", "c_1", edit(consent={"email": "unsubscribed", "sms": "subscribed"}), CONSOLE_A, T0)
    assert store.load("ws", "c_1").email_consent.state == "unsubscribed"
