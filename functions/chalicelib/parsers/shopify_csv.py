"""Shopify's orders CSV export (Admin > Orders > Export) as import records.

One row per line item; the order's own fields are on the first row of each `Name` only.
Times read `2025-10-07 09:50:26 +0200`; a leading apostrophe (the export's guard that
keeps a spreadsheet from reading a postcode or a phone as a number) is dropped from every
cell. The export has no refunds, only `Refunded Amount` with the Financial Status
`partially_refunded` or `refunded`: that amount becomes one refund (id `csv`) at the
order's last known time, ignored once the order holds a refund with its own id. `Id` is
Shopify's order id, the one its webhooks carry, so an imported order and its webhooks share
one ingest item.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import (
    SUMMARY_REFUND_ID,
    Delivery,
    DiscountCode,
    LineItem,
    Order,
    OrderStatus,
    Refund,
)
from chalicelib.parsers.dates import EARLIEST, FUTURE_DAYS
from chalicelib.parsers.history import digest
from chalicelib.parsers.shopify import CHANNELS, ShopifyAddress, _person

TIME = "%Y-%m-%d %H:%M:%S %z"
REFUND_ID = SUMMARY_REFUND_ID  # docs/import.md#shopify-csv: counted until real refunds arrive


class RowError(ValueError):
    """A cell the export should not hold; the message names the column, never the value."""


def _cell(row: dict[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    return value[1:] if value.startswith("'") else value


def _time(row: dict[str, str], name: str, received: datetime) -> datetime | None:
    text = _cell(row, name)
    if not text:
        return None
    try:
        at = datetime.strptime(text, TIME).astimezone(UTC)
    except ValueError:
        raise RowError(f"{name}: not a time like 2025-10-07 09:50:26 +0200") from None
    if not EARLIEST <= at <= received + timedelta(days=FUTURE_DAYS):
        raise RowError(f"{name}: date outside the accepted window")
    return at


def _money(row: dict[str, str], name: str, required: bool = False) -> Decimal | None:
    text = _cell(row, name)
    if not text:
        if required:
            raise RowError(f"{name}: missing")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{name}: not an amount like 19.90") from None
    if not value.is_finite():
        raise RowError(f"{name}: not an amount like 19.90")
    return value


def _status(financial: str, fulfillment: str, cancelled: datetime | None) -> OrderStatus:
    if cancelled is not None or financial == "voided":
        return OrderStatus.CANCELLED
    if financial in ("refunded", "partially_refunded"):
        return OrderStatus(financial)
    if fulfillment == "fulfilled":
        return OrderStatus.FULFILLED
    if financial == "paid":
        return OrderStatus.PAID
    return OrderStatus.PENDING


def _line(row: dict[str, str]) -> LineItem:
    quantity = _cell(row, "Lineitem quantity")
    if not quantity.isdigit():
        raise RowError("Lineitem quantity: not a whole number")
    price = _money(row, "Lineitem price", required=True)
    assert price is not None
    return LineItem(
        sku=_cell(row, "Lineitem sku") or None,
        title=_cell(row, "Lineitem name")[:120],
        quantity=int(quantity),
        price=price,
    )


def order_of(rows: list[dict[str, str]], delivery: Delivery) -> Order:
    """One order from its rows (the first holds the order's fields)."""
    first = rows[0]
    order_id = _cell(first, "Id")
    if not order_id.isdigit():
        raise RowError("Id: missing (Shopify's order id)")
    currency = _cell(first, "Currency").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise RowError("Currency: not a three-letter code")
    received = delivery.received_at
    created = _time(first, "Created at", received)
    if created is None:
        raise RowError("Created at: missing")
    cancelled = _time(first, "Cancelled at", received)
    times = [created, cancelled, _time(first, "Paid at", received), _time(first, "Fulfilled at", received)]
    updated = max(t for t in times if t is not None)
    financial, fulfillment = _cell(first, "Financial Status"), _cell(first, "Fulfillment Status")
    status = _status(financial, fulfillment, cancelled)
    refunded = _money(first, "Refunded Amount")
    refunds: tuple[Refund, ...] = ()
    if refunded and refunded > 0 and status in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED):
        refunds = (Refund(refund_id=REFUND_ID, amount=refunded, created_at=updated),)
    address = ShopifyAddress(
        country_code=_cell(first, "Shipping Country") or _cell(first, "Billing Country") or None,
        province_code=_cell(first, "Shipping Province") or _cell(first, "Billing Province") or None,
    )
    phone = _cell(first, "Phone") or _cell(first, "Billing Phone") or _cell(first, "Shipping Phone")
    marketing = _cell(first, "Accepts Marketing").lower()
    person = _person(
        delivery,
        None,
        _cell(first, "Email") or None,
        phone or None,
        {"yes": True, "no": False}.get(marketing),
        created,
        address if address.country_code else None,
    )
    code = _cell(first, "Discount Code")
    total = _money(first, "Total", required=True)
    assert total is not None
    return Order(
        order_id=order_id,
        number=_cell(first, "Name") or None,
        currency=currency,
        total=total,
        subtotal=_money(first, "Subtotal"),
        tax=_money(first, "Taxes"),
        shipping=_money(first, "Shipping"),
        discounts=_money(first, "Discount Amount"),
        status=status,
        financial_status=financial or None,
        fulfillment_status=fulfillment or None,
        cancelled_at=cancelled,
        created_at=created,
        updated_at=updated,
        channel=CHANNELS.get(_cell(first, "Source") or "web", _cell(first, "Source") or "web"),
        person=person,
        line_items=tuple(_line(r) for r in rows),
        refunds=refunds,
        discount_codes=(DiscountCode(code=code[:120], amount=_money(first, "Discount Amount")),)
        if code
        else (),
    )


def shopify_csv(data: bytes) -> Reader:
    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        text = data.decode("utf-8-sig", errors="replace")
        rows = csv.DictReader(io.StringIO(text, newline=""))
        group: list[dict[str, str]] = []
        start = 0
        for n, row in enumerate(rows, start=1):
            name = (row.get("Name") or "").strip()
            if group and name != (group[0].get("Name") or "").strip():
                yield _record(group, start, delivery)
                group = []
            if not group:
                start = n
            group.append(row)
        if group:
            yield _record(group, start, delivery)

    return read


def _record(rows: list[dict[str, str]], start: int, delivery: Delivery) -> ImportRecord:
    mark = digest("\x1e".join("\x1f".join(f"{k}={v}" for k, v in r.items()) for r in rows).encode())
    try:
        return ImportRecord(start, mark, payload=order_of(rows, delivery), rows=len(rows))
    except RowError as exc:
        return ImportRecord(start, mark, reason=str(exc), rows=len(rows))
    except ValueError as exc:  # a model's own rule (pydantic): its field names only
        return ImportRecord(start, mark, reason=f"invalid order: {type(exc).__name__}", rows=len(rows))
