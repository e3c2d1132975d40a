"""Catalogue export files as `patron import products FILE --format ...` records
(docs/import.md#products): each format gives records and the parser that makes each one
the catalogue's `Product`, for domain/catalogue_import.py's engine.

`shopify-products-csv`: Shopify's products export (Admin > Products > Export): one row per
variant, plus a row per extra image, grouped by `Handle`, the product's fields on its first
row. The export carries no product or variant id, so the product is keyed `handle:<handle>`
(docs/import.md#products says why the webhooks cannot meet it) and each variant by its
option values (`Red / M`, Shopify's variant title; `Default Title` for a single variant). It
has no update time either: its products are stamped FILE_TIME, so the same file again is a
duplicate and a changed one replaces them.
`shopify-bulk-jsonl`: a bulk operation over `products` with `variants` as a nested
connection (its lines linked by `__parentId`), each Product node read as parsers/
admin_products.py's `shopify_node` reads a GraphQL node (the webhooks' numeric ids).
`woocommerce-products-json`: `GET /wc/v3/products` pages (one array, an array of pages or
one page per line), each item read by `woo_item` (the product webhook's parser).

A record that cannot be read (not JSON, a row without a handle, a variant before its
product) carries REF and REJECTED: the format's parser refuses it with that reason.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError

from chalicelib.domain.catalogue_import import REF, RecordParser
from chalicelib.domain.models import Delivery, Product, ProductVariant
from chalicelib.parsers.admin_products import shopify_node, woo_item
from chalicelib.parsers.products import _M, Price, _blank_none
from chalicelib.parsers.shopify_bulk import gid
from chalicelib.parsers.woocommerce_rest import NotAPage, pages_of

PRODUCT_FORMATS = ("shopify-products-csv", "shopify-bulk-jsonl", "woocommerce-products-json")
PLATFORM_OF = {  # the platform whose source a format's products belong to
    "shopify-products-csv": "shopify",
    "shopify-bulk-jsonl": "shopify",
    "woocommerce-products-json": "woocommerce",
}
REJECTED = "_rejected"
HANDLE_KEY = "handle:"  # a CSV product's id: the export has no numeric one
FILE_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # a CSV product's `updated_at`: the export has none

Records = Iterator[dict[str, Any]]


def _refused(ref: str, reason: str) -> dict[str, Any]:
    return {REF: ref, REJECTED: reason}


def _checked(parse: RecordParser) -> RecordParser:
    """`parse`, refusing a record the file reader already found unreadable."""

    def read(record: Mapping[str, Any], delivery: Delivery) -> Product:
        if REJECTED in record:
            raise ValueError(record[REJECTED])
        return parse(record, delivery)

    return read


# -- Shopify products CSV ----------------------------------------------------------------
Count = Annotated[int | None, BeforeValidator(_blank_none)]


class _CsvRow(_M):
    """The columns read, by their export names; blank cells are None."""

    title: str | None = None
    vendor: str | None = None
    category: str | None = None
    type: str | None = None
    tags: str | None = None
    status: str | None = None
    options: tuple[str, ...] = ()
    sku: str | None = None
    inventory: Count = None
    price: Price = None
    compare_at_price: Price = None
    image: str | None = None
    image_position: Count = None


COLUMNS = {
    "Title": "title",
    "Vendor": "vendor",
    "Product Category": "category",
    "Type": "type",
    "Tags": "tags",
    "Status": "status",
    "Variant SKU": "sku",
    "Variant Inventory Qty": "inventory",
    "Variant Price": "price",
    "Variant Compare At Price": "compare_at_price",
    "Image Src": "image",
    "Image Position": "image_position",
}
OPTION_VALUES = ("Option1 Value", "Option2 Value", "Option3 Value")
VARIANT_COLUMNS = ("Variant SKU", "Variant Price", "Variant Inventory Qty", *OPTION_VALUES)


def _row(raw: Mapping[str, Any]) -> _CsvRow:
    cells = {name: (raw.get(column) or "").strip() or None for column, name in COLUMNS.items()}
    options = tuple(v for c in OPTION_VALUES if (v := (raw.get(c) or "").strip()))
    try:
        return _CsvRow.model_validate(cells | {"options": options})
    except ValidationError as exc:  # the export's column names and the rules, not the cells
        columns = {name: column for column, name in COLUMNS.items()}
        why = (f"{columns.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors())
        raise ValueError("; ".join(why)) from None


def _csv_records(data: bytes) -> Records:
    """Rows grouped by Handle, in the file's order; `lines` are the rows' line numbers."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if "Handle" not in (reader.fieldnames or ()):
        yield _refused("line 1", "Handle: the header has no such column (a products export?)")
        return
    groups: dict[str, dict[str, Any]] = {}
    for raw in reader:
        line = reader.line_num
        handle = (raw.get("Handle") or "").strip()
        if not handle:
            yield _refused(f"line {line}", "Handle: missing")
            continue
        group = groups.setdefault(handle, {"handle": handle, REF: f"product {handle}", "rows": []})
        group["rows"].append(raw)
    yield from groups.values()


