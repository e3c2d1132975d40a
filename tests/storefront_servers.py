"""Stand-ins for the store Admin APIs on 127.0.0.1, for the tests.

Shopify's GraphQL Admin API stand-in lives in `patron.standins` (the local stack serves it
too); WooCommerce's REST API stand-in is here. Both accept exactly the documented request
shapes and answer the documented response shapes; a test can queue answers (`then(...)`),
and every request is recorded.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from patron.standins import (
    Answer,
    Seen,
    ShopifyServer,
    _Server,
    shopify_product_node,
    throttle_extensions,
    throttled,
    user_errors,
)

__all__ = [
    "Answer",
    "Seen",
    "ShopifyServer",
    "WooCommerceServer",
    "shopify_product_node",
    "throttle_extensions",
    "throttled",
    "user_errors",
    "woo_product",
]


def woo_product(n: int, modified_gmt: str = "2025-10-07T07:50:26") -> dict[str, Any]:
    """A `/wc/v3/products` item of a simple product (the product webhook's shape)."""
    return {
        "id": n,
        "name": f"Woo product {n}",
        "slug": f"woo-product-{n}",
        "permalink": f"https://woo.example/product/woo-product-{n}/",
        "type": "simple",
        "status": "publish",
        "sku": f"WOO-{n}",
        "price": "12.00",
        "regular_price": "15.00",
        "sale_price": "12.00",
        "stock_quantity": 3,
        "date_modified": modified_gmt,
        "date_modified_gmt": modified_gmt,
        "categories": [{"id": 9, "name": "Clothing", "slug": "clothing"}],
        "tags": [],
        "images": [{"id": 1, "src": f"https://woo.example/wp-content/uploads/p{n}.jpg"}],
        "variations": [],
    }


# The collection parameters `GET /wc/v3/orders` and `/wc/v3/customers` document, and their
# `orderby` values; the stand-in refuses others (WordPress would ignore them: a typo here is
# a filter that silently does nothing there). The customers list has no date filter.
LIST_PARAMS = {
    "orders": {"context", "page", "per_page", "search", "after", "before", "modified_after",
               "modified_before", "dates_are_gmt", "exclude", "include", "offset", "order",
               "orderby", "parent", "parent_exclude", "status", "customer", "product", "dp"},
    "customers": {"context", "page", "per_page", "search", "exclude", "include", "offset",
                  "order", "orderby", "email", "role"},
}  # fmt: skip
ORDERBY = {
    "orders": ("date", "id", "include", "title", "slug", "modified"),
    "customers": ("id", "include", "name", "registered_date"),
}
DEFAULT_ORDER = {"orders": ("date", "desc"), "customers": ("name", "asc")}


def invalid_param(name: str, why: str) -> Answer:
    return Answer(
        400,
        {
            "code": "rest_invalid_param",
            "message": f"Invalid parameter(s): {name}",
            "data": {"status": 400, "params": {name: why}},
        },
    )


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class WooCommerceServer(_Server):
    """/wp-json/wc/v3/{orders,customers,products,coupons} with HTTP basic auth (consumer key and
    secret). `orders` is a count (minimal orders) or the REST items themselves; lists are
    sorted by `orderby`/`order` (orders: newest first by default) and orders filtered by
    `after`/`before` on their creation date (`*_gmt` with `dates_are_gmt`)."""

    def __init__(
        self,
        key: str,
        secret: str,
        orders: int | list[dict[str, Any]] = 5,
        products: int = 0,
        customers: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.orders = (
            orders
            if isinstance(orders, list)
            else [
                {"id": n, "number": str(n), "date_created_gmt": "2025-10-07T07:50:26"}
                for n in range(1, orders + 1)
            ]
        )
        self.customers = list(customers or [])
        self.coupons: list[dict[str, Any]] = []
        self.products = [woo_product(n) for n in range(1, products + 1)]

    def check(self, seen: Seen) -> Answer | None:
        if not seen.path.startswith("/wp-json/wc/v3/"):
            return Answer(
                404,
                {
                    "code": "rest_no_route",
                    "message": "No route was found matching the URL and request method.",
                    "data": {"status": 404},
                },
            )
        if seen.headers.get("authorization") != self.auth:
            return Answer(
                401,
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
            )
        per_page = seen.query.get("per_page", "10")
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            return Answer(
                400,
                {
                    "code": "rest_invalid_param",
                    "message": "Invalid parameter(s): per_page",
                    "data": {
                        "status": 400,
                        "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
                    },
                },
            )
        resource = seen.path.removeprefix("/wp-json/wc/v3/")
        if seen.method == "GET" and resource in LIST_PARAMS:
            refused = self.check_list(resource, seen.query)
            if refused is not None:
                return refused
        if seen.method == "POST" and not (
            seen.headers.get("content-type", "").startswith("application/json")
            and isinstance(seen.body, dict)
        ):
            return Answer(
                400,
                {
                    "code": "rest_invalid_json",
                    "message": "Invalid JSON body passed.",
                    "data": {"status": 400},
                },
            )
        return None

    def answer(self, seen: Seen) -> Answer:
        resource = seen.path.removeprefix("/wp-json/wc/v3/")
        if seen.method == "GET" and resource in ("orders", "customers", "products"):
            listed = self.products if resource == "products" else self.listed(resource, seen.query)
            per_page, page = int(seen.query.get("per_page", "10")), int(seen.query.get("page", "1"))
            chunk = listed[(page - 1) * per_page : page * per_page]
            pages = max(1, -(-len(listed) // per_page))
            return Answer(200, chunk, {"X-WP-Total": str(len(listed)), "X-WP-TotalPages": str(pages)})
        if seen.method == "POST" and resource == "coupons":
            if any(c["code"] == seen.body.get("code") for c in self.coupons):
                return Answer(
                    400,
                    {
                        "code": "woocommerce_rest_coupon_code_already_exists",
                        "message": "The coupon code already exists",
                        "data": {"status": 400},
                    },
                )
            coupon = {"id": 700 + len(self.coupons), **seen.body}
            self.coupons.append(coupon)
            return Answer(201, coupon)
        return self.no_route()

    @staticmethod
    def check_list(resource: str, query: dict[str, str]) -> Answer | None:
        """The documented collection parameters of `resource`, with valid values."""
        for name, value in query.items():
            if name not in LIST_PARAMS[resource]:
                return invalid_param(name, f"{name} is not a parameter of GET /wc/v3/{resource}")
            if name == "orderby" and value not in ORDERBY[resource]:
                return invalid_param(name, f"orderby is not one of {', '.join(ORDERBY[resource])}.")
            if name == "order" and value not in ("asc", "desc"):
                return invalid_param(name, "order is not one of asc, desc.")
            if name in ("after", "before") and _iso(value) is None:
                return invalid_param(name, "Invalid date.")
            if name == "dates_are_gmt" and value not in ("true", "false", "1", "0"):
                return invalid_param(name, "dates_are_gmt is not of type boolean.")
        return None

    def listed(self, resource: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """The orders or customers the query selects, in its order."""
        items = self.orders if resource == "orders" else self.customers
        gmt = query.get("dates_are_gmt") in ("true", "1")
        stamp = "date_created_gmt" if gmt else "date_created"

        def created(item: dict[str, Any]) -> datetime:
            value = _iso(str(item.get(stamp) or item.get("date_created_gmt")))
            assert value is not None, "a stand-in item needs date_created_gmt"
            return value

        after, before = _iso(query.get("after", "")), _iso(query.get("before", ""))
        chosen = [
            i
            for i in items
            if (after is None or created(i).replace(tzinfo=None) > after.replace(tzinfo=None))
            and (before is None or created(i).replace(tzinfo=None) < before.replace(tzinfo=None))
        ]
        default_by, default_order = DEFAULT_ORDER[resource]
        by, order = query.get("orderby", default_by), query.get("order", default_order)
        keys = {
            "id": lambda i: i["id"],
            "date": created,
            "registered_date": created,
            "name": lambda i: f"{i.get('first_name', '')} {i.get('last_name', '')}",
        }
        return sorted(chosen, key=keys.get(by, keys["id"]), reverse=order == "desc")

    @staticmethod
    def no_route() -> Answer:
        return Answer(
            404,
            {
                "code": "rest_no_route",
                "message": "No route was found matching the URL and request method.",
                "data": {"status": 404},
            },
        )
