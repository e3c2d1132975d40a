"""`patron import products FILE --format ...` as a user runs it, on an in-process stage (moto):
a Shopify products export keyed by handle beside the webhooks' numeric products (no double in
a customer's view), a bulk file's tee kept when its webhook is newer, WooCommerce pages, and a
file of another platform's source refused (docs/import.md#products)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from patron.harness import Harness
from tests.cli_runs import run
from tests.conftest import event_bytes

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TEE = "8012345678901"  # the order and product fixtures' tee
IMPORTS = Path(__file__).resolve().parents[2] / "events" / "import"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def imported(ws: Any, platform: str, fmt: str, fixture: str) -> dict[str, Any]:
    source_id = ws.sources[platform]["source_id"]
    file = str(IMPORTS / fixture)
    result = run("import", "products", file, "-w", ws.workspace_id, "--source", source_id, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def counts(summary: dict[str, Any]) -> tuple[int, ...]:
    return tuple(summary[k] for k in ("read", "stored", "unchanged", "kept_newer", "rejected"))


def product(stage: Harness, ws: Any, platform: str, product_id: str) -> dict[str, Any]:
    response = stage.get(ws, f"/products/{ws.sources[platform]['source_id']}.{product_id}")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def send(stage: Harness, ws: Any, topic: str, fixture: str) -> None:
    response = stage.send(ws, "shopify", topic, event_bytes(fixture))
    assert response.status_code == 200, response.body


def test_a_shopify_products_export_is_keyed_by_handle_and_a_webhook_product_is_not_doubled(cli_on, ws):
    # Given a customer's order of the tee and the tee's product webhook (numeric ids)
    send(cli_on, ws, "orders/create", "shopify/orders_create.json")
    send(cli_on, ws, "products/update", "shopify/products_update.json")
    cli_on.drain()
    # When the store's products export is imported, twice
    first = imported(ws, "shopify", "shopify-products-csv", "shopify_products_export.csv")
    again = imported(ws, "shopify", "shopify-products-csv", "shopify_products_export.csv")

    # Then its two products are stored by handle and the re-run changed nothing
    assert counts(first) == (2, 2, 0, 0, 0)
    assert counts(again) == (2, 0, 2, 0, 0)
    tee = product(cli_on, ws, "shopify", "handle:organic-cotton-tee")
    assert (tee["title"], tee["price"], [v["id"] for v in tee["variants"]]) == (
        "Organic Cotton Tee",
        "29.00",
        ["M / Black", "L / Black"],
    )
    # and the webhook's tee is untouched, the one the customer's view names, once
    assert product(cli_on, ws, "shopify", TEE)["title"] == "Organic Cotton Tee (Heavyweight)"
    found = cli_on.get(ws, "/customers?email=jane.doe@example.com")
    (profile,) = json.loads(found.body)["customers"]
    details = profile["product_details"]
    assert [d["title"] for d in details if d["id"] == TEE] == ["Organic Cotton Tee (Heavyweight)"]
    assert not any(d["id"].startswith("handle:") for d in details)


def test_a_bulk_file_keeps_a_newer_webhook_product_and_stores_the_rest(cli_on, ws):
    # Given the tee as its webhook sent it on 2026-11-21 (the bulk file's tee is of 11-20)
    send(cli_on, ws, "products/update", "shopify/products_update.json")
    # When the bulk operation's products are imported
    summary = imported(ws, "shopify", "shopify-bulk-jsonl", "shopify_bulk_products.jsonl")
    # Then the webhook's tee is kept and the mug stored by its numeric id
    assert counts(summary) == (2, 1, 0, 1, 0)
    assert product(cli_on, ws, "shopify", TEE)["title"] == "Organic Cotton Tee (Heavyweight)"
    assert product(cli_on, ws, "shopify", "8012345678902")["status"] == "draft"


def test_woocommerce_product_pages_are_imported_and_another_platforms_file_refused(cli_on, ws):
    # When WooCommerce product pages are imported into the WooCommerce source
    summary = imported(ws, "woocommerce", "woocommerce-products-json", "woocommerce_products.json")
    # Then both products are stored, the candle on sale
    assert counts(summary) == (2, 2, 0, 0, 0)
    candle = product(cli_on, ws, "woocommerce", "812")
    assert (candle["price"], candle["compare_at_price"]) == ("9.00", "12.00")
    # When the same file is given for the Shopify source, or a file without its format
    shopify = ws.sources["shopify"]["source_id"]
    file = str(IMPORTS / "woocommerce_products.json")
    wrong = run("import", "products", file, "-w", ws.workspace_id, "--source", shopify, "--format",
                "woocommerce-products-json")  # fmt: skip
    bare = run("import", "products", file, "-w", ws.workspace_id, "--source", shopify)
    # Then each is refused in one line
    assert wrong.exit_code == 1
    assert (
        wrong.stderr
        == f"error: woocommerce-products-json is a woocommerce export: source {shopify} is shopify\n"
    )
    assert bare.exit_code == 1
    assert bare.stderr == "error: a products file needs --format, and --format a FILE\n"
