"""Catalogue contract: DynamoCatalogueStore on moto and the fake (tests/unit/fake_catalogue.py)
keep one product per workspace, source and id, written only over an older version; a
deletion keeps the last known title, URL and image."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.adapters.catalogue_store import DynamoCatalogueStore, product_fields, product_of
from chalicelib.domain.catalogue import CatalogueEntry, StoredProduct
from chalicelib.domain.models import Delivery, Platform, Product, ProductDeletion, ProductVariant
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_catalogue import FakeCatalogue

__all__ = ["moto_stage"]

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoCatalogueStore:
    return DynamoCatalogueStore(stage.crm)


catalogue = port_fixture(FakeCatalogue, _dynamo)


def delivery(body_hash: str, source: str = "src_1", ws: str = "ws_1", at: datetime = T0) -> Delivery:
    return Delivery(
        workspace_id=ws,
        source_id=source,
        platform=Platform.SHOPIFY,
        topic="products/update",
        received_at=at,
        body_hash=body_hash,
    )


def product(title: str, updated: datetime, pid: str = "42") -> Product:
    return Product(
        product_id=pid,
        title=title,
        handle="mug",
        url="https://demo.example/products/mug",
        image="https://cdn.example/mug.png",
        price=Decimal("12.50"),
        compare_at_price=Decimal("15.00"),
        vendor="Acme",
        product_type="Mugs",
        tags=("kitchen", "gift"),
        status="active",
        variants=(ProductVariant(variant_id="7", sku="MUG-1", price=Decimal("12.50"), inventory=3),),
        updated_at=updated,
    )


def entry(title: str | None, deleted: bool = False, pid: str = "42", source: str = "src_1") -> CatalogueEntry:
    return CatalogueEntry(
        source_id=source,
        product_id=pid,
        title=title,
        url="https://demo.example/products/mug",
        image="https://cdn.example/mug.png",
        deleted=deleted,
    )


def test_a_newer_version_wins_and_an_older_one_is_ignored(catalogue):
    # Given a product stored at T0 + 1 h
    assert catalogue.save(delivery("b1"), product("Mug", T0 + timedelta(hours=1))) == "stored"
    # When an older state arrives late, Then it is stale and changes nothing
    assert catalogue.save(delivery("b0"), product("Old mug", T0)) == "stale"
    assert catalogue.products("ws_1", [("src_1", "42")]) == [entry("Mug")]
    # When a newer state arrives, Then it wins
    assert catalogue.save(delivery("b2"), product("Big mug", T0 + timedelta(hours=2))) == "stored"
    assert catalogue.products("ws_1", [("src_1", "42")]) == [entry("Big mug")]


def test_the_same_delivery_again_is_a_duplicate(catalogue):
    # Given a stored product, When the same body is delivered again, Then nothing changes
    assert catalogue.save(delivery("b1"), product("Mug", T0)) == "stored"
    assert catalogue.save(delivery("b1"), product("Mug", T0)) == "duplicate"
    assert catalogue.products("ws_1", [("src_1", "42")]) == [entry("Mug")]


def test_a_deletion_keeps_the_last_known_name(catalogue):
    # Given a stored product
    catalogue.save(delivery("b1"), product("Mug", T0))
    # When it is deleted later, Then it is marked deleted and keeps its title, URL and image
    gone = ProductDeletion(product_id="42", at=T0 + timedelta(days=1))
    assert catalogue.delete(delivery("d1", at=T0 + timedelta(days=1)), gone) == "stored"
    assert catalogue.products("ws_1", [("src_1", "42")]) == [entry("Mug", deleted=True)]
    # And an update older than the deletion, arriving after it, does not bring it back
    assert catalogue.save(delivery("b2"), product("Mug v2", T0 + timedelta(hours=5))) == "stale"
    assert catalogue.products("ws_1", [("src_1", "42")]) == [entry("Mug", deleted=True)]


def test_products_are_read_per_workspace_and_source(catalogue):
    # Given the same product id in two sources and another workspace
    catalogue.save(delivery("b1"), product("Mug", T0))
    catalogue.save(delivery("b2", source="src_2"), product("Cup", T0))
    catalogue.save(delivery("b3", ws="ws_2"), product("Other", T0))
    # When the products of ws_1 are read (one unknown id among them)
    found = catalogue.products("ws_1", [("src_1", "42"), ("src_2", "42"), ("src_1", "404")])
    # Then each source's own product comes back, the unknown id is absent
    assert sorted(found, key=lambda e: e.source_id) == [entry("Mug"), entry("Cup", source="src_2")]
    assert catalogue.products("ws_1", []) == []


def test_the_product_item_maps_both_ways():
    # Given a product, When it is mapped to its item's fields and back, Then it is the same product
    p = product("Mug", T0)
    assert product_of(product_fields(p)) == p


def test_one_product_is_read_whole_deleted_or_not(catalogue):
    # Given a stored product, and a deletion of a product never seen
    p = product("Mug", T0)
    catalogue.save(delivery("b1"), p)
    gone = ProductDeletion(product_id="99", at=T0 + timedelta(days=1))
    catalogue.delete(delivery("d1", at=T0 + timedelta(days=1)), gone)
    # When each is read, Then the first is the product as sent, the second a bare deletion
    assert catalogue.product("ws_1", "src_1", "42") == StoredProduct(
        source_id="src_1", product_id="42", product=p
    )
    assert catalogue.product("ws_1", "src_1", "99") == StoredProduct(
        source_id="src_1", product_id="99", deleted_at="2026-11-28T12:00:00.000000Z"
    )
    # And an unknown product, or one of another workspace, is not found
    assert catalogue.product("ws_1", "src_1", "404") is None
    assert catalogue.product("ws_2", "src_1", "42") is None


def test_stored_products_are_read_whole_in_one_batch_deleted_ones_too(catalogue):
    # Given a product in two sources, one deleted, and another only in one
    catalogue.save(delivery("b1"), product("Mug", T0))
    catalogue.save(delivery("b2", source="src_2"), product("Mug two", T0))
    catalogue.delete(
        delivery("d1", source="src_2"), ProductDeletion(product_id="42", at=T0 + timedelta(hours=1))
    )
    catalogue.save(delivery("b3"), product("Cup", T0, pid="43"))
    # When read whole for the pairs, an unknown one among them
    refs = [("src_1", "42"), ("src_2", "42"), ("src_1", "43"), ("src_2", "43"), ("src_1", "42")]
    found = {(s.source_id, s.product_id): s for s in catalogue.stored_products("ws_1", refs)}
    # Then each known pair once, with its product, price, status and stock; the deletion marked
    assert sorted(found) == [("src_1", "42"), ("src_1", "43"), ("src_2", "42")]
    mug = found[("src_1", "42")]
    assert mug.product == product("Mug", T0) and mug.deleted_at is None
    assert found[("src_2", "42")].deleted_at is not None
    assert found[("src_2", "42")].product is not None and found[("src_2", "42")].product.title == "Mug two"
    assert catalogue.stored_products("ws_1", []) == []
    assert catalogue.stored_products("ws_other", refs) == []
