"""Birthdays from every kind of store: Shopify's standard `facts.birth_date` customer
metafield, a WooCommerce meta key (configurable per source), the generic schema."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.models import Platform
from chalicelib.parsers import run_parser, woocommerce
from tests.conftest import load_event
from tests.unit.test_parsers import delivery, parse


def birth_date(value: object, namespace: str = "facts", key: str = "birth_date") -> dict:
    """A metafield as a webhook subscribed with metafield_namespaces carries it."""
    return {"id": 1, "namespace": namespace, "key": key, "value": value, "type": "date"}


def test_a_shopify_customer_with_the_birth_date_metafield_gets_their_birthday():
    # Given a customers/create webhook that carries the customer's facts.birth_date
    body = load_event("shopify/customers_create.json")
    body["metafields"] = [birth_date("1990-04-12"), birth_date("x", "custom", "notes")]
    # When it is parsed
    customer = parse(Platform.SHOPIFY, "customers/create", json.dumps(body).encode())
    # Then the person's birthday is its month and day
    assert customer.person.birthday == "04-12"


def test_a_shopify_order_carries_the_customers_birth_date_too():
    # Given an order whose customer carries the metafield
    body = load_event("shopify/orders_create.json")
    body["customer"]["metafields"] = [birth_date("1985-02-28")]
    # When it is parsed, Then the birthday comes with it
    assert parse(Platform.SHOPIFY, "orders/create", json.dumps(body).encode()).person.birthday == "02-28"


@pytest.mark.parametrize("value", ["not a date", "1985-02-30", "2999-01-01", None, 19850228])
def test_a_shopify_birth_date_that_is_not_a_real_date_is_ignored_not_refused(value):
    # Given a metafield whose value is no birth date
    body = load_event("shopify/customers_create.json")
    body["metafields"] = [birth_date(value)]
    # When it is parsed, Then the customer is kept, without a birthday
    assert parse(Platform.SHOPIFY, "customers/create", json.dumps(body).encode()).person.birthday is None


def test_a_woocommerce_customer_with_the_meta_key_gets_their_birthday():
    # Given a Woo customer whose meta holds a birth date under the default key
    body = load_event("woocommerce/customer_created.json")
    body["meta_data"].append({"id": 9, "key": "birthday", "value": "1979-12-02"})
    # When it is parsed
    customer = parse(Platform.WOOCOMMERCE, "customer.created", json.dumps(body).encode())
    # Then the birthday is read
    assert customer.person.birthday == "12-02"


def test_a_woocommerce_source_names_its_own_meta_key():
    # Given a source whose checkout plugin writes billing_birthdate, on the customer and the order
    source = delivery(Platform.WOOCOMMERCE, "customer.created").model_copy(
        update={"birthday_meta_key": "billing_birthdate"}
    )
    body = load_event("woocommerce/customer_created.json")
    body["meta_data"] += [
        {"key": "birthday", "value": "1970-01-01"},
        {"key": "billing_birthdate", "value": "07-30"},
    ]
    order = load_event("woocommerce/order_created.json")
    order["meta_data"].append({"key": "billing_birthdate", "value": "1991-03-09"})
    # When they are parsed for that source
    customer = run_parser(woocommerce.PARSERS, json.dumps(body).encode(), source)
    placed = run_parser(
        woocommerce.PARSERS, json.dumps(order).encode(), source.model_copy(update={"topic": "order.created"})
    )
    # Then the source's key is read, not the default
    assert (customer.person.birthday, placed.person.birthday) == ("07-30", "03-09")


@pytest.mark.parametrize("field", ["birth_date", "birthday"])
def test_a_generic_customer_with_a_birth_date_gets_their_birthday(field):
    # Given a generic customer with the field
    body = load_event("generic/customer.json")
    body[field] = "1988-10-05"
    # When it is parsed
    customer = parse(Platform.GENERIC, "customer", json.dumps(body).encode())
    # Then the birthday is its month and day
    assert customer.person.birthday == "10-05"
