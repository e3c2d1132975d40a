"""CustomerIndex's and SearchEntryStore's contract (domain/customer_list.py,
domain/search_entries.py): the search entries by name, email and phone prefix and by tag,
written as the CRM stream's consumer writes them (each at a profile revision: a replayed
or late record never undoes a newer one), and a tier's customers, on the fake and on
DynamoCustomerIndex on moto."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.customer_search import DynamoCustomerIndex, entry_item, entry_of
from chalicelib.adapters.profile_items import profile_item
from chalicelib.adapters.tier_store import states_pk
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.search_entries import SearchEntries
from tests.contract import MotoStage, moto_stage
from tests.fakes_customer_list import FakeCustomerIndex

__all__ = ["moto_stage"]


class DynamoWorld:
    def __init__(self, stage: MotoStage) -> None:
        self.crm = stage.crm
        self.index = DynamoCustomerIndex(self.crm)

    def given_profile(self, profile: CustomerProfile) -> None:
        self.crm.put(profile_item(profile))  # the profile store's write...
        SearchEntries(self.index, None).on_change(None, profile)  # type: ignore[arg-type]  # ...and the stream's

    def given_tier(self, workspace_id: str, customer_id: str, tier: str) -> None:
        state = {"pk": states_pk(workspace_id), "sk": f"C#{customer_id}", "t": "tier", "tr": tier, "v": 1}
        self.crm.put(state)


class FakeWorld:
    def __init__(self) -> None:
        self.index = FakeCustomerIndex()
        self.given_profile = self.index.given_profile
        self.given_tier = self.index.given_tier


@pytest.fixture(params=["fake", "dynamodb"])
def world(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeWorld()
    return DynamoWorld(request.getfixturevalue("moto_stage"))


def person(
    cid: str,
    first: str | None,
    last: str | None,
    email: str | None,
    phone: str | None,
    ws="ws_1",
    rev=1,
    tags=(),
):
    return CustomerProfile(
        workspace_id=ws,
        customer_id=cid,
        rev=rev,
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        tags=set(tags),
    )


def every(index, kind, prefix, limit, ws="ws_1") -> tuple[list[str], int]:
    found, cursor, pages = [], None, 0
    while True:
        ids, cursor = index.prefix(ws, kind, prefix, limit, cursor)
        found += ids
        pages += 1
        if cursor is None:
            return found, pages


def test_a_prefix_finds_names_emails_and_phones_in_value_order_page_by_page(world):
    # Given five people, one in another workspace
    world.given_profile(person("c_1", "Jane", "Doe", "jane.doe@example.com", "+33612345678"))
    world.given_profile(person("c_2", "Jérôme", "Martin", "jm@example.org", "+33698765432"))
    world.given_profile(person("c_3", "Jack", "Black", "jack@example.com", "+14155550100"))
    world.given_profile(person("c_4", "Ada", None, "jade@example.com", None))
    world.given_profile(person("c_5", "Jane", "Other", "jane@example.com", "+33612340000", ws="ws_2"))
    index = world.index
    # When names, emails and phones are searched by prefix, one at a time
    # Then each kind lists its matches in the order of its normalised value, once each
    assert every(index, "name", "j", 1) == (["c_3", "c_1", "c_2"], 3)
    assert every(index, "name", "jerome m", 10) == (["c_2"], 1)
    assert every(index, "email", "ja", 2) == (["c_3", "c_4", "c_1"], 2)
    assert every(index, "phone", "336123", 5) == (["c_1"], 1)
    assert every(index, "phone", "3", 5) == (["c_1", "c_2"], 1)
    assert every(index, "name", "zed", 5) == ([], 1)
    assert every(index, "name", "jane", 5, ws="ws_2") == (["c_5"], 1)


def test_a_profile_without_a_value_is_not_indexed_and_a_cursor_is_checked(world):
    # Given a profile with no name, email or phone
    world.given_profile(person("c_9", None, None, None, None))
    world.given_profile(person("c_1", "Jane", "Doe", "jane.doe@example.com", None))
    # When anything is searched
    # Then it is never found
    assert every(world.index, "name", "j", 5)[0] == ["c_1"]
    assert every(world.index, "phone", "1", 5)[0] == []
    # And a cursor that is not one the index gave is a 400
    with pytest.raises(BadRequest):
        world.index.prefix("ws_1", "name", "j", 5, "not json")


def test_a_tiers_customers_come_once_each_by_id(world):
    # Given customers in two tiers and a workspace apart
    for n in range(7):
        world.given_tier("ws_1", f"c_{n}", "gold" if n % 2 else "silver")
    world.given_tier("ws_2", "c_x", "gold")
    # When the gold tier is read two at a time
    found, cursor = [], None
    while True:
        ids, cursor = world.index.in_tier("ws_1", "gold", 2, cursor)
        found += ids
        if cursor is None:
            break
    # Then each gold customer comes once, by id, and none of the others
    assert found == ["c_1", "c_3", "c_5"]
    assert world.index.in_tier("ws_3", "gold", 5, None) == ([], None)


def tagged(index, tag, limit, ws="ws_1") -> tuple[list[str], int]:
    found, cursor, pages = [], None, 0
    while True:
        ids, cursor = index.tagged(ws, tag, limit, cursor)
        found += ids
        pages += 1
        if cursor is None:
            return found, pages


def test_a_tag_finds_its_customers_by_id_page_by_page(world):
    # Given customers with tags (as the storefront or Patron spelled them), one elsewhere
    world.given_profile(person("c_3", "Jack", None, None, None, tags={"VIP", "wholesale"}))
    world.given_profile(person("c_1", "Jane", None, None, None, tags={"vip"}))
    world.given_profile(person("c_2", "Ada", None, None, None, tags={"Big  Spender"}))
    world.given_profile(person("c_9", "Max", None, None, None, ws="ws_2", tags={"vip"}))
    # When a tag is read a page at a time
    # Then its customers come once each, by id, whatever the tag's case and spacing was
    assert tagged(world.index, "vip", 1) == (["c_1", "c_3"], 2)
    assert tagged(world.index, "big spender", 5) == (["c_2"], 1)
    assert tagged(world.index, "wholesale", 5) == (["c_3"], 1)
    assert tagged(world.index, "none", 5) == ([], 1)


def test_a_change_moves_the_entries_and_a_replayed_older_change_undoes_nothing(world):
    # Given a customer indexed at revision 1
    old = person("c_1", "Jane", "Doe", "jane@example.com", "+33612345678", tags={"vip"})
    world.given_profile(old)
    entries = SearchEntries(world.index, None)  # type: ignore[arg-type]
    # When revision 2 changes the name and the tags, and revision 3 only the figures
    new = person("c_1", "Janet", "Doe", "jane@example.com", "+33612345678", rev=2, tags={"gold"})
    change = entries.on_change(old, new)
    same = entries.on_change(
        new, person("c_1", "Janet", "Doe", "jane@example.com", "+33612345678", rev=3, tags={"gold"})
    )
    # Then the new name and tag are written, the old ones deleted, and a figures-only change writes nothing
    assert (change.written, change.deleted, change.skipped) == (2, 2, 0)
    assert (same.written, same.deleted) == (0, 0)
    assert every(world.index, "name", "jane", 5)[0] == ["c_1"]  # "janet doe"
    assert every(world.index, "name", "jane d", 5)[0] == []
    assert tagged(world.index, "vip", 5)[0] == [] and tagged(world.index, "gold", 5)[0] == ["c_1"]
    # When the stream replays revision 2's record
    again = entries.on_change(old, new)
    # Then nothing moves (the same entries, written again at the same revision)
    assert (again.written, again.deleted, again.skipped) == (2, 2, 0)
    assert tagged(world.index, "gold", 5)[0] == ["c_1"]
    # When revision 4 puts the vip tag back, and revision 2's record (which took it off) comes late
    back = person("c_1", "Janet", "Doe", "jane@example.com", "+33612345678", rev=4, tags={"gold", "vip"})
    assert entries.on_change(new, back).written == 1
    late = entries.on_change(old, new)
    # Then the late record's deletion is refused: the newer revision's entry stays
    assert late.skipped == 1
    assert tagged(world.index, "vip", 5)[0] == ["c_1"]
    new = back
    # When the profile is merged away or erased (no profile after)
    gone = entries.on_change(new, None)
    # Then every entry of it is deleted
    assert gone.deleted == 5
    assert every(world.index, "email", "jane", 5)[0] == [] and tagged(world.index, "gold", 5)[0] == []
    assert every(world.index, "phone", "33", 5)[0] == []


def test_an_entry_item_round_trips():
    # Given entries of each kind, a value holding the separator among them
    for kind, value in (
        ("name", "jane doe"),
        ("email", "a#b@example.com"),
        ("phone", "33612"),
        ("tag", "vip #1"),
    ):
        # When one is written as an item and read back
        item = entry_item("ws_1", "c_1", kind, value, 7)
        # Then it is what was written, and its partition is the workspace's own
        assert entry_of(item) == ("ws_1", "c_1", kind, value, 7)
        assert item["pk"].startswith("W#ws_1#SRCH#") and item["t"] == "srch"


def test_the_profile_item_carries_no_search_attribute():
    # Given a profile with a name, an email, a phone and tags, written as an item
    profile = person("c_1", "Jane", "Doe", "Jane.Doe@example.com", "+33612345678", tags={"vip"})
    item = profile_item(profile)
    # Then the order path's write holds none of the old index attributes (the entries are the stream's)
    assert not {"qn", "qe", "qp"} & set(item)
    assert item["tg"] == {"vip"}
