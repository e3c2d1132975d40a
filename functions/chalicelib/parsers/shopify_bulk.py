"""Shopify's bulk-operation JSONL (a `bulkOperationRunQuery` result) as import records.

Each line is one node of the query. A node of a nested connection (an order's `lineItems`)
is a line of its own after its parent's, linked by `__parentId`; objects and lists that are
not connections (the order's `customer`, `refunds`, `fulfillments`) stay inline. A top-level
`Order` or `Customer` node, with its children gathered, is one record; the record's row is
its own line and it spans the lines up to the next top-level node (`rows`).

The GraphQL fields are renamed to the webhook's REST fields and read by the webhook's own
parser (parsers/shopify.py), so an order pulled this way is the order its webhooks make:
its numeric id (`gid://shopify/Order/N` -> N, the webhooks' `id`), the customer's numeric
id, money from `*Set.shopMoney`, refunds by their own ids with `totalRefundedSet`,
`displayFinancialStatus` lower-cased as the REST `financial_status`, times in UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Delivery
from chalicelib.domain.translation import PayloadError, run_parser
from chalicelib.parsers import shopify
from chalicelib.parsers.history import digest, reason_of

GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")
TOPICS = {"Order": "orders/create", "Customer": "customers/update"}
# The webhook's field names a refusal names, as the bulk file calls them
GRAPHQL_NAMES = {
    "currency": "currencyCode",
    "total_price": "totalPriceSet",
    "subtotal_price": "subtotalPriceSet",
    "total_tax": "totalTaxSet",
    "total_discounts": "totalDiscountsSet",
    "financial_status": "displayFinancialStatus",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "cancelled_at": "cancelledAt",
    "consent_updated_at": "consentUpdatedAt",
    "line_items": "lineItems",
    "price": "originalUnitPriceSet",
    "transactions": "totalRefundedSet",
    "first_name": "firstName",
    "last_name": "lastName",
    "default_address": "defaultAddress",
    "shipping_address": "shippingAddress",
    "billing_address": "billingAddress",
    "email_marketing_consent": "emailMarketingConsent",
    "sms_marketing_consent": "smsMarketingConsent",
    "metafields": "metafield",
}
# displayFulfillmentStatus -> the REST `fulfillment_status` (null while nothing is fulfilled)
FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def gid(value: Any) -> tuple[str, int] | None:
    """(type, numeric id) of a global id like gid://shopify/Order/5801234567890."""
    found = GID.match(value) if isinstance(value, str) else None
    return (found.group(1), int(found.group(2))) if found else None


def _number(value: Any) -> int | None:
    found = gid(value)
    return found[1] if found else None


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _shop_money(node: dict[str, Any], name: str) -> str | None:
    """`nameSet.shopMoney.amount`: the amount in the shop's currency, as the REST field."""
    amount = (((node.get(name) or {}).get("shopMoney")) or {}).get("amount")
    return str(amount) if amount is not None else None


def _address(a: Any) -> dict[str, Any] | None:
    if not isinstance(a, dict):
        return None
    return {
        "phone": a.get("phone"),
        "country_code": a.get("countryCodeV2") or a.get("countryCode"),
        "province_code": a.get("provinceCode"),
    }


def _consent(c: Any) -> dict[str, Any] | None:
    if not isinstance(c, dict):
        return None
    return {"state": _lower(c.get("marketingState")), "consent_updated_at": c.get("consentUpdatedAt")}


