"""Products by webhook through the real Chalice app on moto: signed deliveries land in the
catalogue (newer wins, a deletion keeps the name), never in the ingest table or a profile,
and the customer view names the products a profile bought."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from patron import operations
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes, load_event

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TEE = "8012345678901"  # the Shopify order fixture's product, and the product fixtures'


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def trigger(at: str) -> dict[str, str]:
    return {"X-Shopify-Triggered-At": at}


def send(stage: Harness, ws: Workspace, platform: str, topic: str, body: bytes, at: str | None = None) -> str:
    response = stage.send(ws, platform, topic, body, headers=trigger(at) if at else None)
    assert response.status_code == 200, response.body
    return str(json.loads(response.body)["status"])


def customer(stage: Harness, ws: Workspace) -> dict:
    response = stage.get(ws, "/customers?email=jane.doe@example.com")
    assert response.status_code == 200, response.body
    (profile,) = json.loads(response.body)["customers"]
    return profile


def named(profile: dict, product_id: str) -> dict:
    return next(p for p in profile["product_details"] if p["id"] == product_id)


def ingest_items(stage: Harness) -> list[dict]:
    return stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]


def test_a_signed_product_names_what_the_customer_bought(stage, ws):
    # Given a customer who bought the tee (by its product id and its SKU)
    send(stage, ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    before = customer(stage, ws)
    assert named(before, TEE) == {"id": TEE, "title": None, "url": None, "image": None, "deleted": False}
    ingest_before = ingest_items(stage)
    # When the store sends the product, created then updated
    assert (
        send(stage, ws, "shopify", "products/create", event_bytes("shopify/products_create.json")) == "stored"
    )
    assert (
        send(stage, ws, "shopify", "products/update", event_bytes("shopify/products_update.json")) == "stored"
    )
    stage.drain()
    # Then the customer view names it, with its page and picture; a SKU stays an id
    after = customer(stage, ws)
    tee = named(after, TEE)
    assert tee["title"] == "Organic Cotton Tee (Heavyweight)"
    assert tee["url"] == "https://demo-store.myshopify.com/products/organic-cotton-tee"
    assert tee["image"].startswith("https://cdn.shopify.com/")
    assert named(after, "OCT-HGR-M")["title"] is None
    # And the products touched no ingest item (so no ingest stream record) and no profile
    assert ingest_items(stage) == ingest_before
    assert {k: v for k, v in after.items() if k != "product_details"} == {
        k: v for k, v in before.items() if k != "product_details"
    }


def test_a_redelivered_or_late_product_update_changes_nothing(stage, ws):
    # Given the product's latest state stored
    update = event_bytes("shopify/products_update.json")
    assert send(stage, ws, "shopify", "products/update", update) == "stored"
    # When Shopify redelivers it, Then it is a duplicate
    assert send(stage, ws, "shopify", "products/update", update) == "duplicate"
    # When the older products/create arrives after it (out of order), Then it is stale
    assert (
        send(stage, ws, "shopify", "products/create", event_bytes("shopify/products_create.json")) == "stale"
    )
    # And the stored name is still the newer one
    send(stage, ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    assert named(customer(stage, ws), TEE)["title"] == "Organic Cotton Tee (Heavyweight)"


def test_a_deleted_product_keeps_its_last_name(stage, ws):
    # Given a stored product and a customer who bought it
    send(stage, ws, "shopify", "products/update", event_bytes("shopify/products_update.json"))
    send(stage, ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # When the store deletes it
    deleted = event_bytes("shopify/products_delete.json")
    assert send(stage, ws, "shopify", "products/delete", deleted, at="2026-11-26T09:00:00.000Z") == "stored"
    # Then the customer view still names it, marked deleted
    tee = named(customer(stage, ws), TEE)
    assert (tee["title"], tee["deleted"]) == ("Organic Cotton Tee (Heavyweight)", True)


def test_a_woocommerce_product_is_stored(stage, ws):
    # Given WooCommerce's product.created, When it is delivered twice
    body = event_bytes("woocommerce/product_created.json")
    # Then it is stored once, then a duplicate
    assert send(stage, ws, "woocommerce", "product.created", body) == "stored"
    assert send(stage, ws, "woocommerce", "product.created", body) == "duplicate"
    (entry,) = stage.container.catalogue.products(
        ws.workspace_id, [(ws.sources["woocommerce"]["source_id"], "812")]
    )
    assert entry.title == "Merino Wool Beanie - Charcoal"


def test_a_bad_product_body_is_quarantined_and_replayable(stage, ws):
    # Given a signed products/update without its title
    product = load_event("shopify/products_update.json")
    del product["title"]
    response = stage.send(ws, "shopify", "products/update", json.dumps(product).encode())
    # Then it is refused with the field named, and kept
    assert response.status_code == 400
    body = json.loads(response.body)
    assert [e["field"] for e in body["details"]] == ["title"]
    (entry,) = stage.container.quarantine.page(ws.workspace_id)[0]
    assert entry["headers"]["x-shopify-topic"] == "products/update"
    # When it is replayed with the fixed body, Then the product is stored
    fixed = event_bytes("shopify/products_update.json")
    result = operations.replay_quarantined(stage.container, ws.workspace_id, body["quarantine_id"], fixed)
    assert result.status == "stored"
    source = ws.sources["shopify"]["source_id"]
    (stored,) = stage.container.catalogue.products(ws.workspace_id, [(source, TEE)])
    assert stored.title == "Organic Cotton Tee (Heavyweight)"


def test_get_product_shows_the_stored_product(stage, ws):
    # Given the tee stored from products/update
    send(stage, ws, "shopify", "products/update", event_bytes("shopify/products_update.json"))
    source = ws.sources["shopify"]["source_id"]
    # When it is fetched by its public id
    response = stage.get(ws, f"/products/{source}.{TEE}")
    # Then every field is there, money as text
    assert response.status_code == 200, response.body
    p = json.loads(response.body)
    assert (p["id"], p["title"], p["price"], p["compare_at_price"]) == (
        f"{source}.{TEE}",
        "Organic Cotton Tee (Heavyweight)",
        "24.00",
        "28.00",
    )
    assert p["variants"][0] == {"id": "44918273645011", "sku": "OCT-HGR-M", "price": "24.00", "inventory": 38}
    assert (p["deleted"], p["updated_at"]) == (False, "2026-11-21T13:30:05.000000Z")
    # And an unknown product is 404
    assert stage.get(ws, f"/products/{source}.1").status_code == 404
    assert stage.get(ws, "/products/no-dot").status_code == 404
