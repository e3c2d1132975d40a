"""MembershipStore's contract: one scenario suite run against the in-memory fake and against
DynamoMembershipStore on moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.adapters.membership_store import membership_of
from chalicelib.domain.errors import Conflict
from chalicelib.domain.segment_values import MembershipRecord
from tests.unit.fakes import FakeMembershipStore

WS = "ws_contract"
DAY = date(2026, 11, 27)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeMembershipStore()
    return request.getfixturevalue("stage").container.membership.store


def save(store, cid, members, expected, entered=(), exited=(), next_check=None):
    store.save(WS, cid, set(members), next_check, list(entered), list(exited), expected)


def test_a_record_is_created_once_then_replaced_only_at_the_version_read(store):
    # Given no record for a customer
    assert store.get_record(WS, "c1") is None
    # When one is created
    save(store, "c1", {"rfm:loyal"}, None, entered=["rfm:loyal"], next_check="2026-12-01T00:00:00Z")
    first = store.get_record(WS, "c1")
    # Then it reads back with its segments, recheck time and a version
    assert first.segments == frozenset({"rfm:loyal"})
    assert first.next_check == "2026-12-01T00:00:00Z"
    assert first.version is not None
    # And creating it again, or replacing it at a version never read, is refused
    with pytest.raises(Conflict):
        save(store, "c1", {"rfm:new"}, None)
    with pytest.raises(Conflict):
        save(store, "c1", {"rfm:new"}, "not-its-version")
    # While replacing it at the version read works, and moves the version
    save(store, "c1", set(), first.version, exited=["rfm:loyal"])
    second = store.get_record(WS, "c1")
    assert second == MembershipRecord(frozenset(), None, second.version)
    assert second.version != first.version
    with pytest.raises(Conflict):
        save(store, "c1", {"rfm:loyal"}, first.version)


def test_the_member_index_counts_and_pages_the_members(store):
    # Given five customers who entered a segment, and one of them who left it
    for cid in ("c5", "c3", "c1", "c4", "c2", "c6"):
        save(store, cid, {"seg_a"}, None, entered=["seg_a"])
    save(store, "c6", set(), store.get_record(WS, "c6").version, exited=["seg_a"])
    # When the segment's size and members are read two at a time
    pages, cursor = [], None
    while True:
        page, cursor = store.members(WS, "seg_a", 2, cursor)
        pages.append(page)
        if cursor is None:
            break
    # Then the five are counted and listed once each, in id order
    assert store.size(WS, "seg_a") == 5
    assert pages == [["c1", "c2"], ["c3", "c4"], ["c5"]]
    assert store.size(WS, "seg_other") == 0


def test_due_lists_the_records_of_a_bucket_due_by_a_time(store):
    # Given records in one recheck shard of a day (ids ending 0003 and 0013: shard 3) due
    # at two times, one in another shard (0004), one due the next day, one never
    c1, c2, c3, c4, c5 = "c_0003", "c_0013", "c_0004", "c_0023", "c_0033"
    save(store, c1, {"x"}, None, next_check="2026-11-27T08:00:00.000000Z")
    save(store, c2, {"x"}, None, next_check="2026-11-27T20:00:00.000000Z")
    save(store, c3, {"x"}, None, next_check="2026-11-27T08:00:00.000000Z")
    save(store, c4, {"x"}, None, next_check="2026-11-28T08:00:00.000000Z")
    save(store, c5, {"x"}, None)
    # When the shard is read up to noon, Then only the first is due
    assert store.due(DAY, 3, "2026-11-27T12:00:00Z") == [(WS, c1)]
    assert store.due(DAY, 4, "2026-11-27T12:00:00Z") == [(WS, c3)]
    # And once its recheck time is cleared, it is no longer due
    save(store, c1, {"x"}, store.get_record(WS, c1).version)
    assert store.due(DAY, 3, "2026-11-27T12:00:00Z") == []


def test_the_recheck_watermark_only_moves_forward(store):
    # Given no watermark yet
    assert store.recheck_watermark() is None
    # When it is set, then set to an earlier time
    store.set_recheck_watermark("2026-11-27T12:00:00Z")
    store.set_recheck_watermark("2026-11-26T12:00:00Z")
    # Then it stays at the later one
    assert store.recheck_watermark() == "2026-11-27T12:00:00Z"


def test_the_stored_record_maps_to_the_domain_record():
    # Given a record item as the table holds it (no `segs` when in no segment)
    item = {"pk": f"W#{WS}#PM#c1", "sk": "M", "t": "membership", "ws": WS, "cid": "c1"}
    full = item | {"segs": {"a", "b"}, "nchk": "2026-12-01T00:00:00Z", "rk": "R#2026-12-01#01", "ver": "v1"}
    # When it is read, Then the domain record holds its segments, recheck time and version
    assert membership_of(full) == MembershipRecord(frozenset({"a", "b"}), "2026-12-01T00:00:00Z", "v1")
    assert membership_of(item) == MembershipRecord(frozenset(), None, None)
