"""ProfileStore's contract: one scenario suite run against the in-memory fake and against
DynamoProfileStore on moto, so the fake cannot drift from the adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.adapters.profile_items import profile_of, profile_pk
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.profile_links import IdentityPointer
from tests.unit.fakes import FakeProfileStore

WS, SALT = "ws_contract", "salt_contract"
ANA, BEA = "email:ana@example.com", "email:bea@example.com"


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeProfileStore()
    return request.getfixturevalue("stage").container.profile_store


@pytest.fixture
def mark_erased(request, store):
    """The erasure marks' writer: the privacy store's, next to the adapter; the fake's own."""
    if isinstance(store, FakeProfileStore):
        return store.mark_erased
    return request.getfixturevalue("stage").container.privacy_store.mark_erased


def profile(key: str, rev: int = 1, **more) -> CustomerProfile:
    """A profile as stored (attributes as in docs/data-model.md), read into its domain type."""
    cid = customer_id_for(SALT, key)
    item = {"pk": profile_pk(WS, cid), "sk": "P", "t": "profile", "ws": WS, "cid": cid}
    return profile_of(
        item | {"ca": "2026-11-01T00:00:00Z", "o": {}, "ems": {key.split(":", 1)[1]}, "rev": rev} | more
    )


def cids(profiles: list[CustomerProfile]) -> list[str]:
    return sorted(p.customer_id for p in profiles)


def test_a_profile_is_created_once_then_written_only_at_the_rev_read(store):
    # Given a new profile saved
    store.save(profile(ANA), None, [], [])
    # When its identity is looked up, Then it is found, as saved
    (found,) = store.find_profiles(WS, SALT, [ANA])
    assert found.customer_id == customer_id_for(SALT, ANA) and found.rev == 1
    # And creating it again, or writing it at a rev other than the stored one, is refused
    with pytest.raises(Conflict):
        store.save(profile(ANA), None, [], [])
    with pytest.raises(Conflict):
        store.save(profile(ANA, rev=3), 2, [], [])
    # While writing it at the rev read works
    store.save(profile(ANA, rev=2, fn="Ana"), 1, [], [])
    (found,) = store.find_profiles(WS, SALT, [ANA])
    assert (found.rev, found.first_name) == (2, "Ana")
    # And an unknown identity finds nothing
    assert store.find_profiles(WS, SALT, [BEA]) == []


def test_a_pointer_created_with_the_profile_finds_it(store):
    # Given Ana's profile saved with a pointer for her second address
    ana = customer_id_for(SALT, ANA)
    pointer_id = customer_id_for(SALT, BEA)
    pointer = IdentityPointer(pointer_id, ana, "email")
    store.save(profile(ANA), None, [pointer], [])
    # When the second address is looked up, Then it finds Ana's profile
    assert cids(store.find_profiles(WS, SALT, [BEA])) == [ana]
    # And the pointer cannot be created twice
    with pytest.raises(Conflict):
        store.save(profile(ANA, rev=2), 1, [pointer], [])


def test_a_retired_profile_becomes_a_pointer_atomically(store):
    # Given two profiles of the same person
    store.save(profile(ANA), None, [], [])
    store.save(profile(BEA), None, [], [])
    ana, bea = customer_id_for(SALT, ANA), customer_id_for(SALT, BEA)
    # When a merge names the other profile at a rev it no longer has
    with pytest.raises(Conflict):
        store.save(profile(ANA, rev=2, mrg=[bea]), 1, [], [(profile(BEA), 7)])
    # Then nothing was written: both are still live profiles
    assert cids(store.find_profiles(WS, SALT, [ANA, BEA])) == sorted([ana, bea])
    # When it names it at its rev, Then the merged-away identity finds the survivor only
    store.save(profile(ANA, rev=2, mrg=[bea]), 1, [], [(profile(BEA), 1)])
    assert cids(store.find_profiles(WS, SALT, [BEA])) == [ana]
    assert cids(store.find_profiles(WS, SALT, [ANA, BEA])) == [ana]


