"""The profile item mapping (adapters/profile_items.py): a stored profile read into a
CustomerProfile and written back is the item it was, attribute for attribute, so a write
that changes nothing in the domain changes nothing stored (and costs no extra bytes)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings

from chalicelib.adapters.profile_items import (
    order_entry,
    order_entry_item,
    profile_item,
    profile_of,
    summary_item,
    summary_of,
)
from chalicelib.domain.order_entries import summarize
from tests.ingest_schedule import RECEIVED, Schedule, draw_schedule
from tests.unit.test_ingest_properties import Stage, in_order

ROUND_TRIPS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(RECEIVED, tick=False):
        yield


def profiles_of(stage: Stage) -> list[dict[str, Any]]:
    return [i for i in stage.profiles.items.values() if i.get("t") == "profile"]


def test_every_profile_the_ingest_makes_round_trips():
    # Given the profiles the store's history makes (merged, refunded, cancelled, foreign currency)
    items = profiles_of(in_order())
    assert len(items) == 3
    for item in items:
        # When each is read into the domain type and written back
        profile = profile_of(item)
        # Then the item is unchanged, and the domain type names what it holds
        assert profile_item(profile) == item
        assert profile.customer_id == item["cid"] and profile.emails == set(item.get("ems", ()))
        assert {k: order_entry_item(e) for k, e in profile.orders.items()} == item["o"]


@ROUND_TRIPS
@given(schedule=draw_schedule())
def test_profiles_made_in_any_delivery_order_round_trip(schedule: Schedule):
    stage = Stage()
    stage.run(schedule)
    for item in profiles_of(stage):
        assert profile_item(profile_of(item)) == item


def test_a_profile_with_moved_entries_consent_withdrawn_and_unknown_attributes_round_trips():
    # Given a profile as an older release and Patron's own withdrawals left it
    entries = {
        "src_0.1": {
            "v": 3,
            "t": 1_700_000_000,
            "a": Decimal("12.50"),
            "r": Decimal("2.50"),
            "p": ["a"],
            "n": "Hook",
        },
        "src_0.2": {"v": 1, "t": 0, "x": True, "cur": "EUR", "oa": Decimal("9.00"), "ch": "pos"},
        "src_1.3": {"v": 2, "cur": "JPY", "oa": Decimal("1200"), "or": Decimal("200"), "k": ["c"]},
    }
    moved = summarize({k: order_entry(e) for k, e in entries.items()})
    item: dict[str, Any] = {
        "pk": "W#ws_1#P#c_1",
        "sk": "P",
        "t": "profile",
        "ws": "ws_1",
        "cid": "c_1",
        "rev": 7,
        "ca": "2026-01-01T00:00:00.000000Z",
        "ems": {"a@example.com"},
        "phs": {"+33612345678"},
        "e": "a@example.com",
        "ph": "+33612345678",
        "phx": "0612",
        "m": False,
        "ce": {"s": "unsubscribed", "at": "2026-02-01T00:00:00.000000Z", "src": "stop"},
        "cs": {"s": "subscribed", "at": "2026-01-02T00:00:00.000000Z"},
        "mrg": ["c_0"],
        "lpt": {"t": 1_700_000_000, "n": ["Hook"]},
        "o": {"src_0.9": {"v": 1, "t": 1_800_000_000, "a": Decimal("5.00"), "n": "Line"}},
        "so": summary_item(moved),
        "n": 2,
        "cur": "USD",
        "spent": Decimal("17.50"),
        "unconv": {"JPY": Decimal("1200")},
        "srcs": {"src_0", "src_1"},
        "srcx": {"src_9"},
        "phone_k": "ws_1#+33612345678",
        "legacy": "kept as it was",
        # the tags the customer list's tag filter finds (docs/data-model.md#the-customer-list)
        "tg": {"vip", "Wholesale"},
    }
    # When it is read and written back
    profile = profile_of(item)
    # Then nothing changes, and each part has its name
    assert profile_item(profile) == item
    assert profile.moved == moved and profile.moved.products == {"a"}
    assert profile.moved.day0 == 1_700_000_000 // 86400
    assert profile.email_consent is not None and profile.email_consent.withdrawn_by == "stop"
    assert profile.indexed_phone == "+33612345678" and profile.indexed_external_id is None
    assert profile.tags == {"vip", "Wholesale"}
    assert profile.unknown == {"legacy": "kept as it was"} and profile.member is False
    assert [order_entry(e) for e in entries.values()][1].counted is False
    # And the titles: each entry's, the moved ones' latest, and an older release's lpt
    assert item["so"]["lt"] == {"t": 1_700_000_000, "n": "Hook"}
    assert profile.moved.latest == (1_700_000_000, "Hook")
    assert profile.orders["src_0.9"].title == "Line" and profile.last_product == "Line"
    assert profile.latest_titles is not None and profile.latest_titles.titles == ["Hook"]


def test_a_summary_an_older_release_stored_has_no_latest_title_and_round_trips():
    # Given a moved-entries summary stored before entries had titles
    old = summary_item(summarize({"src_0.1": order_entry({"v": 1, "t": 1_700_000_000, "a": Decimal(1)})}))
    assert old is not None and "lt" not in old
    # When it is read and written back
    read = summary_of(old)
    # Then it has no latest title and is the item it was
    assert read is not None and read.latest is None
    assert summary_item(read) == old
