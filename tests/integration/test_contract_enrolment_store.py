"""EnrolmentStore contract (ports.EnrolmentStore): DynamoEnrolmentStore on moto and the fake
(tests/fakes_enrolment.py) issue member numbers and record enrolments alike."""

from __future__ import annotations

import pytest

from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore, audit_item, audit_of
from chalicelib.adapters.profile_items import profile_item
from chalicelib.adapters.profile_store import DynamoProfileStore
from chalicelib.domain.customer_profile import CustomerProfile, Enrolment, EnrolmentAudit
from chalicelib.domain.errors import Conflict
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_enrolment import FakeEnrolmentStore

__all__ = ["moto_stage"]


class DynamoSide(DynamoEnrolmentStore):
    """The adapter, with the fake's Given-step and loader (the profile store's)."""

    def __init__(self, stage: MotoStage) -> None:
        super().__init__(stage.crm)
        self.profiles = DynamoProfileStore(stage.crm)

    def put(self, profile: CustomerProfile) -> None:
        self.t.put(profile_item(profile), "attribute_not_exists(pk)", None)

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        return self.profiles.load(workspace_id, customer_id)


store = port_fixture(FakeEnrolmentStore, DynamoSide)
AT = "2026-03-01T12:00:00.000000Z"


def audit(kind: str = "enrol", at: str = AT, reason: str | None = "asked") -> EnrolmentAudit:
    return EnrolmentAudit("ws_a", "c_1", kind, at, "api", "key:0123456789ab", "M000001", reason)


def enrolled(rev: int) -> CustomerProfile:
    profile = CustomerProfile("ws_a", "c_1", rev=rev, member=False)
    profile.enrolment = Enrolment("enrol", AT, "api", "M000001")
    return profile


def test_numbers_count_up_per_workspace(store):
    # When numbers are taken in two workspaces
    taken = [store.next_number("ws_a"), store.next_number("ws_a"), store.next_number("ws_b")]
    # Then each counts from 1 on its own
    assert taken == [1, 2, 1]


def test_an_enrolment_is_written_with_its_audit_when_the_revision_holds(store):
    # Given a stored profile at revision 3
    store.put(CustomerProfile("ws_a", "c_1", rev=3))
    # When its enrolment is recorded against revision 3
    store.record(enrolled(4), 3, audit())
    # Then the profile reads back enrolled, and the audit lists the change
    found = store.load("ws_a", "c_1")
    assert (found.rev, found.enrolment, found.is_member) == (
        4,
        Enrolment("enrol", AT, "api", "M000001"),
        True,
    )
    assert store.audit("ws_a", "c_1") == [audit()]


def test_a_stale_revision_writes_neither_the_profile_nor_the_audit(store):
    # Given a profile another writer moved to revision 5
    store.put(CustomerProfile("ws_a", "c_1", rev=5))
    # When an enrolment read at revision 4 is recorded
    with pytest.raises(Conflict):
        store.record(enrolled(5), 4, audit())
    # Then nothing changed
    assert store.load("ws_a", "c_1").enrolment is None
    assert store.audit("ws_a", "c_1") == []


def test_the_audit_lists_changes_oldest_first(store):
    # Given a profile enrolled, then left
    store.put(CustomerProfile("ws_a", "c_1", rev=1))
    store.record(enrolled(2), 1, audit())
    left = enrolled(3)
    left.enrolment = Enrolment("leave", "2026-03-02T08:00:00.000000Z", "cli", "M000001")
    store.record(left, 2, audit("leave", "2026-03-02T08:00:00.000000Z", None))
    # When the audit is read, Then both changes, in order, the second without a reason
    assert [(a.kind, a.reason) for a in store.audit("ws_a", "c_1")] == [("enrol", "asked"), ("leave", None)]


def test_the_audit_item_round_trips():
    # Given an audit entry, When mapped to its item and back, Then it is unchanged
    for entry in (audit(), audit("leave", reason=None)):
        item = audit_item(entry)
        assert audit_of(item) == entry
        assert item["sk"] == f"MS#{entry.at}#{entry.kind}" and ("why" in item) == (entry.reason is not None)


def test_concurrent_enrolments_issue_unique_numbers_and_one_wins_per_customer(moto_stage):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.domain.enrolment import Actor, EnrolmentService, MembershipRefused

    # Given 6 guests on the stage's table
    side = DynamoSide(moto_stage)
    for n in range(6):
        side.put(CustomerProfile("ws_a", f"c_{n}", rev=1))
    service = EnrolmentService(side.profiles, side)

    def enrol(cid: str) -> str:
        try:
            return service.enrol("ws_a", cid, Actor("api", "key:test")).number or ""
        except MembershipRefused as refused:
            return refused.reason

    # When 4 threads enrol each guest at once (24 calls)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(enrol, [f"c_{n}" for n in range(6) for _ in range(4)]))
    # Then each guest is enrolled once (the others refused), each with a number of its own
    numbers = [o for o in outcomes if o.startswith("M")]
    assert len(numbers) == 6 and len(set(numbers)) == 6
    assert outcomes.count("already_member") == 18
    for n in range(6):
        assert len(side.audit("ws_a", f"c_{n}")) == 1


def test_the_audit_pages_newest_first(store):
    # Given a profile enrolled, left and enrolled again (three audit entries)
    store.put(CustomerProfile("ws_a", "c_1", rev=1))
    times = ["2026-03-01T12:00:00.000000Z", "2026-03-02T08:00:00.000000Z", "2026-03-03T09:30:00.000000Z"]
    for rev, (kind, at) in enumerate(zip(["enrol", "leave", "enrol"], times, strict=True), start=2):
        changed = enrolled(rev)
        changed.enrolment = Enrolment(kind, at, "api", "M000001")
        store.record(changed, rev - 1, audit(kind, at))
    # When the audit is read two entries at a time
    first, cursor = store.audit_page("ws_a", "c_1", 2, None)
    assert cursor is not None
    second, last = store.audit_page("ws_a", "c_1", 2, cursor)
    # Then newest first, each entry once, and the second page is the last
    assert [a.at for a in first + second] == list(reversed(times))
    assert last is None
    # And another customer's audit is empty
    assert store.audit_page("ws_a", "c_2", 2, None) == ([], None)