def test_a_profile_with_a_phone_key_is_found_by_the_phone(store):
    # Given a profile whose first phone is on the sparse phone index
    store.save(profile(ANA, phs={"+14155550101"}, phone_k=f"{WS}#+14155550101"), None, [], [])
    # When the phone is looked up, Then it finds the profile, without a pointer item
    assert cids(store.find_profiles(WS, SALT, ["phone:+14155550101"])) == [customer_id_for(SALT, ANA)]
    assert store.find_profiles(WS, SALT, ["phone:+14155550199"]) == []


def test_moved_entries_keep_their_newest_version(store):
    # Given a profile that moved two order entries out, one later moved again at an older version
    ana = customer_id_for(SALT, ANA)
    newer = OrderEntry(3, placed_at=1700000000, amount=Decimal("12.50"), products=["p1"])
    older = OrderEntry(2, placed_at=1700000000, amount=Decimal("10.00"), counted=False, channel="pos")
    store.save(profile(ANA), None, [], [], moved=[("src_1#1001", newer), ("src_1#1002", older)])
    store.save(profile(ANA, rev=2), 1, [], [], moved=[("src_1#1001", older)])
    # When the moved entries are read, Then each order has its newest version
    assert store.moved_entries(WS, [ana]) == {"src_1#1001": newer, "src_1#1002": older}
    # And only the keys asked for when some are named
    assert store.moved_entries(WS, [ana], ["src_1#1002"]) == {"src_1#1002": older}
    assert store.moved_entries(WS, [customer_id_for(SALT, BEA)]) == {}


def test_the_erasure_time_is_the_latest_first_mark_of_the_ids(store, mark_erased):
    ana, bea = customer_id_for(SALT, ANA), customer_id_for(SALT, BEA)
    # Given a customer never erased, When their marks are read, Then there is none
    assert store.erased_at(WS, [ana]) is None
    # Given two ids erased at different times, Ana's erased a second time later on
    mark_erased(WS, [ana], datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    mark_erased(WS, [bea], datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    mark_erased(WS, [ana], datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
    # When the marks are read, Then each id keeps its first mark, and the latest of them counts
    assert store.erased_at(WS, [ana]) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert store.erased_at(WS, [ana, bea]) == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def test_profiles_are_read_as_domain_types_and_a_merged_away_id_finds_its_survivor(store):
    # Given Ana's and Bea's profiles, Bea's then merged into Ana's
    ana, bea = customer_id_for(SALT, ANA), customer_id_for(SALT, BEA)
    store.save(profile(ANA, fn="Ana", m=True), None, [], [])
    store.save(profile(BEA), None, [], [])
    (old_bea,) = store.find_profiles(WS, SALT, [BEA])
    store.save(profile(ANA, rev=2, fn="Ana", m=True, mrg=[bea]), 1, [], [(old_bea, 1)])
    # When each id is read as a CustomerProfile
    one = store.load(WS, ana)
    through_pointer = store.load(WS, bea)
    # Then both give Ana's profile, typed; a batch read leaves the merged-away id out
    assert one is not None and through_pointer is not None
    assert (one.customer_id, one.first_name, one.is_member, one.merged_ids) == (ana, "Ana", True, [bea])
    assert through_pointer.customer_id == ana and one.emails == {"ana@example.com"}
    assert set(store.load_many(WS, [ana, bea, "c_nobody"])) == {ana}
    assert [p.customer_id for p in store.find_profiles(WS, SALT, [BEA])] == [ana]
    assert store.load(WS, "c_nobody") is None


def test_moved_entries_are_read_as_order_entries_at_their_newest_version(store):
    # Given the moved entries of the scenario above (one moved again at an older version)
    test_moved_entries_keep_their_newest_version(store)
    # When they are read as orders
    orders = store.moved_entries(WS, [customer_id_for(SALT, ANA)])
    # Then each is an OrderEntry at its newest version
    newest = {"src_1#1001": (3, Decimal("12.50")), "src_1#1002": (2, Decimal("10.00"))}
    assert {k: (e.version, e.amount) for k, e in orders.items()} == newest
    assert store.moved_entries(WS, [customer_id_for(SALT, BEA)]) == {}
