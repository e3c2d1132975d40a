"""Small stand-ins for store Admin APIs on 127.0.0.1: Shopify's GraphQL Admin API here, that
the local stack serves for `make demo` and `patron source connect` on a laptop, and that the
tests use (tests/storefront_servers.py adds WooCommerce's REST API).

No emulator of a store exists, so these accept exactly the documented request shapes (method,
path, auth header, JSON body) and answer the documented response shapes: pages with pageInfo,
a throttled answer with throttleStatus, userErrors, error JSON. They are for trying the flow
locally and for tests, not an emulator of a store: nothing else a store does happens. A test
can queue answers (`then(...)`) that the next requests get before the normal behaviour
resumes; every request is recorded. The production clients are pointed at `server.url`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def throttle_extensions(
    requested: float, available: float, rate: float = 50.0, maximum: float = 1000.0
) -> dict[str, Any]:
    """`extensions` as Shopify sends it with every answer."""
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": None if requested > available else requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def throttled(requested: float, available: float, rate: float = 50.0) -> Answer:
    """Shopify's answer when the bucket cannot hold the query: HTTP 200, no data."""
    return Answer(
        200,
        {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/limits",
                    },
                }
            ],
            "extensions": throttle_extensions(requested, available, rate),
        },
    )


def user_errors(mutation: str, *errors: tuple[list[str], str, str]) -> Answer:
    """A mutation's payload with `userErrors` (field, message, code), as discountCodeBasicCreate."""
    return Answer(
        200,
        {
            "data": {
                mutation: {
                    "codeDiscountNode": None,
                    "userErrors": [{"field": f, "message": m, "code": c} for f, m, c in errors],
                }
            },
            "extensions": throttle_extensions(10, 990),
        },
    )


