"""Export files read as import records (docs/import.md): one canonical payload each.

`generic-jsonl`: one generic webhook body per line (`"type"`: order, customer or refund),
parsed by the generic webhook's own parsers, so an imported order is exactly the order
the webhook would make. `shopify-csv`: Shopify's orders export (parsers/shopify_csv.py).
`woocommerce-orders-json` / `woocommerce-customers-json`: WooCommerce REST list pages
(parsers/woocommerce_rest.py).
`shopify-bulk-jsonl`: a Shopify bulk operation's result (parsers/shopify_bulk.py);
`shopify-customers-csv`: Shopify's customers export (parsers/shopify_customers_csv.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Delivery
from chalicelib.domain.translation import PayloadError, run_parser
from chalicelib.parsers import generic

GENERIC_TYPES = ("order", "customer", "refund")


def digest(text: bytes) -> str:
    return hashlib.blake2b(text, digest_size=9).hexdigest()


def reason_of(errors: list[dict[str, Any]]) -> str:
    """Field errors as one line: field names and rules, never the values."""
    return "; ".join(f"{e.get('field')}: {e.get('error')}" for e in errors[:3])


def generic_jsonl(lines: Iterable[bytes]) -> Reader:
    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        for row, line in enumerate(lines, start=1):
            text = line.strip()
            if not text:
                continue
            mark = digest(text)
            try:
                head = json.loads(text)
            except ValueError:
                yield ImportRecord(row, mark, reason="not a JSON object")
                continue
            kind = head.get("type") if isinstance(head, dict) else None
            if kind not in GENERIC_TYPES:
                yield ImportRecord(row, mark, reason=f"type: must be one of {', '.join(GENERIC_TYPES)}")
                continue
            try:
                payload = run_parser(generic.PARSERS, text, delivery.model_copy(update={"topic": kind}))
            except PayloadError as exc:
                yield ImportRecord(row, mark, reason=reason_of(exc.errors))
                continue
            yield ImportRecord(row, mark, payload=payload)

    return read


FORMATS = (  # `patron import orders`
    "generic-jsonl",
    "shopify-csv",
    "shopify-bulk-jsonl",
    "woocommerce-orders-json",
)
CUSTOMER_FORMATS = (  # `patron import customers`
    "generic-jsonl",
    "shopify-bulk-jsonl",
    "shopify-customers-csv",
    "woocommerce-customers-json",
)


def reader_for(fmt: str, data: bytes) -> Reader:
    """The reader of a whole export file in one of FORMATS or CUSTOMER_FORMATS."""
    if fmt == "shopify-csv":
        from chalicelib.parsers.shopify_csv import shopify_csv

        return shopify_csv(data)
    if fmt == "shopify-bulk-jsonl":
        from chalicelib.parsers.shopify_bulk import shopify_bulk_jsonl

        return shopify_bulk_jsonl(data)
    if fmt == "shopify-customers-csv":
        from chalicelib.parsers.shopify_customers_csv import shopify_customers_csv

        return shopify_customers_csv(data)
    if fmt == "generic-jsonl":
        return generic_jsonl(data.splitlines())
    if fmt in ("woocommerce-orders-json", "woocommerce-customers-json"):
        from chalicelib.parsers.woocommerce_rest import woocommerce_json

        return woocommerce_json(data, fmt.split("-")[1])
    raise ValueError(f"unknown format {fmt!r}")
