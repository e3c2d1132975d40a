"""Shopify orders/create bodies of a synthetic catalogue, for the ingest, heavy-customer
and freshness benchmarks: about three line items each, one customer per body."""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron import stack

PRODUCTS = [(7_000_000 + i, f"SKU-{i:03d}", f"Product {i}", Decimal(10 + (i * 7) % 60)) for i in range(200)]


def order_template() -> dict[str, Any]:
    return dict(json.loads((stack.ROOT / "events" / "shopify" / "orders_create.json").read_text()))


def order_body(
    template: dict[str, Any],
    rng: random.Random,
    order_id: int,
    customer: tuple[int, str, str | None],
    at: datetime,
    catalog: list[tuple[int, str, str, Decimal]] = PRODUCTS,
) -> bytes:
    """A Shopify orders/create body of about three line items for one customer."""
    body = copy.deepcopy(template)
    cid, email, phone = customer
    lines = rng.sample(catalog, rng.choice([2, 3, 3, 4]))
    total = sum((price for *_, price in lines), Decimal(0))
    stamp = at.isoformat(timespec="seconds")
    body.update(
        {
            "id": order_id,
            "order_number": order_id % 10**6,
            "name": f"#{order_id % 10**6}",
            "email": email,
            "contact_email": email,
            "created_at": stamp,
            "updated_at": stamp,
            "processed_at": stamp,
            "total_price": str(total),
            "subtotal_price": str(total),
            "total_tax": "0.00",
            "total_discounts": "0.00",
            "phone": None,
        }
    )
    body["line_items"] = [
        dict(
            body["line_items"][0],
            id=order_id * 10 + k,
            product_id=pid,
            sku=sku,
            title=title,
            name=title,
            quantity=1,
            price=str(price),
        )
        for k, (pid, sku, title, price) in enumerate(lines)
    ]
    body["customer"] = dict(body["customer"], id=cid, email=email, phone=phone)
    for address in ("billing_address", "shipping_address"):
        if body.get(address):
            body[address] = dict(body[address], phone=phone)
    return json.dumps(body).encode()


def fulfilled_body(body: bytes, template_fulfillment: dict[str, Any]) -> bytes:
    """The same order a day later, fulfilled and shipped: a change every store sends."""
    order = json.loads(body)
    shipped = (datetime.fromisoformat(order["updated_at"]) + timedelta(days=1)).isoformat(timespec="seconds")
    order.update(
        updated_at=shipped,
        fulfillment_status="fulfilled",
        fulfillments=[
            dict(template_fulfillment, id=order["id"] * 10, created_at=shipped, updated_at=shipped)
        ],
    )
    return json.dumps(order).encode()
