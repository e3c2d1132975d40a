"""The ingest stream's images are decoded where they enter (adapters/order_items.py): the
notifications, flow triggers and attribution read domain values, never stored items."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.adapters import records
from chalicelib.adapters.order_items import (
    checkout_image,
    customer_image,
    ingest_change,
    order_image,
    privacy_image,
)
from chalicelib.domain.ingest_images import CheckoutImage, OrderImage
from chalicelib.domain.models import Checkout, Platform
from chalicelib.parsers import run_parser
from tests.unit.fakes import REGISTRIES, WS, body_of, make_delivery, order_item, stored, with_refund

DOMAIN = Path(__file__).resolve().parents[2] / "functions" / "chalicelib" / "domain"


def checkout_item() -> dict:
    delivery = make_delivery(Platform.SHOPIFY, "checkouts/create")
    checkout = run_parser(REGISTRIES[Platform.SHOPIFY], body_of("shopify/checkouts_create.json"), delivery)
    assert isinstance(checkout, Checkout)
    values = records.header_fields(delivery, "checkout") | records.checkout_fields(checkout)
    values["pk"] = records.checkout_pk(WS, "src_1", checkout.checkout_id)
    return stored(values)


def test_an_order_item_decodes_to_what_the_consumers_read():
    # Given today's stored order item of events/shopify/orders_create.json, then refunded
    item = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    refunded = with_refund(item, "shopify/refunds_create.json")
    # When it is decoded
    image = order_image(refunded)
    # Then every value the notifications, triggers and attribution use is read from the item
    assert image.key == item["pk"] and image.workspace_id == WS and image.order_id == item["oid"]
    assert image.number == item["num"] and image.total == item["tot"]
    refunds = [v["a"] for k, v in refunded.items() if k.startswith(records.REFUND_PREFIX)]
    assert image.snapshot.currency == item["cur"] and image.snapshot.refunded == sum(refunds) > 0
    assert image.history == tuple((str(h[0]), str(h[1])) for h in refunded["hist"])
    assert image.person.email == item["p"]["e"]
    assert image.line_names == tuple(str(li.get("t") or li.get("p")) for li in item["li"])
    assert image.snapshot == records.snapshot(refunded)
    assert not image.redacted and order_image(item | {"rdx": True}).redacted


def test_a_checkout_keeps_the_guest_contact_byte_for_byte():
    # Given today's stored checkout item of events/shopify/checkouts_create.json
    item = checkout_item()
    # When it is decoded
    image = checkout_image(item)
    # Then what a guest's flow run stores of the person is the item's own values, unchanged
    person = item["p"]
    assert image.contact == {k: person[k] for k in ("e", "ph", "fn", "ln", "ce", "cs", "tz") if person.get(k)}
    assert image.contact and image.total == item["tot"] and image.recovery_url == item["url"]
    assert image.checkout_id == item["kid"] and image.titles == tuple(
        li["t"] for li in item["li"] if "t" in li
    )


def test_a_stream_record_is_one_change_of_typed_images():
    # Given a later state of an order, a checkout, and a source erasure's tombstone
    item = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    # When each stream record is decoded
    order, checkout = ingest_change(item, item), ingest_change(None, checkout_item())
    other = ingest_change(None, {"t": "tombstone", "ws": WS, "pk": "W#ws#O#src_1#1", "rdx": True})
    # Then orders and checkouts are domain values; kinds no consumer reads carry none
    assert isinstance(order.order, OrderImage) and isinstance(order.order_before, OrderImage)
    assert isinstance(checkout.checkout, CheckoutImage) and checkout.order is None
    assert other.after is None and other.before is None


def test_the_ingest_consumers_read_no_stored_attribute():
    # Given the pipeline and the messaging services it feeds
    modules = [
        "pipeline.py",
        "messaging/triggers.py",
        "messaging/attribution.py",
        "messaging/notifications.py",
    ]
    # When their code is read (the CRM stream's profile trigger aside: it reads profiles)
    found = []
    for name in modules:
        text = (DOMAIN / name).read_text().split("# -- the CRM stream")[0]
        found += [
            (name, m) for m in re.findall(r'\.get\("(?:t|p|x|ws|pk|hist|li|tot)"\)|\["(?:ws|pk|t)"\]', text)
        ]
    # Then none reads an item's short attributes or keys
    assert found == []


def parsed_item(topic: str, fixture: str, kind: str) -> dict:
    delivery = make_delivery(Platform.SHOPIFY, topic)
    payload = run_parser(REGISTRIES[Platform.SHOPIFY], body_of(fixture), delivery)
    fields = {"customer": records.customer_fields, "privacy": records.privacy_fields}[kind]
    values = records.header_fields(delivery, kind) | fields(payload)  # type: ignore[operator]
    return stored(values | {"pk": f"W#{WS}#{kind}#1"})


def test_a_customer_and_a_privacy_request_decode_to_what_the_services_read():
    # Given today's stored customer and customers/redact items of the events/ fixtures
    customer = parsed_item("customers/create", "shopify/customers_create.json", "customer")
    request = parsed_item("customers/redact", "shopify/customers_redact.json", "privacy")
    # When each is decoded
    c, r = customer_image(customer), privacy_image(request)
    # Then the person is the stored one, field for field, and the request's ids are its own
    assert records.person_fields(c.person) == customer["p"] and c.source_id == customer["src"]
    assert c.updated_at is not None and c.updated_at.isoformat().startswith(customer["ua"][:19])
    assert records.person_fields(r.person) == request["p"] and r.request == "customers_redact"
    assert (r.request_id, r.orders, r.key) == (request["rid"], tuple(request["ords"]), request["pk"])
    assert r.customer_id is None and not r.redacted
