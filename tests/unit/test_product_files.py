"""Catalogue export files imported (docs/import.md#products): Shopify's products CSV keyed by
handle, a bulk operation's JSONL and WooCommerce REST pages read as the Admin API pull reads
its records, through the pull's engine (versions, duplicates, rejected records)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.catalogue_import import CatalogueImport, ImportSummary
from chalicelib.domain.models import Delivery, Platform, Source
from chalicelib.parsers.admin_products import shopify_node, woo_item
from chalicelib.parsers.product_files import FILE_TIME, product_file
from chalicelib.parsers.products import parse_shopify_product
from tests.unit.fake_catalogue import FakeCatalogue

EVENTS = Path(__file__).resolve().parents[2] / "events"
CSV = (EVENTS / "import" / "shopify_products_export.csv").read_bytes()
BULK = (EVENTS / "import" / "shopify_bulk_products.jsonl").read_bytes()
WOO = (EVENTS / "import" / "woocommerce_products.json").read_bytes()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WS, SHOP = "ws_1", "shop.example"


def source(platform: Platform = Platform.SHOPIFY) -> Source:
    return Source.model_validate(
        {
            "workspace_id": WS,
            "source_id": f"src_{platform}",
            "platform": platform,
            "shop_domain": SHOP,
            "secret_ref": "s",
        }
    )


def delivery(platform: Platform = Platform.SHOPIFY) -> Delivery:
    return Delivery(
        workspace_id=WS,
        source_id=f"src_{platform}",
        platform=platform,
        topic="products/import",
        received_at=NOW,
        shop_domain=SHOP,
    )


def run(
    catalogue: FakeCatalogue, fmt: str, data: bytes, platform: Platform = Platform.SHOPIFY
) -> ImportSummary:
    records, parse = product_file(fmt, data)
    return CatalogueImport(catalogue, {}, lambda: NOW).run(source(platform), records, parse)


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    return summary.read, summary.stored, summary.unchanged, summary.kept_newer, summary.rejected


def stored(catalogue: FakeCatalogue, product_id: str, platform: Platform = Platform.SHOPIFY) -> Any:
    found = catalogue.product(WS, f"src_{platform}", product_id)
    assert found is not None and found.product is not None, product_id
    return found.product


def test_a_shopify_csv_is_one_product_per_handle_keyed_by_it_and_a_rerun_changes_nothing():
    # Given Shopify's products export: a tee of two variants and an extra image row, a mug
    catalogue = FakeCatalogue()
    # When it is imported twice
    first, again = run(catalogue, "shopify-products-csv", CSV), run(catalogue, "shopify-products-csv", CSV)
    # Then two products were stored, keyed by handle, and the re-run was all duplicates
    assert counts(first) == (2, 2, 0, 0, 0)
    assert counts(again) == (2, 0, 2, 0, 0)
    tee = stored(catalogue, "handle:organic-cotton-tee")
    assert (tee.title, tee.handle, tee.url) == (
        "Organic Cotton Tee",
        "organic-cotton-tee",
        f"https://{SHOP}/products/organic-cotton-tee",
    )
    # the cheapest variant's price, its compare-at; the first image; the first row's fields
    assert (str(tee.price), str(tee.compare_at_price)) == ("29.00", "35.00")
    assert tee.image == "https://cdn.shopify.com/s/files/1/tee-front.jpg"
    assert (tee.vendor, tee.product_type, tee.status) == ("Northwind Basics", "T-Shirts", "active")
    assert tee.categories == ("Apparel & Accessories > Clothing > Shirts & Tops",)
    assert tee.tags == ("cotton", "organic", "summer")
    # each variant row by its option values (the image row is no variant), no update time
    assert [(v.variant_id, v.sku, str(v.price), v.inventory) for v in tee.variants] == [
        ("M / Black", "TEE-M-BLK", "29.00", 12),
        ("L / Black", "TEE-L-BLK", "31.00", 0),
    ]
    assert tee.updated_at == FILE_TIME
    mug = stored(catalogue, "handle:stoneware-mug")
    assert (mug.status, mug.compare_at_price, [v.variant_id for v in mug.variants]) == (
        "draft",
        None,
        ["Default Title"],
    )


def test_a_changed_csv_replaces_its_products_and_bad_rows_are_rejected_with_their_column():
    # Given the export imported once
    catalogue = FakeCatalogue()
    run(catalogue, "shopify-products-csv", CSV)
    # When a later export renames the mug, has a row without a handle and a price that is no number
    text = CSV.decode().replace("Stoneware Mug,", "Stoneware Mug 400 ml,")
    text += ",Lost row,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n"
    text += "broken-price,Broken,,,,,,,,,,,,,,,,B-1,,,,,,twelve,,,,,,,,,,,,,,,active\n"
    summary = run(catalogue, "shopify-products-csv", text.encode())
    # Then the mug is replaced, the tee unchanged, and the two bad records named with why
    assert counts(summary) == (4, 1, 1, 0, 2)
    assert stored(catalogue, "handle:stoneware-mug").title == "Stoneware Mug 400 ml"
    assert summary.reasons[0] == "line 6: Handle: missing"
    assert summary.reasons[1].startswith("product broken-price: ") and "Variant Price: " in summary.reasons[1]
    assert "twelve" not in summary.reasons[1]


def test_a_file_without_a_handle_column_is_one_rejected_record():
    # When a customers export is given as a products export
    summary = run(FakeCatalogue(), "shopify-products-csv", b"Customer ID,First Name\n1,Ann\n")
    # Then nothing is stored and the reason names the missing column
    assert counts(summary) == (1, 0, 0, 0, 1)
    assert summary.reasons == ["line 1: Handle: the header has no such column (a products export?)"]


def bulk_nodes() -> list[dict[str, Any]]:
    """The bulk file's lines as the pull's GraphQL nodes: variants nested as `nodes`."""
    nodes: list[dict[str, Any]] = []
    for line in BULK.splitlines():
        node = json.loads(line)
        parent = node.pop("__parentId", None)
        if parent is None:
            nodes.append(node | {"variants": {"nodes": []}})
        else:
            nodes[-1]["variants"]["nodes"].append(node)
    return nodes


def test_a_bulk_jsonl_product_is_the_product_the_admin_api_pull_makes():
    # Given a bulk operation's products with their variants on lines of their own
    catalogue = FakeCatalogue()
    # When it is imported
    summary = run(catalogue, "shopify-bulk-jsonl", BULK)
    # Then each product is stored by its numeric id, exactly as the pull reads the same node
    assert counts(summary) == (2, 2, 0, 0, 0)
    for node in bulk_nodes():
        expected = shopify_node(node, delivery())
        assert stored(catalogue, expected.product_id) == expected
    assert [v.variant_id for v in stored(catalogue, "8012345678901").variants] == [
        "44918273645011",
        "44918273645012",
    ]


def test_a_bulk_product_a_later_webhook_updated_is_kept_and_bad_lines_are_rejected():
    # Given the tee as its webhook sent it on 2026-11-21 (the bulk file's tee is of 11-20)
    catalogue = FakeCatalogue()
    body = (EVENTS / "shopify" / "products_update.json").read_bytes()
    hook = parse_shopify_product(body, delivery().model_copy(update={"topic": "products/update"}))
    catalogue.save(delivery().model_copy(update={"body_hash": "webhook"}), hook)  # type: ignore[arg-type]
    # When the bulk file, with a line that is no JSON and a variant of no product, is imported
    orphan = b'{"id":"gid://shopify/ProductVariant/9","__parentId":"gid://shopify/Product/1"}'
    lines = BULK.splitlines()
    summary = run(catalogue, "shopify-bulk-jsonl", b"\n".join([b"{oops", orphan, *lines]))
    # Then the webhook's tee is kept, the mug stored, and both bad lines named
    assert counts(summary) == (4, 1, 0, 1, 2)
    assert stored(catalogue, "8012345678901").title == "Organic Cotton Tee (Heavyweight)"
    assert summary.reasons == [
        "line 1: not a JSON object",
        "line 2: __parentId: no product with this id before it",
    ]


def test_woocommerce_pages_are_read_as_the_pull_reads_each_item_in_every_layout():
    items = [item for page in json.loads(WOO) for item in page]
    one_page = json.dumps(items).encode()
    per_line = b"\n".join(json.dumps([item]).encode() for item in items)
    for data in (WOO, one_page, per_line):
        # When the pages are imported: an array of pages, one page, one page per line
        catalogue = FakeCatalogue()
        summary = run(catalogue, "woocommerce-products-json", data, Platform.WOOCOMMERCE)
        # Then every item is the product the pull's parser makes of it
        assert counts(summary) == (2, 2, 0, 0, 0)
        for item in items:
            expected = woo_item(item, delivery(Platform.WOOCOMMERCE))
            assert stored(catalogue, expected.product_id, Platform.WOOCOMMERCE) == expected
    assert stored(catalogue, "812", Platform.WOOCOMMERCE).compare_at_price is not None


def test_a_woocommerce_line_that_is_not_a_page_is_rejected_and_the_rest_read():
    # When a pages file has a line that is an object, not a page
    items = [item for page in json.loads(WOO) for item in page]
    data = b"\n".join([json.dumps([items[0]]).encode(), b'{"id": 1}', json.dumps([items[1]]).encode()])
    summary = run(FakeCatalogue(), "woocommerce-products-json", data, Platform.WOOCOMMERCE)
    # Then that line is the second record, rejected with why
    assert counts(summary) == (3, 2, 0, 0, 1)
    assert summary.reasons == ["record 2: not a page (a JSON array of records)"]
