"""`patron import products` as a user runs it, on an in-process stage (moto): the source is
connected to a local Shopify / WooCommerce stand-in, the whole catalogue is pulled page by
page into the catalogue store, a re-run changes nothing, and a product a later webhook
updated is not overwritten by an older pull."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from patron.harness import Harness
from tests.cli_runs import run
from tests.conftest import event_bytes
from tests.integration.conftest import SHOP
from tests.storefront_servers import ShopifyServer, WooCommerceServer, shopify_product_node

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TOKEN = "shpat_import_token_0123"
TEE = "8012345678901"  # the product fixtures' id; products_update.json is of 2026-11-21


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def connect_shopify(ws: Any, url: str) -> str:
    source_id = ws.sources["shopify"]["source_id"]
    connected = run(
        "source", "connect", "-w", ws.workspace_id, source_id, "--access-token", TOKEN, "--endpoint", url
    )
    assert connected.exit_code == 0, connected.stderr
    return str(source_id)


def product(stage: Harness, ws: Any, source_id: str, product_id: str) -> dict:
    response = stage.get(ws, f"/products/{source_id}.{product_id}")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def test_a_shopify_catalogue_is_pulled_page_by_page_and_a_rerun_changes_nothing(cli_on, ws):
    with ShopifyServer(TOKEN, "2025-07", products=5, page_size=2).running() as shop:
        source_id = connect_shopify(ws, shop.url)
        # When the operator imports the catalogue, twice
        first = run("import", "products", "-w", ws.workspace_id, "--source", source_id)
        again = run("import", "products", "-w", ws.workspace_id, "--source", source_id)
        queries = [s.body for s in shop.seen]

    # Then the five products came in three pages, each query the documented products query
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {k: summary[k] for k in ("read", "stored", "unchanged", "kept_newer", "rejected")} == {
        "read": 5,
        "stored": 5,
        "unchanged": 0,
        "kept_newer": 0,
        "rejected": 0,
    }
    assert len(queries) == 6
    assert [q["variables"]["after"] is None for q in queries[:3]] == [True, False, False]
    assert all("products(first: 25, after: $after" in q["query"] for q in queries)
    # and each product is in the catalogue with its storefront fields
    p2 = product(cli_on, ws, source_id, "2")
    assert {k: p2[k] for k in ("title", "url", "image", "price", "currency", "status", "tags")} == {
        "title": "Product 2",
        "url": "https://shop.example/products/product-2",
        "image": "https://cdn.shopify.com/p2.jpg",
        "price": "29.50",
        "currency": "EUR",
        "status": "active",
        "tags": ["ceramic", "gift"],
    }
    assert [v["sku"] for v in p2["variants"]] == ["SKU-2-1", "SKU-2-2"]
    assert [v["id"] for v in p2["variants"]] == ["201", "202"]
    # an unpublished product's page is the shop's /products/<handle>
    assert product(cli_on, ws, source_id, "1")["url"] == f"https://{SHOP}/products/product-1"
    # and the re-run stored nothing new
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == 5
    assert json.loads(again.stdout)["stored"] == 0


def test_a_product_a_later_webhook_updated_is_not_overwritten_by_an_older_pull(cli_on, ws):
    # Given the tee as the store's webhook sent it on 2026-11-21 (a newer title)
    response = cli_on.send(ws, "shopify", "products/update", event_bytes("shopify/products_update.json"))
    assert response.status_code == 200, response.body
    with ShopifyServer(TOKEN, "2025-07", products=0).running() as shop:
        stale = shopify_product_node(1, updated_at="2026-11-01T10:00:00Z") | {
            "id": f"gid://shopify/Product/{TEE}",
            "title": "Old tee title",
        }
        fresh = shopify_product_node(7, updated_at="2026-11-25T10:00:00Z")
        shop.products = [stale, fresh]
        source_id = connect_shopify(ws, shop.url)
        # When a pull lists the tee as it was before the webhook, and a product changed since
        result = run("import", "products", "-w", ws.workspace_id, "--source", source_id)

    # Then the webhook's newer tee is kept and the other product is stored
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["stored"], summary["kept_newer"]) == (1, 1)
    assert product(cli_on, ws, source_id, TEE)["title"] == "Organic Cotton Tee (Heavyweight)"
    assert product(cli_on, ws, source_id, "7")["title"] == "Product 7"


def test_a_woocommerce_catalogue_is_read_through_every_page(cli_on, ws):
    source_id = ws.sources["woocommerce"]["source_id"]
    with WooCommerceServer("ck_import_key", "cs_import_secret", products=102).running() as woo:
        connected = run(
            "source", "connect", "-w", ws.workspace_id, source_id,
            "--consumer-key", "ck_import_key", "--consumer-secret", "cs_import_secret", "--endpoint", woo.url,
        )  # fmt: skip
        assert connected.exit_code == 0, connected.stderr
        # When its products are imported
        result = run("import", "products", "-w", ws.workspace_id, "--source", source_id)
        pages = [s.query.get("page") for s in woo.seen if s.path == "/wp-json/wc/v3/products"]

    # Then both pages of 100 were read and every product stored, on sale with its regular price
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stored"] == 102
    assert pages == ["1", "2"]
    p = product(cli_on, ws, source_id, "102")
    assert (p["title"], p["price"], p["compare_at_price"], p["categories"]) == (
        "Woo product 102",
        "12.00",
        "15.00",
        ["Clothing"],
    )


def test_a_source_without_admin_api_credentials_is_refused_in_one_line(cli_on, ws):
    # When the products of a source never connected are imported
    source_id = ws.sources["shopify"]["source_id"]
    result = run("import", "products", "-w", ws.workspace_id, "--source", source_id)
    # Then one line says how to connect it
    assert result.exit_code == 1
    assert result.stderr == f"error: source {source_id} is not connected: run `patron source connect`\n"


def test_a_record_that_does_not_parse_is_rejected_with_its_reason_and_the_rest_imported(cli_on, ws):
    with ShopifyServer(TOKEN, "2025-07", products=3).running() as shop:
        shop.products[1] = shop.products[1] | {"updatedAt": "2026-11-01T10:00:00"}  # no zone
        source_id = connect_shopify(ws, shop.url)
        # When the catalogue with one unreadable product is imported
        result = run("import", "products", "-w", ws.workspace_id, "--source", source_id)

    # Then the other two are stored and the bad one is named with why
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["stored"], summary["rejected"]) == (2, 1)
    (reason,) = summary["reasons"]
    assert reason.startswith("product gid://shopify/Product/2: ") and "updatedAt" in reason
