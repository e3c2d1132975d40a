"""CustomerEditStore contract (edits.ports.CustomerEditStore): DynamoCustomerEdits on
moto and the fake (tests/fakes_customer_edits.py) keep tags, consent, notes and the audit alike."""

from __future__ import annotations

import pytest

from chalicelib.adapters.customer_edits import DynamoCustomerEdits, audit_item, audit_of, note_item, note_of
from chalicelib.adapters.profile_items import profile_item, profile_of, profile_pk
from chalicelib.adapters.profile_store import DynamoProfileStore
from chalicelib.domain.customer_edit_values import Change, CustomerAudit, NewerConsent, Note, TooManyTags
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_customer_edits import FakeCustomerEdits

__all__ = ["moto_stage"]
AT = "2026-03-01T12:00:00.000000Z"
LATER = "2026-03-02T12:00:00.000000Z"


class DynamoSide(DynamoCustomerEdits):
    """The adapter, with the fake's Given-steps and loader (the profile store's)."""

    def __init__(self, stage: MotoStage) -> None:
        super().__init__(stage.crm)
        self.profile_store = DynamoProfileStore(stage.crm)

    def put(self, profile: CustomerProfile) -> None:
        self.t.put(profile_item(profile), "attribute_not_exists(pk)")

    def merge(self, workspace_id: str, merged_id: str, into: str) -> None:
        pk = profile_pk(workspace_id, merged_id)
        self.t.put({"pk": pk, "sk": "P", "t": "pointer", "ws": workspace_id, "cid": merged_id, "into": into})

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        return self.profile_store.load(workspace_id, customer_id)


store = port_fixture(FakeCustomerEdits, DynamoSide)


def test_tags_added_and_removed_return_old_and_new_and_move_the_revision(store):
    # Given a profile at revision 3 with no tags
    store.put(CustomerProfile("ws_a", "c_1", rev=3))
    # When tags are added, then one added and one removed
    first = store.add_tags("ws_a", "c_1", {"vip", "wholesale"}, 100)
    second = store.add_tags("ws_a", "c_1", {"gold"}, 100)
    third = store.remove_tags("ws_a", "c_1", {"wholesale", "absent"})
    # Then each answers the set before and after, and the profile holds the last set
    assert first == (set(), {"vip", "wholesale"})
    assert second == ({"vip", "wholesale"}, {"vip", "wholesale", "gold"})
    assert third == ({"vip", "wholesale", "gold"}, {"vip", "gold"})
    found = store.load("ws_a", "c_1")
    assert (found.tags, found.rev) == ({"vip", "gold"}, 6)


def test_the_last_tag_removed_leaves_no_tags(store):
    # Given a profile with one tag
    store.put(CustomerProfile("ws_a", "c_1", rev=1, tags={"vip"}))
    # When it is removed
    done = store.remove_tags("ws_a", "c_1", {"vip"})
    # Then the profile has none
    assert done == ({"vip"}, set())
    assert store.load("ws_a", "c_1").tags == set()


def test_tags_already_there_or_absent_answer_the_set_unchanged(store):
    # Given a profile tagged vip
    store.put(CustomerProfile("ws_a", "c_1", rev=1, tags={"vip"}))
    # When vip is added again and an absent tag removed
    added = store.add_tags("ws_a", "c_1", {"vip"}, 100)
    removed = store.remove_tags("ws_a", "c_1", {"absent"})
    # Then both answer the set as it was, before and after
    assert added == removed == ({"vip"}, {"vip"})
    assert store.load("ws_a", "c_1").tags == {"vip"}


def test_tags_beyond_the_most_are_refused_and_nothing_is_added(store):
    # Given a profile holding 3 tags, the most being 4
    store.put(CustomerProfile("ws_a", "c_1", rev=1, tags={"a", "b", "c"}))
    # When 2 more are added
    with pytest.raises(TooManyTags):
        store.add_tags("ws_a", "c_1", {"d", "e"}, 4)
    # Then it keeps its 3
    assert store.load("ws_a", "c_1").tags == {"a", "b", "c"}


def test_no_live_profile_answers_none(store):
    # Given an id merged away, and an id never seen
    store.put(CustomerProfile("ws_a", "c_2", rev=1))
    store.merge("ws_a", "c_1", "c_2")
    # When either is edited, Then the store answers None and writes nothing
    for cid in ("c_1", "c_9"):
        assert store.add_tags("ws_a", cid, {"vip"}, 100) is None
        assert store.remove_tags("ws_a", cid, {"vip"}) is None
        assert store.set_consent("ws_a", cid, {"email": ChannelConsent("subscribed", AT, "operator")}) is None
    assert store.load("ws_a", "c_2").tags == set()


