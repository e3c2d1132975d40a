"""A WooCommerce store's history through its REST API (`patron import pull`).

`GET /wc/v3/customers` and `GET /wc/v3/orders`, `orderby=id&order=asc`, every X-WP-TotalPages
page of 100 through the client (its retries and backoff); each item is read by `records`, the
reader of the `woocommerce-*-json` import files (parsers/woocommerce_rest.records_of, i.e. the
webhook's parser), handed in by the caller: adapters do not import parsers (the layers
contract). Records are numbered in walk order. `since`: orders take `after` (exclusive: a
second before the day; their creation time, in GMT with `dates_are_gmt`); the customers list
has no date filter, so customers created before `since` are skipped here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Delivery

ORDER = {"orderby": "id", "order": "asc"}
LISTS = ("customers", "orders")
# (the listed items in walk order, the import's delivery, "orders" or "customers") -> records
RecordsOf = Callable[[Iterable[Any], Delivery, str], Iterable[ImportRecord]]


def params_for(what: str, since: datetime | None) -> dict[str, str]:
    params = dict(ORDER)
    if since is not None and what == "orders":
        # `after` is exclusive (created after it): a second earlier keeps an order created at
        # the very start of the day
        start = since.astimezone(UTC) - timedelta(seconds=1)
        params["after"] = start.strftime("%Y-%m-%dT%H:%M:%S")
        params["dates_are_gmt"] = "true"
    return params


def _created_before(item: Any, since: datetime) -> bool:
    """A listed customer created before `since` (its `date_created_gmt`, UTC without offset)."""
    text = item.get("date_created_gmt") if isinstance(item, dict) else None
    try:
        created = datetime.fromisoformat(text).replace(tzinfo=UTC) if isinstance(text, str) else None
    except ValueError:
        return False
    return created is not None and created < since


def history_reader(client: WooCommerceAdmin, what: str, since: datetime | None, records: RecordsOf) -> Reader:
    """The reader of the store's `what` ("customers" or "orders"), created since `since`."""
    if what not in LISTS:
        raise ValueError(f"unknown WooCommerce list {what!r}")
    params = params_for(what, since)

    def walk() -> Iterator[Any]:
        for item in client.items(what, params):
            if since is not None and what == "customers" and _created_before(item, since):
                continue
            yield item

    def read(delivery: Delivery) -> Iterable[ImportRecord]:
        return records(walk(), delivery, what)

    return read
