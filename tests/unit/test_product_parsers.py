"""Product webhooks (Shopify products/*, WooCommerce product.*) into the catalogue's Product."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain.models import Delivery, Platform, Product, ProductDeletion, ProductVariant
from chalicelib.parsers import PayloadError, run_parser, shopify, woocommerce
from tests.conftest import event_bytes

RECEIVED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TRIGGERED = datetime(2026, 11, 27, 11, 59, 58, tzinfo=UTC)
REGISTRIES = {Platform.SHOPIFY: shopify.PARSERS, Platform.WOOCOMMERCE: woocommerce.PARSERS}


def parse(platform: Platform, topic: str, body: str | bytes, triggered: datetime | None = None):
    delivery = Delivery(
        workspace_id="ws_test",
        source_id="src_1",
        platform=platform,
        topic=topic,
        received_at=RECEIVED,
        triggered_at=triggered,
        shop_domain="demo-store.myshopify.com" if platform is Platform.SHOPIFY else "shop.example.org",
    )
    raw = body if isinstance(body, bytes) else event_bytes(body)
    return run_parser(REGISTRIES[platform], raw, delivery)


@pytest.mark.parametrize("topic", ["products/create", "products/update"])
def test_shopify_products_create_and_update(topic):
    # Given Shopify's products/update body, When it is parsed under either topic
    p = parse(Platform.SHOPIFY, topic, "shopify/products_update.json")
    # Then it is the catalogue's product: title, handle, storefront URL, image, prices, variants
    assert isinstance(p, Product)
    assert p.product_id == "8012345678901"
    assert p.title == "Organic Cotton Tee (Heavyweight)"
    assert p.handle == "organic-cotton-tee"
    assert p.url == "https://demo-store.myshopify.com/products/organic-cotton-tee"
    assert p.image is not None and p.image.startswith("https://cdn.shopify.com/")
    assert (p.price, p.compare_at_price, p.currency) == (Decimal("24.00"), Decimal("28.00"), None)
    assert (p.vendor, p.product_type, p.status) == ("Northwind Basics", "T-Shirts", "active")
    assert p.tags == ("cotton", "organic", "summer")
    assert p.variants == (
        ProductVariant(variant_id="44918273645011", sku="OCT-HGR-M", price=Decimal("24.00"), inventory=38),
        ProductVariant(variant_id="44918273645012", sku="OCT-HGR-L", price=Decimal("24.00"), inventory=0),
    )
    assert p.updated_at == datetime(2026, 11, 21, 13, 30, 5, tzinfo=UTC)


def test_a_shopify_product_without_compare_at_price_has_none():
    # Given products/create with null compare-at prices, When parsed, Then no compare-at price
    p = parse(Platform.SHOPIFY, "products/create", "shopify/products_create.json")
    assert isinstance(p, Product)
    assert (p.title, p.price, p.compare_at_price) == ("Organic Cotton Tee", Decimal("28.00"), None)


def test_shopify_products_delete_is_a_deletion_at_the_trigger_time():
    # Given products/delete (only the id), When parsed, Then a deletion stamped with the trigger time
    d = parse(Platform.SHOPIFY, "products/delete", "shopify/products_delete.json", TRIGGERED)
    assert d == ProductDeletion(product_id="8012345678901", at=TRIGGERED)


def test_woocommerce_simple_product_on_sale():
    # Given WooCommerce's product.created body of a simple product on sale, When parsed
    p = parse(Platform.WOOCOMMERCE, "product.created", "woocommerce/product_created.json")
    # Then the sale price is the price, the regular price the compare-at, the product its own variant
    assert isinstance(p, Product)
    assert (p.product_id, p.title, p.handle) == (
        "812",
        "Merino Wool Beanie - Charcoal",
        "merino-wool-beanie-charcoal",
    )
    assert p.url == "https://shop.example.org/product/merino-wool-beanie-charcoal/"
    assert p.image == "https://shop.example.org/wp-content/uploads/2026/09/beanie-charcoal.jpg"
    assert (p.price, p.compare_at_price) == (Decimal("22.00"), Decimal("29.00"))
    assert p.categories == ("Accessories", "Winter") and p.tags == ("wool",)
    assert p.variants == (
        ProductVariant(variant_id="812", sku="MWB-CHAR", price=Decimal("22.00"), inventory=14),
    )
    assert p.updated_at == datetime(2026, 11, 18, 8, 0, tzinfo=UTC)  # date_modified_gmt, UTC


@pytest.mark.parametrize("topic", ["product.updated", "product.restored"])
def test_woocommerce_variable_product(topic):
    # Given a variable product (blank regular and sale prices), When parsed
    p = parse(Platform.WOOCOMMERCE, topic, "woocommerce/product_updated.json")
    # Then its price stands alone and its variations are its variants, by id
    assert isinstance(p, Product)
    assert (p.price, p.compare_at_price) == (Decimal("18.00"), None)
    assert [v.variant_id for v in p.variants] == ["734", "735"]
    assert p.updated_at == datetime(2026, 11, 22, 15, 45, 12, tzinfo=UTC)


def test_woocommerce_product_deleted_is_a_deletion_at_receipt():
    # Given product.deleted (only the id, no trigger time), When parsed, Then a deletion at receipt
    d = parse(Platform.WOOCOMMERCE, "product.deleted", "woocommerce/product_deleted.json")
    assert d == ProductDeletion(product_id="812", at=RECEIVED)


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "field"),
    [
        (Platform.SHOPIFY, "products/update", "shopify/products_update.json", "title"),
        (Platform.SHOPIFY, "products/update", "shopify/products_update.json", "updated_at"),
        (Platform.WOOCOMMERCE, "product.updated", "woocommerce/product_updated.json", "date_modified_gmt"),
        (Platform.WOOCOMMERCE, "product.deleted", "woocommerce/product_deleted.json", "id"),
    ],
)
def test_a_product_body_missing_a_required_field_is_a_payload_error(platform, topic, fixture, field):
    # Given a product body without a required field
    body = json.loads(event_bytes(fixture))
    del body[field]
    # When parsed, Then a payload error names the field (what quarantines the body)
    with pytest.raises(PayloadError) as caught:
        parse(platform, topic, json.dumps(body).encode())
    assert [e["field"] for e in caught.value.errors] == [field]
