"""Ingest-table images as the stream's consumers see them: one mapping from the stored
order and checkout items (short attributes, docs/data-model.md) to domain values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.domain import records
from chalicelib.domain.ingest_images import CheckoutImage, Image, IngestChange, OrderImage
from chalicelib.domain.timemath import parse_iso

# what a guest's checkout flow run keeps of the person (the run's context "p")
CONTACT = ("e", "ph", "fn", "ln", "ce", "cs", "tz")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


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
    )


def image(item: dict[str, Any] | None) -> Image | None:
    """The order or checkout an ingest-table item holds (None: another kind, or none)."""
    kind = (item or {}).get("t")
    if item is None or kind not in ("order", "checkout"):
        return None
    return order_image(item) if kind == "order" else checkout_image(item)


def ingest_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> IngestChange:
    """A stream record's images, decoded where they enter."""
    return IngestChange(before=image(old), after=image(new), old=old, new=new)