def test_consent_is_set_when_newer_and_answers_the_old(store):
    # Given a profile whose email consent the store reported at AT
    profile = CustomerProfile("ws_a", "c_1", rev=1)
    profile.email_consent = ChannelConsent("subscribed", AT)
    store.put(profile)
    # When an operator unsubscribes email and subscribes SMS later
    old = store.set_consent(
        "ws_a",
        "c_1",
        {
            "email": ChannelConsent("unsubscribed", LATER, "operator"),
            "sms": ChannelConsent("subscribed", LATER, "operator"),
        },
    )
    # Then the old consents come back and the profile holds the new ones
    assert old == {"email": ChannelConsent("subscribed", AT), "sms": None}
    found = store.load("ws_a", "c_1")
    assert found.email_consent == ChannelConsent("unsubscribed", LATER, "operator")
    assert found.sms_consent == ChannelConsent("subscribed", LATER, "operator")
    assert found.rev == 2


def test_an_older_consent_is_refused(store):
    # Given a profile whose SMS consent was reported at LATER
    profile = CustomerProfile("ws_a", "c_1", rev=1)
    profile.sms_consent = ChannelConsent("subscribed", LATER)
    store.put(profile)
    # When an edit dated AT (before it) is set
    with pytest.raises(NewerConsent):
        store.set_consent("ws_a", "c_1", {"sms": ChannelConsent("unsubscribed", AT, "operator")})
    # Then the reported consent stays
    assert store.load("ws_a", "c_1").sms_consent == ChannelConsent("subscribed", LATER)


def test_notes_are_added_edited_deleted_and_listed_across_ids(store):
    # Given a profile and notes under its id and a merged id
    store.put(CustomerProfile("ws_a", "c_1", rev=1))
    first = Note("n_20260301120000000000abcdef", "called about a refund", AT, "key:0123456789ab")
    second = Note("n_20260302120000000000abcdef", "prefers SMS", LATER, "cli")
    store.add_note("ws_a", "c_1", second)
    store.add_note("ws_a", "c_0", first)
    # When one is edited and an unknown one edited and deleted
    old = store.edit_note("ws_a", "c_1", second.id, "prefers email", LATER, "cli")
    missing = store.edit_note("ws_a", "c_1", "n_20990101000000000000000000", "x", LATER, "cli")
    gone = store.delete_note("ws_a", "c_1", "n_20990101000000000000000000")
    # Then the old text comes back, the unknown ones answer None, and both ids' notes list oldest first
    assert (old, missing, gone) == ("prefers SMS", None, None)
    listed = store.notes("ws_a", ["c_1", "c_0"])
    assert [n.text for n in listed] == ["called about a refund", "prefers email"]
    assert (listed[1].updated_at, listed[1].updated_by) == (LATER, "cli")
    # And a deleted note answers its text and is no longer listed
    assert store.delete_note("ws_a", "c_0", first.id) == "called about a refund"
    assert [n.text for n in store.notes("ws_a", ["c_1", "c_0"])] == ["prefers email"]


def test_the_audit_pages_newest_first(store):
    # Given three audited edits
    for n, at in enumerate((AT, LATER, "2026-03-03T12:00:00.000000Z")):
        store.record(CustomerAudit("ws_a", "c_1", at, f"00000{n}", "cli", (Change("tags", [], [f"t{n}"]),)))
    # When the audit is read two at a time
    page, cursor = store.audit_page("ws_a", "c_1", 2, None)
    rest, end = store.audit_page("ws_a", "c_1", 2, cursor)
    # Then the newest come first and the cursor reaches the oldest
    assert [e.ref for e in page] == ["000002", "000001"]
    assert [e.ref for e in rest] == ["000000"]
    assert rest[0].changes == (Change("tags", [], ["t0"]),)
    assert end is None


def test_items_round_trip_through_their_mapping():
    # Given a note, an audit entry and a tagged profile
    note = Note("n_20260301120000000000abcdef", "text", AT, "cli", LATER, "key:0123456789ab")
    audit = CustomerAudit(
        "ws_a",
        "c_1",
        AT,
        "abcdef",
        "cli",
        (Change("email_consent", None, "subscribed"), Change("note:x", "a", None)),
    )
    profile = CustomerProfile("ws_a", "c_1", rev=1, tags={"vip", "gold"})
    # When each is mapped to its item and back, Then it is unchanged
    assert note_of(note_item("ws_a", "c_1", note)) == note
    assert audit_of(audit_item(audit)) == audit
    assert profile_of(profile_item(profile)).tags == {"vip", "gold"}
    assert "tg" not in profile_item(CustomerProfile("ws_a", "c_1", rev=1))
