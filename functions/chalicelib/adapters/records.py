"""How canonical records are laid out as stored items (plain dicts, no AWS types).

Short attribute names keep items under 1 KB, which keeps each write at 1 WCU.
See docs/data-model.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.domain.models import (
    SUMMARY_REFUND_ID,
    Checkout,
    Consent,
    ConsentState,
    Customer,
    Delivery,
    DiscountCode,
    LineItem,
    Order,
    OrderStatus,
    Person,
    PrivacyRequest,
    Refund,
    RefundEvent,
)
from chalicelib.domain.order_snapshot import (  # noqa: F401 - domain values, read from here by adapters
    OrderSnapshot,
    public_order_id,
    split_public_order_id,
)
from chalicelib.domain.timemath import iso, parse_iso

REFUND_PREFIX = "rf_"
DELETIONS = "dels"  # string sets of the delivery ids of an order's deletions and restorations
RESTORATIONS = "rsts"


def order_pk(workspace_id: str, source_id: str, order_id: str) -> str:
    return f"W#{workspace_id}#O#{source_id}#{order_id}"


def customer_pk(workspace_id: str, source_id: str, customer_id: str) -> str:
    return f"W#{workspace_id}#C#{source_id}#{customer_id}"


def checkout_pk(workspace_id: str, source_id: str, checkout_id: str) -> str:
    return f"W#{workspace_id}#K#{source_id}#{checkout_id}"


def privacy_pk(workspace_id: str, source_id: str, request_id: str) -> str:
    return f"W#{workspace_id}#R#{source_id}#{request_id}"


def payload_pk(workspace_id: str, source_id: str, payload: Any) -> str | None:
    """The ingest item an order, refund, customer or checkout payload is written to (None:
    another kind). A refund's item is its order's."""
    if isinstance(payload, Order | RefundEvent):
        return order_pk(workspace_id, source_id, payload.order_id)
    if isinstance(payload, Customer):
        return customer_pk(workspace_id, source_id, payload.customer_id)
    if isinstance(payload, Checkout):
        return checkout_pk(workspace_id, source_id, payload.checkout_id)
    return None


def _consent(c: Consent | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"s": c.state.value, "at": iso(c.updated_at)} | ({"rt": True} if c.record_time else {})


def person_fields(p: Person) -> dict[str, Any]:
    values = {
        "e": p.email,
        "ph": p.phone,
        "phx": p.phone_invalid,
        "x": p.ext,
        "fn": p.first_name,
        "ln": p.last_name,
        "m": p.is_member,
        "bd": p.birthday,
        "tz": p.timezone,
        "ce": _consent(p.email_consent),
        "cs": _consent(p.sms_consent),
    }
    return {k: v for k, v in values.items() if v is not None}


def person_from(values: dict[str, Any] | None) -> Person:
    v = values or {}

    def consent(c: dict[str, Any] | None) -> Consent | None:
        if not c:
            return None
        return Consent(
            state=ConsentState(c["s"]), updated_at=parse_iso(c.get("at")), record_time=bool(c.get("rt"))
        )

    return Person(
        email=v.get("e"),
        phone=v.get("ph"),
        phone_invalid=v.get("phx"),
        ext=v.get("x"),
        first_name=v.get("fn"),
        last_name=v.get("ln"),
        is_member=v.get("m"),
        birthday=v.get("bd"),
        timezone=v.get("tz"),
        email_consent=consent(v.get("ce")),
        sms_consent=consent(v.get("cs")),
    )


def _line(li: LineItem) -> dict[str, Any]:
    values = {
        "i": li.line_id,
        "p": li.product_id,
        "s": li.sku,
        "t": li.title,
        "q": li.quantity,
        "a": li.price,
        "c": li.category,
    }
    return {k: v for k, v in values.items() if v is not None and v != ""}


def header_fields(delivery: Delivery, kind: str) -> dict[str, Any]:
    return {
        "t": kind,
        "ws": delivery.workspace_id,
        "src": delivery.source_id,
        "pl": delivery.platform.value,
        "wh": delivery.webhook_id,
        "rcv": iso(delivery.received_at),
        # set by a history import, removed by a webhook's state (None: REMOVE): the stream's
        # notifications, flows and attribution skip an imported state (docs/import.md)
        "imp": True if delivery.imported else None,
    }


def historical_mark(delivery: Delivery, order: Order) -> dict[str, Any]:
    """`ih`: an import stored the order past payment. Only ever set (a webhook's state leaves
    it), so its points follow the workspace's import policy for good (docs/loyalty.md)."""
    return {"ih": True} if delivery.imported and order.status is not OrderStatus.PENDING else {}


