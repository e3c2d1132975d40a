"""Phones through ingest and the profile service: read in their own country, never merged across."""

from __future__ import annotations

import json

from patron.harness import Harness, Workspace
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
