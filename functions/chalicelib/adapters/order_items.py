"""Ingest-table images as the stream's consumers see them: one mapping from the stored
order and checkout items (short attributes, docs/data-model.md) to domain values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.adapters import records
from chalicelib.domain.ingest_images import (
    CheckoutImage,
    CustomerImage,
    Image,
    IngestChange,
    OrderImage,
    PrivacyRequestImage,
)
from chalicelib.domain.order_snapshot import OrderDetail, OrderLine, OrderRefund
from chalicelib.domain.timemath import parse_iso

# what a guest's checkout flow run keeps of the person (the run's context "p")
CONTACT = ("e", "ph", "fn", "ln", "ce", "cs", "tz")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _first_product(lines: list[dict[str, Any]]) -> str | None:
    return next((str(li["p"]) for li in lines if li.get("p")), None)


def _product_ids(lines: list[dict[str, Any]]) -> tuple[str, ...]:
    """Every line's product id and SKU, once each (as a profile's products hold both)."""
    return tuple(dict.fromkeys(str(v) for li in lines for v in (li.get("p"), li.get("s")) if v))


def order_image(item: dict[str, Any]) -> OrderImage:
    lines = item.get("li") or []
    return OrderImage(
        key=str(item["pk"]),
        snapshot=records.snapshot(item),
        number=item.get("num"),
        total=_decimal(item.get("tot")),
        updated_at=parse_iso(item.get("ua")),
        delivered_at=item.get("dlv"),
        tracking=tuple(str(t) for t in item.get("trk") or [] if t),
        line_names=tuple(str(li.get("t") or li.get("p")) for li in lines if li.get("t") or li.get("p")),
        redacted=bool(item.get("rdx")),
        first_product=_first_product(lines),
        product_ids=_product_ids(lines),
        imported=bool(item.get("imp")),
        historical=bool(item.get("ih")),
        discount_codes=tuple(str(d["c"]) for d in item.get("dcs") or [] if d.get("c")),
        refunds=_refunds(item),
    )


def _refunds(item: dict[str, Any]) -> tuple[OrderRefund, ...]:
    return tuple(
        OrderRefund(refund_id=refund_id, amount=Decimal(str(v["a"])), created_at=v.get("at"))
        for refund_id, v in records.refunds(item)
    )


def order_detail(item: dict[str, Any]) -> OrderDetail:
    """A stored order item as the admin API shows it (refunds from its `rf_` attributes)."""
    return OrderDetail(
        snapshot=records.snapshot(item),
        number=item.get("num"),
        status=item.get("st"),
        financial_status=item.get("fs"),
        fulfillment_status=item.get("ffs"),
        total=_decimal(item.get("tot")),
        created_at=item.get("ca"),
        updated_at=item.get("ua"),
        cancelled_at=item.get("cx"),
        lines=tuple(
            OrderLine(
                product_id=li.get("p"),
                sku=li.get("s"),
                title=li.get("t"),
                quantity=int(li.get("q", 0)),
                price=Decimal(str(li.get("a", 0))),
                category=li.get("c"),
                line_id=li.get("i"),
            )
            for li in item.get("li") or []
        ),
        refunds=_refunds(item),
        tracking=tuple(item.get("trk") or []),
        discount_codes=tuple((str(d["c"]), _decimal(d.get("a"))) for d in item.get("dcs") or []),
        events=tuple(
            (str(e[0]), str(e[1]), _decimal(e[2]) if len(e) > 2 else None) for e in item.get("hist") or []
        ),
    )


def checkout_image(item: dict[str, Any]) -> CheckoutImage:
    person = item.get("p") or {}
    return CheckoutImage(
        key=str(item["pk"]),
        workspace_id=str(item["ws"]),
        checkout_id=str(item.get("kid")),
        person=records.person_from(person),
        contact={k: person[k] for k in CONTACT if person.get(k)},
        currency=item.get("cur"),
        total=item.get("tot"),
        created_at=parse_iso(item.get("ca")),
        completed_at=parse_iso(item.get("cpl")),
        recovery_url=item.get("url"),
        titles=tuple(str(li["t"]) for li in item.get("li") or [] if li.get("t")),
        redacted=bool(item.get("rdx")),
        source_id=item.get("src"),
        first_product=_first_product(item.get("li") or []),
        product_ids=_product_ids(item.get("li") or []),
        imported=bool(item.get("imp")),
    )


def customer_image(item: dict[str, Any]) -> CustomerImage:
    return CustomerImage(
        key=str(item.get("pk") or ""),
        workspace_id=str(item["ws"]),
        source_id=str(item["src"]),
        person=records.person_from(item.get("p")),
        created_at=parse_iso(item.get("ca")),
        updated_at=parse_iso(item.get("ua")),
        redacted=bool(item.get("rdx")),
        imported=bool(item.get("imp")),
    )


def privacy_image(item: dict[str, Any]) -> PrivacyRequestImage:
    return PrivacyRequestImage(
        key=str(item.get("pk") or ""),
        workspace_id=str(item["ws"]),
        source_id=str(item["src"]),
        request=str(item["req"]),
        request_id=str(item["rid"]),
        person=records.person_from(item.get("p")),
        customer_id=str(item["cid"]) if item.get("cid") else None,
        orders=tuple(str(o) for o in item.get("ords") or []),
        redacted=bool(item.get("rdx")),
    )


DECODERS: dict[str, Any] = {
    "order": order_image,
    "checkout": checkout_image,
    "customer": customer_image,
    "privacy": privacy_image,
}


def image(item: dict[str, Any] | None) -> Image | None:
    """What an ingest-table item holds, decoded (None: none, or a kind no consumer reads)."""
    decode = DECODERS.get(str((item or {}).get("t")))
    return None if item is None or decode is None else decode(item)


def ingest_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> IngestChange:
    """A stream record's images, decoded where they enter."""
    return IngestChange(before=image(old), after=image(new))