def shopify_csv_product(record: Mapping[str, Any], delivery: Delivery) -> Product:
    handle = str(record["handle"])
    raws = record["rows"]
    rows = [_row(r) for r in raws]
    first = rows[0]
    if not first.title:
        raise ValueError("Title: missing on the product's first row")
    variants = [
        (row, " / ".join(row.options) or "Default Title")
        for raw, row in zip(raws, rows, strict=True)
        if any((raw.get(c) or "").strip() for c in VARIANT_COLUMNS)
    ]
    priced = [row for row, _ in variants if row.price is not None]
    cheapest = min(priced, key=lambda r: r.price or 0) if priced else None
    images = sorted((r for r in rows if r.image), key=lambda r: r.image_position or 0)
    compare = cheapest.compare_at_price if cheapest else None
    return Product(
        product_id=f"{HANDLE_KEY}{handle}",
        title=first.title[:200],
        handle=handle,
        url=f"https://{delivery.shop_domain}/products/{handle}" if delivery.shop_domain else None,
        image=images[0].image if images else None,
        price=cheapest.price if cheapest else None,
        compare_at_price=compare if compare else None,
        vendor=first.vendor,
        product_type=first.type,
        categories=(first.category,) if first.category else (),
        tags=tuple(t.strip() for t in (first.tags or "").split(",") if t.strip()),
        status=first.status.lower() if first.status else None,
        variants=tuple(
            ProductVariant(variant_id=title, sku=row.sku, price=row.price, inventory=row.inventory)
            for row, title in variants
        ),
        updated_at=FILE_TIME,
    )


# -- Shopify bulk operation JSONL --------------------------------------------------------
def _bulk_records(data: bytes) -> Records:
    """Each Product node with its ProductVariant lines gathered as `variants.nodes`."""
    current: dict[str, Any] | None = None
    for line, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            node = json.loads(raw)
        except ValueError:
            node = None
        if not isinstance(node, dict):
            yield _refused(f"line {line}", "not a JSON object")
            continue
        kind = (gid(node.get("id")) or ("", 0))[0]
        parent = node.get("__parentId")
        if parent is None:
            if current is not None:
                yield current
            current = None
            if kind != "Product":
                yield _refused(f"line {line}", "id: not a gid://shopify/Product/ node")
                continue
            current = node | {REF: f"product {node['id']}", "variants": {"nodes": []}}
        elif current is not None and parent == current["id"] and kind == "ProductVariant":
            current["variants"]["nodes"].append(node)
        elif kind == "ProductVariant":
            yield _refused(f"line {line}", "__parentId: no product with this id before it")
        # other nested connections (media, metafields) are not read
    if current is not None:
        yield current


# -- WooCommerce REST pages --------------------------------------------------------------
def _woo_records(data: bytes) -> Records:
    record = 0
    for page in pages_of(data):
        if isinstance(page, NotAPage):
            record += 1
            yield _refused(f"record {record}", "not a page (a JSON array of records)")
            continue
        for item in page:
            record += 1
            yield item if isinstance(item, dict) else _refused(f"record {record}", "not a JSON object")


def product_file(fmt: str, data: bytes) -> tuple[Records, RecordParser]:
    """A whole export file in one of PRODUCT_FORMATS: its records and their parser."""
    if fmt == "shopify-products-csv":
        return _csv_records(data), _checked(shopify_csv_product)
    if fmt == "shopify-bulk-jsonl":
        return _bulk_records(data), _checked(shopify_node)
    if fmt == "woocommerce-products-json":
        return _woo_records(data), _checked(woo_item)
    raise ValueError(f"unknown products format {fmt!r}")
