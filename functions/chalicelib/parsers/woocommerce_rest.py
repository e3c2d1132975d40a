"""WooCommerce REST list pages (`GET /wc/v3/orders`, `GET /wc/v3/customers`) as import records.

WooCommerce webhooks send an order's or customer's REST representation, so each listed item
is read by the webhook's own parser (parsers/woocommerce.py): the same order id, customer
ext, status rule, consent keys of the source and Decimal money, hence the same ingest item
as the webhook. A file holds what the API returned: one JSON array (a page), a JSON array
of pages, or one page per line. Records are numbered in walk order (1-based), across pages:
that number is the resume cursor (docs/import.md#woocommerce-orders-json).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Delivery
from chalicelib.domain.translation import PayloadError, run_parser
from chalicelib.parsers import woocommerce
from chalicelib.parsers.history import digest, reason_of

# what a list holds -> the webhook topic whose parser reads one of its items
TOPICS = {"orders": "order.updated", "customers": "customer.updated"}


class NotAPage:
    """A line of a file that is not a page (a JSON array): one rejected record."""


def pages_of(data: bytes) -> Iterator[list[Any] | NotAPage]:
    """The pages a file holds: the whole file as one JSON value (a page, or an array of
    pages), else one JSON value per non-blank line."""
    text = data.decode("utf-8-sig", errors="replace")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    else:
        if isinstance(whole, list) and whole and all(isinstance(p, list) for p in whole):
            yield from whole
            return
        yield whole if isinstance(whole, list) else NotAPage()
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            page = json.loads(line)
        except ValueError:
            page = None
        yield page if isinstance(page, list) else NotAPage()


def record_of(item: Any, row: int, delivery: Delivery, what: str) -> ImportRecord:
    """One listed item as the webhook of its topic would read it."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    mark = digest(text)
    if not isinstance(item, dict):
        return ImportRecord(row, mark, reason="not a JSON object")
    try:
        payload = run_parser(woocommerce.PARSERS, text, delivery.model_copy(update={"topic": TOPICS[what]}))
    except PayloadError as exc:
        return ImportRecord(row, mark, reason=reason_of(exc.errors))
    except (ValueError, ArithmeticError) as exc:  # a model's own rule: its name only
        return ImportRecord(row, mark, reason=f"invalid {what[:-1]}: {type(exc).__name__}")
    return ImportRecord(row, mark, payload=payload)


def records_of(items: Iterable[Any], delivery: Delivery, what: str) -> Iterator[ImportRecord]:
    for row, item in enumerate(items, start=1):
        if isinstance(item, NotAPage):
            yield ImportRecord(row, digest(b"not a page"), reason="not a page (a JSON array of records)")
        else:
            yield record_of(item, row, delivery, what)


def _items(data: bytes) -> Iterator[Any]:
    for page in pages_of(data):
        if isinstance(page, NotAPage):
            yield page
        else:
            yield from page


def woocommerce_json(data: bytes, what: str) -> Reader:
    """The reader of a file of `/wc/v3/<what>` pages (`what`: "orders" or "customers")."""
    if what not in TOPICS:
        raise ValueError(f"unknown WooCommerce list {what!r}")

    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        return records_of(_items(data), delivery, what)

    return read