def order_fields(order: Order) -> dict[str, Any]:
    """Order attributes set on every accepted version (refunds are stored separately)."""
    values: dict[str, Any] = {
        "oid": order.order_id,
        "num": order.number,
        "cur": order.currency,
        "tot": order.total,
        "sub": order.subtotal,
        "tax": order.tax,
        "shp": order.shipping,
        "dsc": order.discounts,
        "st": order.status.value,
        "fs": order.financial_status,
        "ffs": order.fulfillment_status,
        "cx": iso(order.cancelled_at),
        "ca": iso(order.created_at),
        "ua": iso(order.updated_at),
        "ch": order.channel,
        "p": person_fields(order.person),
        "li": [_line(li) for li in order.line_items],
        "trk": list(order.tracking) or None,
        "dlv": iso(order.delivered_at),
        "dcs": [_code(d) for d in order.discount_codes] or None,
    }
    return values


def _code(d: DiscountCode) -> dict[str, Any]:
    return {"c": d.code} | ({"a": d.amount} if d.amount is not None else {})


def refund_value(refund: Refund) -> dict[str, Any]:
    """A refund's `rf_<id>` map: amount, time and, when the payload named them, `p` the
    products whose lines it took back."""
    value: dict[str, Any] = {"a": refund.amount, "at": iso(refund.created_at)}
    return value | ({"p": list(refund.products)} if refund.products else {})


def refunds(item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The order's counted refunds (id, stored value), by id. An import's summary refund
    (`rf_csv`) stands in for the real ones: beside any refund with its own id it is left
    out, so the amount counts once whichever arrived first (docs/import.md#shopify-csv)."""
    found = sorted((k[len(REFUND_PREFIX) :], v) for k, v in item.items() if k.startswith(REFUND_PREFIX))
    if any(refund_id != SUMMARY_REFUND_ID for refund_id, _ in found):
        return [(refund_id, v) for refund_id, v in found if refund_id != SUMMARY_REFUND_ID]
    return found


def customer_fields(c: Customer) -> dict[str, Any]:
    return {
        "cid": c.customer_id,
        "ca": iso(c.created_at),
        "ua": iso(c.updated_at),
        "p": person_fields(c.person),
    }


def checkout_fields(k: Checkout) -> dict[str, Any]:
    return {
        "kid": k.checkout_id,
        "cur": k.currency,
        "tot": k.total,
        "ca": iso(k.created_at),
        "ua": iso(k.updated_at),
        "cpl": iso(k.completed_at),
        "url": k.recovery_url,
        "p": person_fields(k.person),
        "li": [_line(li) for li in k.line_items],
    }


def privacy_fields(r: PrivacyRequest) -> dict[str, Any]:
    return {
        "req": r.request,
        "rid": r.request_id,
        "p": person_fields(r.person) if r.person else None,
        "ords": list(r.orders) or None,
    }


def is_deleted(item: dict[str, Any]) -> bool:
    """Deleted while it has had more deletions than restorations: sets of delivery ids, so
    the answer does not depend on the order they arrived in, nor on repeats."""
    return len(item.get(DELETIONS) or ()) > len(item.get(RESTORATIONS) or ())


def refunded_products(item: dict[str, Any]) -> tuple[str, ...]:
    """The products the order's counted refunds took back (their `p`), with the SKUs of
    the order's lines of those products: an entry's products hold both (`snapshot`)."""
    taken = {str(p) for _, v in refunds(item) for p in v.get("p") or ()}
    skus = {
        str(li["s"])
        for li in item.get("li") or []
        if li.get("s") and li.get("p") is not None and str(li["p"]) in taken
    }
    return tuple(sorted(taken | skus))


def snapshot(item: dict[str, Any]) -> OrderSnapshot:
    refunded = sum((Decimal(v["a"]) for _, v in refunds(item)), Decimal(0))
    lines = item.get("li") or []
    # both the product id and the SKU, so `bought_product('id or sku')` matches either: first
    # each line's own id (its product id, else its SKU), then the other SKUs, each part sorted
    items = sorted({str(li.get("p") or li["s"]) for li in lines if li.get("p") or li.get("s")})
    skus = sorted({str(li["s"]) for li in lines if li.get("s")} - set(items))
    products = (*items, *skus)
    categories = tuple(sorted({str(li["c"]) for li in lines if li.get("c")}))
    return OrderSnapshot(
        workspace_id=item["ws"],
        source_id=item["src"],
        order_id=item["oid"],
        version=int(item.get("v", 0)),
        is_order="ver" in item,
        status=OrderStatus(item["st"]) if "st" in item else None,
        currency=item.get("cur"),
        total=Decimal(item.get("tot", 0)),
        refunded=refunded,
        created_at=parse_iso(item.get("ca")),
        channel=item.get("ch"),
        person=person_from(item.get("p")),
        products=products,
        categories=categories,
        refunded_products=refunded_products(item),
        item_count=len(items),
        history=tuple((str(h[0]), str(h[1])) for h in item.get("hist") or []),
        titles=tuple(str(li["t"]) for li in lines if li.get("t"))[:3],
        deleted=is_deleted(item),
        subtotal=_part(item.get("sub")),
        shipping=_part(item.get("shp")),
        tax=_part(item.get("tax")),
    )


def _part(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
