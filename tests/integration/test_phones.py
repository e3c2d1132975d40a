"""Phones through ingest and the profile service: read in their own country, never merged across."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import BadRequest
from patron.harness import Harness, Workspace
from patron.phones import renormalize
from tests.conftest import load_event


def profile(stage: Harness, ws: Workspace, email: str) -> dict:
    response = stage.get(ws, f"/customers?email={email}")
    assert response.status_code == 200, response.body
    (found,) = json.loads(response.body)["customers"]
    return found


def woo_order(order_id: int, customer_id: int, email: str, phone: str, country: str) -> dict:
    body = load_event("woocommerce/order_created.json")
    body["id"] = order_id
    body["customer_id"] = customer_id
    body["currency"] = "USD"
    body["billing"].update(email=email, phone=phone, country=country)
    return body


def test_same_national_digits_in_two_countries_do_not_merge(stage, ws):
    # Given a French and a Dutch customer who both wrote their mobile as 0612345678
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9001, 501, "amelie@example.fr", "06 12 34 56 78", "FR")
    )
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9002, 502, "daan@example.nl", "06 12345678", "NL")
    )
    # When the orders are processed
    stage.drain()
    # Then they are two profiles, each with the number of their own country
    french, dutch = profile(stage, ws, "amelie@example.fr"), profile(stage, ws, "daan@example.nl")
    assert french["customer_id"] != dutch["customer_id"]
    assert french["phones"] == ["+33612345678"]
    assert dutch["phones"] == ["+31612345678"]
    assert french["orders_count"] == dutch["orders_count"] == 1
    assert french["merged_from"] == [] and dutch["merged_from"] == []


def test_the_source_default_region_reads_numbers_without_an_address(stage):
    # Given a generic source registered with --default-region IT
    ws = stage.create_workspace("Negozio", "EUR")
    stage.add_source(ws, "generic", "cassa.example.it", "gen_" + "it" * 8, default_region="IT")
    body = load_event("generic/order.json")
    body["currency"] = "EUR"
    body["customer"].update(phone="06 6982 1234", email="giulia@example.it")
    # When an order without an address country arrives and is processed
    stage.send(ws, "generic", "order", body)
    stage.drain()
    # Then the Italian number keeps its leading zero
    assert profile(stage, ws, "giulia@example.it")["phones"] == ["+390669821234"]


def test_a_number_not_valid_for_its_country_is_kept_flagged_and_merges_nothing(stage, ws):
    # Given two US-billed customers who both wrote the same Austrian national number
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9101, 601, "ann@example.com", "0660 1234567", "US")
    )
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9102, 602, "bob@example.com", "0660 1234567", "US")
    )
    # When the orders are processed
    stage.drain()
    # Then each profile keeps the number as written, flagged, with no phone identity, and they do not merge
    ann, bob = profile(stage, ws, "ann@example.com"), profile(stage, ws, "bob@example.com")
    assert ann["customer_id"] != bob["customer_id"]
    for found in (ann, bob):
        assert (found["phone"], found["phones"]) == (None, [])
        assert found["phone_valid"] is False
        assert found["phone_as_written"] == "0660 1234567"


def test_renormalize_takes_old_plus_one_numbers_off_profiles_and_reports_merges(stage, ws):
    # Given two profiles, one of them stored by the old rule: the French 0612345678 read as
    # +1612345678 (a phone identity, the current number and the by_phone entry), merged once
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9201, 701, "amelie@example.fr", "0612345678", "FR")
    )
    stage.send(
        ws, "woocommerce", "order.created", woo_order(9202, 702, "ann@example.com", "(212) 555-0147", "US")
    )
    stage.drain()
    store = stage.container.profile_store
    old = store.get(ws.workspace_id, profile(stage, ws, "amelie@example.fr")["customer_id"])
    old.update(
        phs={"+1612345678"}, ph="+1612345678", phone_k=f"{ws.workspace_id}#+1612345678", mrg=["c_gone"]
    )
    store.t.put(old)
    stage.drain()
    bad_entry = f"{ws.workspace_id}#+1612345678"
    assert len(store.t.query_index(store.phone_index, "phone_k", bad_entry)) == 1
    # When the migration runs one page at a time, resuming from the cursor it prints
    reports, cursor = [], None
    while True:
        report = renormalize(stage.container, ws.workspace_id, cursor, pages=1)
        reports.append(report)
        cursor = report["next_cursor"]
        if cursor is None:
            break
    again = renormalize(stage.container, ws.workspace_id)
    # Then the bad number is no identity, no current number and no index entry, but kept flagged
    fixed = profile(stage, ws, "amelie@example.fr")
    assert (fixed["phone"], fixed["phones"]) == (None, [])
    assert fixed["phone_valid"] is False and fixed["phone_as_written"] == "+1612345678"
    assert store.t.query_index(store.phone_index, "phone_k", bad_entry) == []
    # and the merged profile is reported for review; the valid US number is untouched
    assert len(reports) > 1
    assert sum(r["profiles_changed"] for r in reports) == 1
    assert [r for report in reports for r in report["review"]] == [
        {"customer_id": old["cid"], "merged_from": ["c_gone"], "phones_not_valid": 1}
    ]
    assert profile(stage, ws, "ann@example.com")["phones"] == ["+12125550147"]
    # and running it again changes nothing
    assert (again["profiles_read"], again["profiles_changed"], again["review"]) == (2, 0, [])


def test_a_default_region_that_is_no_country_is_refused(stage):
    # Given a workspace
    ws = stage.create_workspace("Shop", "EUR")
    # When a source is added with a default region that is no ISO 3166 country
    # Then it is refused, and a lower-case code is taken as the country
    with pytest.raises(BadRequest, match="ISO 3166"):
        stage.add_source(ws, "generic", "pos.example.fr", "gen_" + "fr" * 8, default_region="XX")
    stage.add_source(ws, "generic", "pos.example.fr", "gen_" + "fr" * 8, default_region="fr")
    (source,) = stage.container.workspaces.sources(ws.workspace_id)
    assert source["rg"] == "FR"