class _Server:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.queued: deque[Answer] = deque()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._serve(self, "GET")

            def do_POST(self) -> None:
                owner._serve(self, "POST")

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def then(self, *answers: Answer) -> None:
        self.queued.extend(answers)

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        seen = Seen(
            method,
            parsed.path,
            dict(urllib.parse.parse_qsl(parsed.query)),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.seen.append(seen)
            answer = self.check(seen) or (self.queued.popleft() if self.queued else None) or self.answer(seen)
        raw_body = isinstance(answer.body, bytes)  # a file (a bulk operation's JSONL), as it is
        data = answer.body if raw_body else json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        if "Content-Type" not in answer.headers:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def check(self, seen: Seen) -> Answer | None:  # the request's shape; None when it is right
        raise NotImplementedError

    def answer(self, seen: Seen) -> Answer:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[_Server]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()


def shopify_product_node(n: int, updated_at: str = "2025-10-07T07:50:26Z") -> dict[str, Any]:
    """A `products` node with the fields Patron's catalogue query selects, as the GraphQL Admin
    API answers them (ids as global ids, money as strings, status in capitals)."""
    return {
        "id": f"gid://shopify/Product/{n}",
        "title": f"Product {n}",
        "handle": f"product-{n}",
        "vendor": "Acme",
        "productType": "Mugs",
        "status": "ACTIVE",
        "tags": ["ceramic", "gift"],
        "updatedAt": updated_at,
        "onlineStoreUrl": None if n % 2 else f"https://shop.example/products/product-{n}",
        "featuredMedia": {"preview": {"image": {"url": f"https://cdn.shopify.com/p{n}.jpg"}}},
        "priceRangeV2": {"minVariantPrice": {"amount": f"{n}9.50", "currencyCode": "EUR"}},
        "variants": {
            "nodes": [
                {
                    "id": f"gid://shopify/ProductVariant/{n}0{v}",
                    "sku": f"SKU-{n}-{v}",
                    "price": f"{n}9.50" if v == 1 else f"{n + 1}9.50",
                    "compareAtPrice": None,
                    "inventoryQuantity": 10 * v,
                }
                for v in (1, 2)
            ]
        },
    }


class ShopifyServer(_Server):
    """POST /admin/api/{version}/graphql.json with X-Shopify-Access-Token; `products` pages of
    `page_size` nodes with pageInfo, cursors opaque strings; `discountCodeBasicCreate` keeps
    each code in `discounts` (a code it has: a `TAKEN` userError; an input without the
    documented required fields: INVALID / BLANK userErrors).

    Bulk operations: `bulkOperationRunQuery(query:)` over `orders` or `customers` (edges and
    node) starts one (CREATED), a second while one runs is a userError; `node(id:)` on a
    BulkOperation answers RUNNING `bulk_polls` times, then `bulk_outcome` (COMPLETED with
    the `url` of `bulk_results[connection]`, served by GET /bulk/{n}.jsonl without the token,
    as Shopify's signed storage links are; or FAILED / CANCELED / EXPIRED)."""

    def __init__(self, token: str, version: str, products: int = 5, page_size: int = 2) -> None:
        super().__init__()
        self.token, self.version, self.page_size = token, version, page_size
        self.products = [shopify_product_node(n) for n in range(1, products + 1)]
        self.cost = (12.0, 988.0, 50.0)  # requested, currently available, restore rate
        self.discounts: list[dict[str, Any]] = []
        self.bulk_results: dict[str, bytes] = {}  # "orders" / "customers" -> the JSONL
        self.bulk_polls = 1
        self.bulk_outcome: tuple[str, str | None] = ("COMPLETED", None)  # status, errorCode
        self.operations: list[dict[str, Any]] = []  # each started: id, connection, query, polls

    def check(self, seen: Seen) -> Answer | None:
        if seen.method == "GET" and seen.path.startswith("/bulk/"):
            return self.bulk_file(seen.path)
        if seen.method != "POST" or seen.path != f"/admin/api/{self.version}/graphql.json":
            return Answer(404, {"errors": "Not Found"})
        if seen.headers.get("x-shopify-access-token") != self.token:
            return Answer(
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            )
        body = seen.body
        if (
            not seen.headers.get("content-type", "").startswith("application/json")
            or not isinstance(body, dict)
            or not isinstance(body.get("query"), str)
            or not isinstance(body.get("variables", {}), dict)
        ):
            return Answer(400, {"errors": {"query": "Required parameter missing or invalid"}})
        return None

    def answer(self, seen: Seen) -> Answer:
        if "discountCodeBasicCreate" in seen.body["query"]:
            return self.discount(seen.body["variables"].get("basicCodeDiscount"))
        if "bulkOperationRunQuery(query: $query)" in seen.body["query"]:
            return self.run_bulk(seen.body["variables"].get("query"))
        if "node(id: $id)" in seen.body["query"] and "... on BulkOperation" in seen.body["query"]:
            return self.bulk_operation(seen.body["variables"].get("id"))
        after = seen.body["variables"].get("after")
        start = 0 if after is None else int(base64.b64decode(after).decode().split(":")[1])
        chunk = self.products[start : start + self.page_size]
        end = start + len(chunk)
        requested, available, rate = self.cost
        return Answer(
            200,
            {
                "data": {
                    "products": {
                        "nodes": chunk,
                        "pageInfo": {
                            "hasNextPage": end < len(self.products),
                            "endCursor": base64.b64encode(f"cursor:{end}".encode()).decode()
                            if chunk
                            else None,
                        },
                    }
                },
                "extensions": throttle_extensions(requested, available, rate),
            },
        )

    def discount(self, given: Any) -> Answer:
        """discountCodeBasicCreate(basicCodeDiscount: DiscountCodeBasicInput!)."""
        field = "discountCodeBasicCreate"
        if not isinstance(given, dict):
            return user_errors(field, (["basicCodeDiscount"], "Basic code discount can't be blank", "BLANK"))
        wrong = [
            name
            for name, ok in (
                ("code", isinstance(given.get("code"), str) and given["code"]),
                ("title", isinstance(given.get("title"), str) and given["title"]),
                ("usageLimit", isinstance(given.get("usageLimit"), int)),
                ("appliesOncePerCustomer", isinstance(given.get("appliesOncePerCustomer"), bool)),
                ("startsAt", isinstance(given.get("startsAt"), str)),  # required when creating
                ("endsAt", isinstance(given.get("endsAt"), str)),
                ("context", _discount_context(given.get("context"))),
                ("customerGets", _customer_gets(given.get("customerGets"))),
            )
            if not ok
        ]
        if wrong:
            return user_errors(
                field, *((["basicCodeDiscount", w], f"{w} is invalid", "INVALID") for w in wrong)
            )
        if any(d["code"] == given["code"] for d in self.discounts):
            return user_errors(field, (["basicCodeDiscount", "code"], "Code must be unique.", "TAKEN"))
        node = {"id": f"gid://shopify/DiscountCodeNode/{900 + len(self.discounts)}"}
        self.discounts.append({**given, **node})
        return Answer(
            200,
            {
                "data": {field: {"codeDiscountNode": node, "userErrors": []}},
                "extensions": throttle_extensions(10, 990),
            },
        )

    def run_bulk(self, query: Any) -> Answer:
        """bulkOperationRunQuery(query: String!): one top-level connection (its arguments among
        sortKey, query and reverse), edges and node."""
        field = "bulkOperationRunQuery"

        def refused(message: str, where: list[str] | None) -> Answer:
            payload = {"bulkOperation": None, "userErrors": [{"field": where, "message": message}]}
            return Answer(200, {"data": {field: payload}, "extensions": throttle_extensions(10, 990)})

        head = re.match(
            r"^\{\s*(orders|customers)"
            r"(\((?:\s*(?:sortKey: (?:ID|CREATED_AT|UPDATED_AT)|query: \"[^\"]*\""
            r"|reverse: (?:true|false)),?)+\))?"
            r"\s*\{\s*edges\s*\{\s*node\s*\{",
            query if isinstance(query, str) else "",
        )
        if head is None or query.count("{") != query.count("}"):
            return refused(
                "Invalid bulk query: a connection field with edges and node is required", ["query"]
            )
        running = [op for op in self.operations if op["status"] in ("CREATED", "RUNNING")]
        if running:
            return refused(
                f"A bulk query operation for this app and shop is already in progress: {running[0]['id']}.",
                None,
            )
        operation = {
            "id": f"gid://shopify/BulkOperation/{720918 + len(self.operations)}",
            "status": "CREATED",
            "connection": head.group(1),
            "query": query,
            "polls": 0,
        }
        self.operations.append(operation)
        payload = {"bulkOperation": {"id": operation["id"], "status": "CREATED"}, "userErrors": []}
        return Answer(200, {"data": {field: payload}, "extensions": throttle_extensions(10, 990)})

    def bulk_operation(self, operation_id: Any) -> Answer:
        """node(id:) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } }."""
        n = next((i for i, op in enumerate(self.operations) if op["id"] == operation_id), None)
        if n is None:
            return Answer(200, {"data": {"node": None}, "extensions": throttle_extensions(1, 999)})
        operation = self.operations[n]
        operation["polls"] += 1
        status, code = ("RUNNING", None) if operation["polls"] <= self.bulk_polls else self.bulk_outcome
        operation["status"] = status
        data = self.bulk_results.get(operation["connection"], b"")
        node = {
            "id": operation["id"],
            "status": status,
            "errorCode": code,
            "objectCount": str(len(data.splitlines())) if status == "COMPLETED" else "0",
            "url": f"{self.url}/bulk/{n}.jsonl" if status == "COMPLETED" and data else None,
            "partialDataUrl": None,
        }
        return Answer(200, {"data": {"node": node}, "extensions": throttle_extensions(1, 999)})

    def bulk_file(self, path: str) -> Answer:
        found = re.fullmatch(r"/bulk/(\d+)\.jsonl", path)
        n = int(found.group(1)) if found else -1
        if not 0 <= n < len(self.operations) or self.operations[n]["status"] != "COMPLETED":
            return Answer(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
        data = self.bulk_results.get(self.operations[n]["connection"], b"")
        return Answer(200, data, {"Content-Type": "application/jsonl"})


def _discount_context(context: Any) -> bool:
    """DiscountContextInput: `all: ALL` or `customers: {add: [gid]}`."""
    if not isinstance(context, dict) or len(context) != 1:
        return False
    if context.get("all") == "ALL":
        return True
    add = (context.get("customers") or {}).get("add")
    return isinstance(add, list) and all(str(g).startswith("gid://shopify/Customer/") for g in add)


def _customer_gets(gets: Any) -> bool:
    """DiscountCustomerGetsInput: a `percentage` (0..1) or a `discountAmount`, and `items`."""
    if not isinstance(gets, dict) or not isinstance(gets.get("items"), dict):
        return False
    value = gets.get("value") or {}
    if "percentage" in value:
        return isinstance(value["percentage"], int | float) and 0 < value["percentage"] <= 1
    amount = value.get("discountAmount") or {}
    return isinstance(amount.get("amount"), str) and isinstance(amount.get("appliesOnEachItem"), bool)
