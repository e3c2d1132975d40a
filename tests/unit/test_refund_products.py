"""Which products a refund took back (docs/recommendations.md#refunds): parsed from every
payload that names them, kept in the order item's `rf_<id>` map, summed into the order
snapshot and the profile's order entry, and left out of the recommender's baskets."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import records
from chalicelib.adapters.profile_items import order_entry, order_entry_item
from chalicelib.domain.customer_profile import OrderEntry
from chalicelib.domain.models import Order, Platform, RefundEvent
from chalicelib.domain.recommend.baskets import baskets_of
from chalicelib.parsers import PayloadError, run_parser
from tests.conftest import load_event
from tests.fakes_ports import FakeIngestStore
from tests.ingest_schedule import RECEIVED, Delivery, Schedule
from tests.unit.fakes import REGISTRIES, body_of, make_delivery, order_item, with_refund
from tests.unit.test_ingest_properties import Stage

TWO_LINES = "shopify/refunds_create_two_lines.json"
HANGER, POUR_OVER, COFFEE = "8012345678901", "8012345679011", "8012345679122"
SKUS = {HANGER: "OCT-HGR-M", POUR_OVER: "CPS-WHT-01", COFFEE: "SOC-ETH-340"}


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    # dates are checked against the delivery's receipt time: a fixed clock
    with time_machine.travel(RECEIVED, tick=False):
        yield


def parse(platform: Platform, topic: str, fixture: str | dict[str, Any]) -> Any:
    return run_parser(REGISTRIES[platform], body_of(fixture), make_delivery(platform, topic))


# -- parsers -------------------------------------------------------------------------
def test_a_shopify_refund_of_two_lines_names_both_products():
    # Given a refunds/create that takes back one of two hangers and the coffee
    # When parsed
    event = parse(Platform.SHOPIFY, "refunds/create", TWO_LINES)
    # Then the refund names both products, once each, with its amount as before
    assert isinstance(event, RefundEvent)
    assert event.refund.products == (HANGER, COFFEE)
    assert event.refund.amount == Decimal("46.21")


def test_a_shopify_refund_line_of_nothing_or_of_a_custom_item_names_no_product():
    # Given the same refund whose first line takes back 0 items and whose second is a
    # custom line item (no product)
    body = load_event(TWO_LINES)
    body["refund_line_items"][0]["quantity"] = 0
    body["refund_line_items"][1]["line_item"]["product_id"] = None
    # When parsed
    event = parse(Platform.SHOPIFY, "refunds/create", body)
    # Then it names no product (and still refunds its amount)
    assert event.refund.products == ()
    assert event.refund.amount == Decimal("46.21")


def test_a_shopify_orders_refunds_name_their_products():
    # Given the cancelled order, which embeds two refunds with their lines
    order = parse(Platform.SHOPIFY, "orders/cancelled", "shopify/orders_cancelled.json")
    # When parsed
    assert isinstance(order, Order)
    # Then each refund names the products of its own lines
    assert [r.products for r in order.refunds] == [(POUR_OVER,), (HANGER, COFFEE)]


def test_a_generic_refund_with_line_items_names_their_products():
    # Given a generic refund of one of the POS order's two books
    event = parse(Platform.GENERIC, "refund", "generic/refund_lines.json")
    # Then the refund names that book; a refund without line_items names none
    assert isinstance(event, RefundEvent)
    assert event.refund.products == ("book-series-2",)
    assert parse(Platform.GENERIC, "refund", "generic/refund.json").refund.products == ()


def test_a_generic_orders_refunds_take_line_items_and_quantity_zero_takes_nothing():
    # Given the generic order with a refund of one book and a line of quantity 0
    body = load_event("generic/order.json")
    body["status"] = "partially_refunded"
    body["refunds"] = [
        {
            "id": "r-1",
            "amount": "24.00",
            "created_at": "2026-11-22T10:00:00+01:00",
            "line_items": [
                {"product_id": "book-series-1", "quantity": 1},
                {"product_id": "book-series-2", "quantity": 0},
            ],
        }
    ]
    # When parsed
    order = parse(Platform.GENERIC, "order", body)
    # Then the refund names the first book only
    assert [r.products for r in order.refunds] == [("book-series-1",)]


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": 1},
        {"product_id": "", "quantity": 1},
        {"product_id": "b", "quantity": -1},
        {"product_id": "b", "qty": 1},
    ],
    ids=["no-product", "blank-product", "negative-quantity", "unknown-field"],
)
def test_a_generic_refund_line_that_breaks_the_schema_is_refused(line: dict[str, Any]):
    # Given a generic refund whose line breaks the schema
    body = load_event("generic/refund_lines.json") | {"line_items": [line]}
    # When parsed, Then the payload is refused, naming the field
    with pytest.raises(PayloadError) as refused:
        parse(Platform.GENERIC, "refund", body)
    assert any("line_items" in str(e["field"]) for e in refused.value.errors)


def test_a_woocommerce_rest_refund_with_line_items_names_them_and_a_webhooks_names_none():
    # Given the refunded WooCommerce order: its webhook refund has no lines
    body = load_event("woocommerce/order_updated_refunded.json")
    webhook = parse(Platform.WOOCOMMERCE, "order.updated", body)
    product = body["line_items"][0]["product_id"]
    # When a REST listing gives the refund its lines (negative quantities, as Woo reports them)
    body["refunds"][0]["line_items"] = [
        {"product_id": product, "quantity": -1},
        {"product_id": 0, "quantity": -1},  # a fee line: no product
    ]
    rest = parse(Platform.WOOCOMMERCE, "order.updated", body)
    # Then only the REST refund names the product
    assert [r.products for r in webhook.refunds] == [()]
    assert [r.products for r in rest.refunds] == [(str(product),)]


# -- the order item, the snapshot and the profile entry ------------------------------
def test_the_refunds_products_are_stored_on_the_order_item_and_summed_into_its_snapshot():
    # Given the order (three products) and two refunds: the pour-over set, then the hanger and coffee
    item = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    item = with_refund(item, "shopify/refunds_create.json")
    item = with_refund(item, TWO_LINES)
    # Then each refund's map keeps its products
    assert item["rf_1019283746011"]["p"] == [POUR_OVER]
    assert item["rf_1019283746022"]["p"] == [HANGER, COFFEE]
    # And the snapshot's refunded products are all three, with their lines' SKUs
    snap = records.snapshot(item)
    assert set(snap.refunded_products) == set(SKUS) | set(SKUS.values())
    assert list(snap.refunded_products) == sorted(snap.refunded_products)


def test_a_refund_without_products_keeps_its_map_as_before():
    # Given a refund that names no product
    item = order_item(Platform.GENERIC, "order", "generic/order.json")
    item = with_refund(item, "generic/refund.json", Platform.GENERIC, "refund")
    # Then its map is amount and time only, and nothing is refunded by product
    assert set(item["rf_r-42-1"]) == {"a", "at"}
    assert records.snapshot(item).refunded_products == ()


def test_an_entry_with_refunded_products_round_trips_compactly():
    # Given an entry with a refunded product
    entry = OrderEntry(3, placed_at=1_700_000_000, amount=Decimal("64"), refunded=Decimal("40"))
    entry.products = ["BK-S1-V1", "BK-S1-V2", "book-series-1", "book-series-2"]
    entry.refunded_products = ["BK-S1-V2", "book-series-2"]
    # When stored and read back
    stored = order_entry_item(entry)
    # Then it is kept as `rp` and reads back equal; an entry without any stores no `rp`
    assert stored["rp"] == ["BK-S1-V2", "book-series-2"]
    assert order_entry(stored) == entry
    assert "rp" not in order_entry_item(OrderEntry(1, placed_at=0))
    assert order_entry({"v": 1}).refunded_products is None


def profile_entry(stage: Stage, key: str) -> dict[str, Any]:
    (entry,) = [i["o"][key] for i in stage.profiles.items.values() if key in (i.get("o") or {})]
    return dict(entry)


def test_a_partial_refund_by_line_reaches_the_profile_entry_and_leaves_the_basket():
    # Given the POS order of two books, then a refund of the second book, through the ingest path
    stage = Stage()
    deliveries = [
        Delivery("generic", "order", "generic/order.json"),
        Delivery("generic", "refund", "generic/refund_lines.json"),
    ]
    stage.run(Schedule(deliveries, [[] for _ in deliveries]))
    # Then the profile's entry keeps the refunded book (id and SKU) beside its products
    stored = profile_entry(stage, "src_2.POS-20261121-0042")
    assert stored["rp"] == ["BK-S1-V2", "book-series-2"]
    assert stored["r"] == Decimal("40.00") and stored["a"] == Decimal("64.00")
    # And the recommender's basket of that order holds only the kept book, by its product id
    (basket,) = baskets_of("c1", {"src_2.POS-20261121-0042": order_entry(stored)})
    assert basket.products == ("book-series-1",)


# -- baskets ---------------------------------------------------------------------------
def entry(products: list[str], refunded: list[str] | None, at: int = 100) -> OrderEntry:
    return OrderEntry(
        1,
        placed_at=at,
        amount=Decimal("50"),
        refunded=Decimal("10"),
        products=products,
        refunded_products=refunded,
    )


def test_a_basket_drops_the_refunded_products_and_an_order_refunded_by_every_line_is_none():
    # Given a partially refunded order, an order whose every product was taken back (the
    # amount not fully: shipping kept), and an order refunded by amount only
    entries = {
        "s.1": entry(["hook", "rod", "line"], ["rod"], at=300),
        "s.2": entry(["tent"], ["tent"], at=200),
        "s.3": entry(["stove", "pan"], None, at=100),
    }
    # When made into baskets
    baskets = baskets_of("c1", entries)
    # Then the partial one keeps what was not refunded, the second is no basket, the third keeps all
    assert [(b.at, b.products) for b in baskets] == [(100, ("stove", "pan")), (300, ("hook", "line"))]


PRODUCTS = [HANGER, POUR_OVER, COFFEE]


def refund_body(n: int, products: list[str]) -> dict[str, Any]:
    """A refunds/create of the stored order taking back these of its products."""
    body = load_event(TWO_LINES)
    lines = {
        str(line["line_item"]["product_id"]): line for line in load_event(TWO_LINES)["refund_line_items"]
    }
    lines[POUR_OVER] = load_event("shopify/refunds_create.json")["refund_line_items"][0]
    body["id"] = 2_000 + n
    body["refund_line_items"] = [lines[p] for p in products]
    return body


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    refunds=st.lists(st.lists(st.sampled_from(PRODUCTS), unique=True), min_size=1, max_size=4),
    data=st.data(),
)
def test_refunds_in_any_order_give_the_same_refunded_products(refunds: list[list[str]], data: st.DataObject):
    # Given an order and refunds of any of its products (some of none), in any delivery
    # order, the order anywhere among them and some refunds delivered twice
    events: list[tuple[Platform, str, Any]] = [
        (Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    ]
    events += [(Platform.SHOPIFY, "refunds/create", refund_body(n, ps)) for n, ps in enumerate(refunds)]
    shuffled = data.draw(st.permutations(events))
    again = data.draw(st.lists(st.sampled_from(events), max_size=2))
    store = FakeIngestStore()
    for platform, topic, fixture in [*shuffled, *again]:
        delivery = make_delivery(platform, topic)
        store.apply(delivery, run_parser(REGISTRIES[platform], body_of(fixture), delivery))
    # When the stored order is read
    (item,) = store.items.values()
    snap = records.snapshot(dict(item))
    # Then its refunded products are the union of the refunds', with their SKUs, whatever the order
    union = {p for ps in refunds for p in ps}
    assert set(snap.refunded_products) == union | {SKUS[p] for p in union}
    assert snap.is_order


def test_a_basket_holds_the_lines_product_ids_not_their_skus_beside_them():
    # Given an order of two lines with product ids and SKUs, and a line with a SKU only
    item = {
        "pk": "W#ws#O#src#1",
        "ws": "ws",
        "src": "src",
        "oid": "1",
        "ver": "x",
        "st": "paid",
        "tot": "30",
        "ca": "2026-03-01T10:00:00.000000Z",
        "li": [
            {"p": "111", "s": "TEE-M", "q": 1, "a": "10"},
            {"p": "222", "s": "MUG-1", "q": 1, "a": "10"},
            {"s": "GIFT-CARD", "q": 1, "a": "10"},
        ],
    }
    snap = records.snapshot(item)
    # When the profile's entry is made from it and read back as a basket
    entry = OrderEntry(1, placed_at=1_700_000_000, products=list(snap.products), item_count=snap.item_count)
    stored = order_entry(order_entry_item(entry))
    (basket,) = baskets_of("c1", {"k": stored})
    # Then segments still match ids and SKUs, and the basket holds each line once, by its id
    assert set(snap.products) == {"111", "TEE-M", "222", "MUG-1", "GIFT-CARD"}
    assert basket.products == ("111", "222", "GIFT-CARD")
    assert stored.item_count == 3


def test_an_entry_written_before_the_item_count_was_kept_stands_in_with_its_products():
    entry = OrderEntry(1, placed_at=1_700_000_000, products=["111", "222"])
    (basket,) = baskets_of("c1", {"k": entry})
    assert basket.products == ("111", "222")
