"""The profile writer speaks domain types: ProfileService and Profile change a
CustomerProfile and hand the store typed values (profile, identity pointers, merge records,
retired profiles, moved order entries); the stored layout is the adapters' business."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.order_items import ingest_change
from chalicelib.adapters.profile_items import profile_item
from chalicelib.domain import order_entries, profiles, source_erasure
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.models import Person, Platform
from chalicelib.domain.profile_links import IdentityPointer, MergeRecord
from chalicelib.domain.profile_model import RECENT_ORDERS, Profile
from chalicelib.domain.profiles import ProfileService
from tests.unit.fakes import FakeProfileStore, FakeWorkspaces, order_item
from tests.unit.test_profiles import JANE, JANE_PHONE, generic_order

# item.get("e"), item["cid"], a "W#..." key (a list literal such as ["order"] is no read)
SHORT_ATTRIBUTE = re.compile(r'(\.get\("[a-z_]{1,7}"|(?<=[\w)\]])\["[a-z_]{1,7}"\]|"W#)')


class RecordingStore(FakeProfileStore):
    """The fake store, remembering what each save was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[tuple[Any, ...]] = []

    def save(self, state, expected_rev, links, retiring, moved=()) -> None:  # type: ignore[no-untyped-def]
        self.handed.append((state, expected_rev, list(links), list(retiring), list(moved)))
        super().save(state, expected_rev, links, retiring, moved)


def _order(n: int, **who: str) -> dict[str, Any]:
    return order_item(
        Platform.GENERIC, "order", generic_order(f"G-{n}", f"2026-10-{n:02d}T10:00:00+00:00", **who)
    )


def test_every_profile_write_hands_the_store_domain_types_not_items():
    # Given a phone-only and an email-only customer, the same person
    store = RecordingStore()
    service = ProfileService(store, FakeWorkspaces())
    service.apply_change(ingest_change(None, _order(1, phone=JANE_PHONE)))
    service.apply_change(ingest_change(None, _order(2, email=JANE)))
    # When an order with both merges them, one brings a second address, and more orders
    # than the profile keeps arrive
    service.apply_change(ingest_change(None, _order(3, email=JANE, phone=JANE_PHONE)))
    service.apply_change(ingest_change(None, _order(4, email="jane.second@example.com", phone=JANE_PHONE)))
    for n in range(5, 5 + RECENT_ORDERS + 2):
        service.apply_change(ingest_change(None, _order(n, email=JANE)))
    # Then every save was handed a CustomerProfile, typed links, retired profiles and entries
    assert len(store.handed) == 4 + RECENT_ORDERS + 2
    links = [link for h in store.handed for link in h[2]]
    retired = [r for h in store.handed for r in h[3]]
    moved = [m for h in store.handed for m in h[4]]
    assert all(isinstance(h[0], CustomerProfile) for h in store.handed)
    assert {type(link) for link in links} == {IdentityPointer, MergeRecord}
    assert retired and all(isinstance(p, CustomerProfile) and isinstance(rev, int) for p, rev in retired)
    assert moved and all(isinstance(k, str) and isinstance(e, OrderEntry) for k, e in moved)
    # And what is stored is the last profile handed, laid out by the adapters' mapping
    (stored,) = store.profiles()
    assert stored == profile_item(store.handed[-1][0])
    assert len(stored["o"]) == RECENT_ORDERS and stored["so"]["c"] == 4 + 2  # 14 orders, 8 kept


def test_absent_attributes_stay_absent_and_the_index_keys_are_set_once():
    # Given a new profile
    profile = Profile.new("ws_test", "c_1", datetime(2026, 11, 1, tzinfo=UTC))
    at = datetime(2026, 11, 2, tzinfo=UTC)
    # When a record without an account and with a phone is absorbed, and the figures derived
    profile.absorb(Person(email=JANE, phone=JANE_PHONE), at)
    profile.recompute(FakeWorkspaces().settings("ws_test"))  # type: ignore[arg-type]
    # Then membership is recorded as not a member, and the first phone is the indexed one
    state = profile.state
    assert state.member is False and state.indexed_phone == JANE_PHONE
    assert state.phone_as_written is None and state.email_consent is None
    # When a later record gives another phone and an account
    profile.absorb(Person(phone="+12125550199", is_member=True), datetime(2026, 11, 3, tzinfo=UTC))
    profile.recompute(FakeWorkspaces().settings("ws_test"))  # type: ignore[arg-type]
    # Then the latest phone is current, but the indexed phone stays the first one
    assert (state.member, state.phone, state.indexed_phone) == (True, "+12125550199", JANE_PHONE)
    assert "rev" not in profile_item(state) and "m" in profile_item(state)


def test_the_writer_reads_no_stored_attribute_and_builds_no_key():
    # Given the writer's code: the profile model, its service, the entries' sums, and
    # source erasure's rewrite of a profile
    sources = {
        "Profile": inspect.getsource(Profile),
        "profiles": inspect.getsource(profiles),
        "summarize/of_profile/all_entries/aggregates": "".join(
            inspect.getsource(f)
            for f in (
                order_entries.summarize,
                order_entries.of_profile,
                order_entries.all_entries,
                order_entries.aggregates,
            )
        ),
        "rewritten/_save/profile_sources": "".join(
            inspect.getsource(f)
            for f in (
                source_erasure.SourceErasure.rewritten,
                source_erasure.SourceErasure._save,
                source_erasure.profile_sources,
            )
        ),
    }
    # When it is searched for short attributes and key layouts, Then there are none
    found = {name: SHORT_ATTRIBUTE.findall(text) for name, text in sources.items()}
    assert found == {name: [] for name in sources}
