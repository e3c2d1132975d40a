"""CustomerIndex's contract (domain/customer_list.py): the search indexes by name, email and
phone prefix, and a tier's customers, on the fake and on DynamoCustomerIndex on moto (the
profile items written as the profile store writes them)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.customer_search import DynamoCustomerIndex
from chalicelib.adapters.profile_items import profile_item, profile_of
from chalicelib.adapters.tier_store import states_pk
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from tests.contract import MotoStage, moto_stage
from tests.fakes_customer_list import FakeCustomerIndex

__all__ = ["moto_stage"]


class DynamoWorld:
    def __init__(self, stage: MotoStage) -> None:
        self.crm = stage.crm
        self.index = DynamoCustomerIndex(self.crm)

    def given_profile(self, profile: CustomerProfile) -> None:
        self.crm.put(profile_item(profile))

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


def person(cid: str, first: str | None, last: str | None, email: str | None, phone: str | None, ws="ws_1"):
    return CustomerProfile(
        workspace_id=ws, customer_id=cid, rev=1, first_name=first, last_name=last, email=email, phone=phone
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


def test_the_search_attributes_round_trip_without_joining_the_profile():
    # Given a profile with a name, an email and a phone, written as an item
    profile = person("c_1", "Jane", "Doe", "Jane.Doe@example.com", "+33612345678")
    item = profile_item(profile)
    # When it is read back
    # Then the index attributes are on the item but not carried as unknown attributes
    assert item["ws"] == "ws_1" and item["qn"] == "jane doe" and item["qe"] == "jane.doe@example.com"
    assert item["qp"] == "+33612345678"
    # and a profile with no name, email or phone is in no index
    assert not {"qn", "qe", "qp"} & set(profile_item(person("c_2", None, None, None, None)))
    assert profile_of(item) == profile
