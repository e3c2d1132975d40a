"""A connected store's history through its Admin API, as import readers (`patron import pull`).

Each platform's module turns what its Admin API lists (Shopify: a bulk operation's JSONL;
WooCommerce: `/wc/v3/customers` and `/wc/v3/orders` pages) into the same import records its
export files make, parsed by the same parsers, so a pulled store and an imported file are one
code path from the records on (domain/history_import.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.adapters.storefront_admin import shopify_history, woocommerce_history
from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.adapters.storefront_admin.woocommerce_history import RecordsOf
from chalicelib.domain.history_import import Reader

# What a pull reads, in this order: customers first, so that their orders find them made.
WHAT = ("customers", "orders")


def history_reader(
    client: ShopifyAdmin | WooCommerceAdmin,
    what: str,
    since: datetime | None = None,
    files: Callable[[str, bytes], Reader] | None = None,
    woo_records: RecordsOf | None = None,
) -> Reader:
    """The reader of the store's `what` (one of WHAT), created at or after `since` if given.
    Adapters do not import the parsers, so they are handed in: `files` is the export files'
    readers by format (parsers.history.reader_for), for what arrives as a file (Shopify's bulk
    operation result); `woo_records` reads WooCommerce's listed items
    (parsers/woocommerce_rest.records_of)."""
    if what not in WHAT:
        raise ValueError(f"unknown part of a store's history {what!r}")
    if isinstance(client, ShopifyAdmin):
        if files is None:
            raise ValueError("a Shopify pull needs the file readers (parsers.history.reader_for)")
        return shopify_history.history_reader(client, what, since, files)
    if woo_records is None:
        raise ValueError("a WooCommerce pull needs the reader of its listed items")
    return woocommerce_history.history_reader(client, what, since, woo_records)