def customer_body(c: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL Customer as the customer webhook's body."""
    body: dict[str, Any] = {
        "id": _number(c.get("id")),
        "email": c.get("email"),
        "phone": c.get("phone"),
        "first_name": c.get("firstName"),
        "last_name": c.get("lastName"),
        "state": _lower(c.get("state")),
        "created_at": c.get("createdAt"),
        "updated_at": c.get("updatedAt"),
        "email_marketing_consent": _consent(c.get("emailMarketingConsent")),
        "sms_marketing_consent": _consent(c.get("smsMarketingConsent")),
        "default_address": _address(c.get("defaultAddress")),
    }
    birth = c.get("metafield")  # metafield(namespace: "facts", key: "birth_date") { value }
    if isinstance(birth, dict) and birth.get("value") is not None:
        body["metafields"] = [{"namespace": "facts", "key": "birth_date", "value": birth["value"]}]
    return body


def _line_item(li: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _number(li.get("id")),
        "product_id": _number((li.get("product") or {}).get("id")),
        "variant_id": _number((li.get("variant") or {}).get("id")),
        "sku": li.get("sku"),
        "title": li.get("title") or "",
        "quantity": li.get("quantity"),
        "price": _shop_money(li, "originalUnitPriceSet"),
    }


def _refund(r: dict[str, Any], order_id: int | None) -> dict[str, Any]:
    """A Refund with its total as one successful refund transaction (what the REST total sums)."""
    paid = {"kind": "refund", "status": "success", "amount": _shop_money(r, "totalRefundedSet")}
    return {
        "id": _number(r.get("id")),
        "order_id": order_id,
        "created_at": r.get("createdAt"),
        "transactions": [paid],
    }


def _fulfillment(f: dict[str, Any]) -> dict[str, Any]:
    numbers = [t.get("number") for t in f.get("trackingInfo") or [] if isinstance(t, dict)]
    return {
        "tracking_number": next((n for n in numbers if n), None),
        "shipment_status": _lower(f.get("displayStatus")),
        "updated_at": f.get("updatedAt"),
    }


def order_body(o: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any]:
    """A GraphQL Order (its `lineItems` and any `refunds` given as child lines) as the order
    webhook's body."""
    number = _number(o.get("id"))
    kids = [(gid(c.get("id")) or ("", 0))[0] for c in children]
    items = [c for c, kind in zip(children, kids, strict=True) if kind == "LineItem"]
    refunds = list(o.get("refunds") or []) + [c for c, k in zip(children, kids, strict=True) if k == "Refund"]
    customer = o.get("customer")
    return {
        "id": number,
        "name": o.get("name"),
        "email": o.get("email"),
        "phone": o.get("phone"),
        "currency": o.get("currencyCode"),
        "total_price": _shop_money(o, "totalPriceSet"),
        "subtotal_price": _shop_money(o, "subtotalPriceSet"),
        "total_tax": _shop_money(o, "totalTaxSet"),
        "total_discounts": _shop_money(o, "totalDiscountsSet"),
        "financial_status": _lower(o.get("displayFinancialStatus")),
        "fulfillment_status": FULFILLMENT.get(o.get("displayFulfillmentStatus") or ""),
        "cancelled_at": o.get("cancelledAt"),
        "created_at": o.get("createdAt"),
        "updated_at": o.get("updatedAt"),
        "source_name": o.get("sourceName"),
        "buyer_accepts_marketing": o.get("customerAcceptsMarketing"),
        "customer": customer_body(customer) if isinstance(customer, dict) else None,
        "billing_address": _address(o.get("billingAddress")),
        "shipping_address": _address(o.get("shippingAddress")),
        "line_items": [_line_item(li) for li in items],
        "refunds": [_refund(r, number) for r in refunds if isinstance(r, dict)],
        "fulfillments": [_fulfillment(f) for f in o.get("fulfillments") or [] if isinstance(f, dict)],
        "discount_codes": [{"code": c} for c in o.get("discountCodes") or [] if isinstance(c, str)],
    }


@dataclass
class _Group:
    """A top-level node with its children, or a line refused on its own."""

    row: int
    node: dict[str, Any] | None = None
    reason: str | None = None
    texts: list[bytes] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 1


def _groups(lines: list[bytes]) -> list[_Group]:
    """The file's lines in groups: children (any depth) join their top-level node's group,
    wherever they are; each line counts in the rows of the group whose line last came before."""
    groups: list[_Group] = []
    owners: dict[str, _Group] = {}  # a node's global id -> the group it belongs to
    current: _Group | None = None
    for row, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:  # a blank line belongs to the record before it
            if current is not None:
                current.rows += 1
            continue
        try:
            node: Any = json.loads(text)
        except ValueError:
            node = None
        if not isinstance(node, dict):
            current = _Group(row, reason="not a JSON object", texts=[text])
            groups.append(current)
            continue
        parent = node.get("__parentId")
        if parent is None:
            current = _Group(row, node=node, texts=[text])
            groups.append(current)
            owners[str(node.get("id"))] = current
            continue
        owner = owners.get(str(parent))
        if owner is None:
            current = _Group(row, reason="__parentId: no node with this id before it", texts=[text])
            groups.append(current)
            continue
        owner.children.append(node)
        owner.texts.append(text)
        owners[str(node.get("id"))] = owner
        if current is not None:
            current.rows += 1
    return groups


def _record(group: _Group, delivery: Delivery) -> ImportRecord:
    mark = digest(b"\n".join(group.texts))
    node = group.node
    if node is None:
        return ImportRecord(group.row, mark, reason=group.reason, rows=group.rows)
    kind = (gid(node.get("id")) or ("", 0))[0]
    topic = TOPICS.get(kind)
    if topic is None:
        reason = "id: not the global id of an Order or a Customer"
        return ImportRecord(group.row, mark, reason=reason, rows=group.rows)
    body = order_body(node, group.children) if kind == "Order" else customer_body(node)
    try:
        payload = run_parser(
            shopify.PARSERS, json.dumps(body).encode(), delivery.model_copy(update={"topic": topic})
        )
    except PayloadError as exc:
        errors = [e | {"field": _graphql(str(e.get("field")))} for e in exc.errors]
        return ImportRecord(group.row, mark, reason=reason_of(errors), rows=group.rows)
    return ImportRecord(group.row, mark, payload=payload, rows=group.rows)


def _graphql(path: str) -> str:
    """A webhook field path (line_items.0.quantity) in the bulk file's names (lineItems.0.quantity)."""
    return ".".join(GRAPHQL_NAMES.get(part, part) for part in path.split("."))


def shopify_bulk_jsonl(data: bytes) -> Reader:
    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        for group in _groups(data.splitlines()):
            yield _record(group, delivery)

    return read
