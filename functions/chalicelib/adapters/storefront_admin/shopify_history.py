"""A Shopify store's history through its Admin API (`patron import pull`): a bulk operation.

`bulkOperationRunQuery` starts the export of the store's `orders` (with their `lineItems`,
a nested connection: children lines with `__parentId`) or `customers`, created at or after
`since` when given (`created_at:>=`); its `userErrors` (one bulk query at a time per app
and shop) are errors. The operation is polled by its id (`node(id:)`, any API version) every
`interval` seconds through the client (its cost throttling and retries) and the client's
policy's `sleep` (tests record the waits), until it is COMPLETED: its `url` is downloaded by
the same transport and read by the `shopify-bulk-jsonl` file reader the caller gives
(parsers/shopify_bulk.py: adapters do not import the parsers). FAILED,
CANCELED and EXPIRED operations are AdminApiErrors naming the status and `errorCode`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Delivery
from chalicelib.domain.store_admin import AdminApiError

FORMAT = "shopify-bulk-jsonl"
# (format, the file's bytes) -> its reader: parsers.history.reader_for
FileReaders = Callable[[str, bytes], Reader]

POLL_SECONDS = 5.0
MAX_WAIT_SECONDS = 6 * 3600.0  # a large store's export can take hours; beyond this, give up
RUNNING = ("CREATED", "RUNNING", "CANCELING")

MONEY = "shopMoney { amount currencyCode }"
ADDRESS = "countryCodeV2 provinceCode phone"
CUSTOMER = (
    "id email phone firstName lastName state createdAt updatedAt"
    " emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }"
    " smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }"
    f" defaultAddress {{ {ADDRESS} }}"
    ' metafield(namespace: "facts", key: "birth_date") { value }'
)
ORDER = (
    "id name email phone createdAt updatedAt cancelledAt currencyCode"
    f" totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }}"
    f" totalTaxSet {{ {MONEY} }} totalDiscountsSet {{ {MONEY} }}"
    " displayFinancialStatus displayFulfillmentStatus sourceName customerAcceptsMarketing discountCodes"
    f" customer {{ {CUSTOMER} }}"
    f" shippingAddress {{ {ADDRESS} }} billingAddress {{ {ADDRESS} }}"
    f" refunds {{ id createdAt totalRefundedSet {{ {MONEY} }} }}"
    " fulfillments { updatedAt displayStatus trackingInfo { number } }"
    " lineItems { edges { node { id title quantity sku"
    f" originalUnitPriceSet {{ {MONEY} }} product {{ id }} variant {{ id }} }} }} }}"
)
FIELDS = {"orders": ORDER, "customers": CUSTOMER}

RUN = (
    "mutation PatronHistory($query: String!) { bulkOperationRunQuery(query: $query) {"
    " bulkOperation { id status } userErrors { field message } } }"
)
POLL = (
    "query PatronHistoryPoll($id: ID!) { node(id: $id) { ... on BulkOperation {"
    " id status errorCode objectCount url partialDataUrl } } }"
)


def bulk_query(what: str, since: datetime | None = None) -> str:
    """The bulk query of the store's `what`, created at or after `since`."""
    # by id: records are numbered in a stable order, so `--resume-from` means the same rows
    # again, and what the store gains meanwhile comes at the end
    arguments = "sortKey: ID"
    if since is not None:
        at = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        arguments += f", query: {json.dumps(f'created_at:>={at}')}"
    return f"{{ {what}({arguments}) {{ edges {{ node {{ {FIELDS[what]} }} }} }} }}"


def run_bulk_query(
    client: ShopifyAdmin, query: str, interval: float = POLL_SECONDS, max_wait: float = MAX_WAIT_SECONDS
) -> bytes:
    """The JSONL a bulk query's operation leaves, once it is COMPLETED (empty when it found
    nothing: no `url`)."""
    started = client.mutate(RUN, {"query": query}, "bulkOperationRunQuery").get("bulkOperation") or {}
    operation_id = started.get("id")
    if not isinstance(operation_id, str):
        raise AdminApiError("Shopify started no bulk operation (no id in its answer)")
    waited = 0.0
    while True:
        operation: dict[str, Any] = client.query(POLL, {"id": operation_id}).get("node") or {}
        status = operation.get("status")
        if status == "COMPLETED":
            url = operation.get("url")
            return client.download(url) if isinstance(url, str) and url else b""
        if status not in RUNNING:
            code = operation.get("errorCode") or "no error code"
            raise AdminApiError(f"Shopify's bulk operation {operation_id} ended {status} ({code})")
        if waited >= max_wait:
            raise AdminApiError(
                f"Shopify's bulk operation {operation_id} still {status} after {waited:.0f} s"
            )
        client.policy.sleep(interval)
        waited += interval


def history_reader(
    client: ShopifyAdmin,
    what: str,
    since: datetime | None,
    files: FileReaders,
    interval: float = POLL_SECONDS,
) -> Reader:
    """The reader of the store's `what` ("customers" or "orders"), created since `since`: the
    bulk operation runs when the import reads it; `files` reads its JSONL."""
    if what not in FIELDS:
        raise ValueError(f"unknown part of a Shopify store's history {what!r}")

    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        data = run_bulk_query(client, bulk_query(what, since), interval)
        yield from files(FORMAT, data)(delivery)

    return read
