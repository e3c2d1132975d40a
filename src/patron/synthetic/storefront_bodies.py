"""Shopify and WooCommerce webhook bodies for the simulated store (`store.py`), made from
the fixtures in events/ with the simulated order's lines, totals, state and person."""

from __future__ import annotations

import copy
import json
import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from patron import stack

if TYPE_CHECKING:
    from patron.synthetic.store import SimOrder


def messy(rng: random.Random, email: str) -> str:
    """Storefronts send emails as typed: mixed case, stray spaces."""
    if rng.random() < 0.3:
        email = email.title()
    if rng.random() < 0.2:
        email = f" {email} "
    return email


def timestamp(value: datetime, offset_hours: int = -5) -> str:
    return (
        value.astimezone(UTC)
        .astimezone(__import__("datetime").timezone(timedelta(hours=offset_hours)))
        .isoformat(timespec="seconds")
    )


def shopify_order(rng: random.Random, o: SimOrder, state: str, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(fixture("shopify/orders_create.json"))
    p = o.person
    member_now = p.member or (p.registers_later and state != "create")
    body.update(
        {
            "id": o.order_id,
            "order_number": o.order_id % 100000,
            "name": f"#{o.order_id % 100000}",
            "email": messy(rng, p.email),
            "contact_email": p.email,
            "phone": None,
            "created_at": timestamp(o.created),
            "processed_at": timestamp(o.created),
            "updated_at": timestamp(at),
            "total_price": str(o.total),
            "subtotal_price": str(o.total),
            "total_tax": "0.00",
            "total_discounts": "0.00",
            "currency": "USD",
            "financial_status": "paid",
            "fulfillment_status": None,
            "cancelled_at": None,
            "refunds": [],
            "fulfillments": [],
        }
    )
    body["total_price_set"] = {
        "shop_money": {"amount": str(o.total), "currency_code": "USD"},
        "presentment_money": {"amount": str(o.total), "currency_code": "USD"},
    }
    body["line_items"] = [
        {
            "id": o.order_id * 10 + k,
            "product_id": zlib.crc32(sku.encode()),
            "variant_id": None,
            "sku": sku,
            "title": title,
            "name": title,
            "quantity": qty,
            "price": str(price),
            "product_exists": True,
            "requires_shipping": True,
            "taxable": True,
            "total_discount": "0.00",
        }
        for k, (sku, title, price, qty) in enumerate(o.lines)
    ]
    customer = body["customer"]
    customer.update(
        {
            "id": p.shopify_id,
            "email": p.email,
            "first_name": p.first,
            "last_name": p.last,
            "phone": p.phone,
            "state": "enabled" if member_now else "disabled",
        }
    )
    customer["email_marketing_consent"] = {
        "state": "subscribed" if p.index % 3 else "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": timestamp(o.created),
    }
    customer["sms_marketing_consent"] = None
    for address in ("billing_address", "shipping_address"):
        if body.get(address):
            body[address].update({"first_name": p.first, "last_name": p.last, "phone": p.phone})
    if state == "fulfilled":
        body["fulfillment_status"] = "fulfilled"
        body["fulfillments"] = [
            {
                "id": o.order_id + 1,
                "status": "success",
                "tracking_number": f"1Z{o.order_id}",
                "tracking_company": "UPS",
            }
        ]
    if state == "cancelled":
        body.update(
            {"cancelled_at": timestamp(at), "cancel_reason": "customer", "financial_status": "voided"}
        )
    return body


def shopify_refund(o: SimOrder, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(fixture("shopify/refunds_create.json"))
    body.update(
        {
            "id": o.order_id + 7,
            "order_id": o.order_id,
            "created_at": timestamp(at),
            "processed_at": timestamp(at),
            "order_adjustments": [],
        }
    )
    body["transactions"] = [
        {
            "id": o.order_id + 8,
            "order_id": o.order_id,
            "kind": "refund",
            "gateway": "shopify_payments",
            "status": "success",
            "amount": str(o.refund),
            "currency": "USD",
            "created_at": timestamp(at),
        }
    ]
    return body


def woo_order(rng: random.Random, o: SimOrder, state: str, at: datetime) -> dict[str, Any]:
    body = copy.deepcopy(fixture("woocommerce/order_created.json"))
    p = o.person
    member_now = p.member or (p.registers_later and state != "create")
    gmt = "%Y-%m-%dT%H:%M:%S"
    body.update(
        {
            "id": o.order_id,
            "number": str(o.order_id),
            "currency": "EUR",
            "total": str(o.total),
            "total_tax": "0.00",
            "shipping_total": "0.00",
            "discount_total": "0.00",
            "status": {
                "create": "processing",
                "fulfilled": "completed",
                "cancelled": "cancelled",
                "refunded": "completed",
            }[state],
            "date_created_gmt": o.created.strftime(gmt),
            "date_modified_gmt": at.strftime(gmt),
            "customer_id": p.woo_id if member_now else 0,
            "refunds": [],
        }
    )
    body["billing"].update(
        {"email": messy(rng, p.email), "phone": p.phone or "", "first_name": p.first, "last_name": p.last}
    )
    body["line_items"] = [
        {
            "id": o.order_id * 10 + k,
            "name": title,
            "product_id": zlib.crc32(sku.encode()),  # one id per product, as the Shopify bodies
            "variation_id": 0,
            "quantity": qty,
            "subtotal": str(price * qty),
            "total": str(price * qty),
            "sku": sku,
            "price": float(price),
            "taxes": [],
            "meta_data": [],
        }
        for k, (sku, title, price, qty) in enumerate(o.lines)
    ]
    if state == "refunded":
        body["refunds"] = [{"id": o.order_id + 7, "reason": "damaged", "total": f"-{o.refund}"}]
    return body


_FIXTURES: dict[str, Any] = {}


def fixture(name: str) -> Any:
    if name not in _FIXTURES:
        _FIXTURES[name] = json.loads((stack.ROOT / "events" / name).read_text())
    return _FIXTURES[name]
