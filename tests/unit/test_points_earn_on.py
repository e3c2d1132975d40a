"""What an order earns on (`earn_on`): the parts of its total carried from the Shopify,
WooCommerce and generic webhooks through the stored item to the snapshot, and the earning
base each rule takes from them; an order earns floor(base x rate) at the rule in force."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.adapters.records import order_fields, snapshot
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.rules import earning_base
from chalicelib.domain.models import Delivery, Order, Platform
from chalicelib.parsers import generic, run_parser, shopify, woocommerce
from tests.conftest import event_bytes
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, WS, Settings, on, order

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def parsed(platform: Platform, registry: dict, topic: str, body: bytes) -> Order:
    delivery = Delivery(
        workspace_id=WS, source_id="s1", platform=platform, topic=topic, webhook_id="wh-1", received_at=NOW
    )
    got = run_parser(registry, body, delivery)
    assert isinstance(got, Order)
    return got


def parts(o: Order) -> tuple[Decimal | None, Decimal | None, Decimal | None, Decimal]:
    return o.subtotal, o.shipping, o.tax, o.total


def test_the_webhooks_carry_subtotal_shipping_and_tax():
    # Given Shopify's, WooCommerce's and a generic order (with its parts) as delivered
    generic_body = json.loads(event_bytes("generic/order.json"))
    generic_body |= {"subtotal": "54.00", "shipping": "4.00", "tax": "6.00"}
    # When parsed
    got_shopify = parsed(
        Platform.SHOPIFY, shopify.PARSERS, "orders/create", event_bytes("shopify/orders_create.json")
    )
    got_woo = parsed(
        Platform.WOOCOMMERCE,
        woocommerce.PARSERS,
        "order.created",
        event_bytes("woocommerce/order_created.json"),
    )
    got_generic = parsed(Platform.GENERIC, generic.PARSERS, "order", json.dumps(generic_body).encode())
    # Then Shopify's subtotal after discounts, shipping (shop money) and tax come through;
    # WooCommerce's shipping and tax (its subtotal is the rest); the generic parts
    assert parts(got_shopify) == (Decimal("107.55"), Decimal("8.00"), Decimal("6.45"), Decimal("122.00"))
    assert parts(got_woo) == (None, Decimal("4.90"), Decimal("17.48"), Decimal("104.88"))
    assert parts(got_generic) == (Decimal("54.00"), Decimal("4.00"), Decimal("6.00"), Decimal("64.00"))


def test_shopify_shipping_falls_back_to_its_shipping_lines_and_zero_is_not_kept():
    # Given Shopify orders without the shipping price set: with shipping lines, and free
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body.pop("total_shipping_price_set")
    free = body | {"shipping_lines": [{"price": "0.00"}]}
    # When parsed
    lines = parsed(Platform.SHOPIFY, shopify.PARSERS, "orders/create", json.dumps(body).encode())
    nothing = parsed(Platform.SHOPIFY, shopify.PARSERS, "orders/create", json.dumps(free).encode())
    # Then the lines' discounted price is the shipping; a free one is not kept (not stored)
    assert lines.shipping == Decimal("8.00")
    assert nothing.shipping is None and order_fields(nothing)["shp"] is None


def test_the_stored_item_round_trips_the_parts_into_the_snapshot():
    # Given Shopify's order as stored (its item's attributes)
    got = parsed(
        Platform.SHOPIFY, shopify.PARSERS, "orders/create", event_bytes("shopify/orders_create.json")
    )
    item = {"ws": WS, "src": "s1", "ver": 1, "v": 1} | order_fields(got)
    item = {k: v for k, v in item.items() if v is not None}
    # When the snapshot is read back
    snap = snapshot(item)
    # Then it has the order's subtotal, shipping and tax
    assert (snap.subtotal, snap.shipping, snap.tax, snap.total) == parts(got)


@pytest.mark.parametrize(
    ("earn_on", "parts_", "base"),
    [
        ("total", ("107.55", "8.00", "6.45"), "122.00"),
        ("subtotal", ("107.55", "8.00", "6.45"), "107.55"),
        ("subtotal_shipping", ("107.55", "8.00", "6.45"), "115.55"),
        ("subtotal_tax", ("107.55", "8.00", "6.45"), "114.00"),
        ("subtotal", (None, "8.00", "6.45"), "107.55"),  # WooCommerce: the total less the rest
        ("subtotal", (None, None, None), "122.00"),  # no parts reported: the total
        ("subtotal", ("130.00", None, None), "122.00"),  # never above the total
    ],
)
def test_the_earning_base_by_rule(earn_on, parts_, base):
    # Given an order of 122.00 with its parts as reported
    sub, shp, tax = (None if p is None else Decimal(p) for p in parts_)
    snap = replace(order("122.00").after.snapshot, subtotal=sub, shipping=shp, tax=tax)
    # When its earning base is taken
    # Then it is the rule's part of the total
    assert earning_base(snap, earn_on) == Decimal(base)


def test_an_order_earns_on_its_subtotal_when_the_rule_says_so_and_refunds_are_shares_of_the_total():
    # Given a workspace earning 1 point per unit of subtotal, and a paid order of 122.00
    # whose subtotal after discounts is 107.55
    ledger = FakePointsLedger()
    service = PointsService(ledger, Settings(replace(on(), earn_on="subtotal")))  # type: ignore[arg-type]
    change = order("122.00")
    change = replace(
        change,
        after=replace(change.after, snapshot=replace(change.after.snapshot, subtotal=Decimal("107.55"))),
    )
    # When it is applied
    (entry,) = service.on_order(change, NOW, CID)
    # Then it earns floor(107.55) = 107 points; its base (for refunds' shares) is what was paid
    assert (entry.points, entry.base) == (107, Decimal("122.00"))
    assert ledger.balance(WS, CID).total == 107
