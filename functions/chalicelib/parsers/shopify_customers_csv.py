"""Shopify's customers CSV export (Admin > Customers > Export) as import records.

One row per customer, read by its column names: `Customer ID`, `First Name`, `Last Name`,
`Email`, `Accepts Email Marketing`, `Default Address Company`, `Default Address Address1`,
`Default Address Address2`, `Default Address City`, `Default Address Province Code`,
`Default Address Country Code`, `Default Address Zip`, `Default Address Phone`, `Phone`,
`Accepts SMS Marketing`, `Total Spent`, `Total Orders`, `Note`, `Tax Exempt`, `Tags`, and a
column per exported metafield named `<label> (customer.metafields.<namespace>.<key>)`.
A leading apostrophe (the export's guard for ids and phone numbers) is dropped from every
cell. `Customer ID` is the id Shopify's webhooks carry, so the profile gets its Shopify id.

The export holds no time: a customer takes the import's time, as a customer webhook
without one takes its receipt time (parsers/shopify.py), so its fields are the newest the
profile has (docs/import.md#shopify-customers-csv).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from chalicelib.domain.history_import import ImportRecord, Reader
from chalicelib.domain.models import Customer, Delivery
from chalicelib.parsers.history import digest
from chalicelib.parsers.shopify import (
    ShopifyAddress,
    ShopifyConsent,
    ShopifyCustomer,
    ShopifyMetafield,
    _person,
)

BIRTH_DATE_COLUMN = "(customer.metafields.facts.birth_date)"  # Shopify's standard birth date
YES_NO = {"yes": True, "no": False, "true": True, "false": False}


class RowError(ValueError):
    """A cell the export should not hold; the message names the column, never the value."""


def _cell(row: dict[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    return value[1:] if value.startswith("'") else value


def _yes(row: dict[str, str], name: str) -> bool | None:
    text = _cell(row, name).lower()
    if text and text not in YES_NO:
        raise RowError(f"{name}: not yes or no")
    return YES_NO.get(text)


def customer_of(row: dict[str, str], delivery: Delivery) -> Customer:
    customer_id = _cell(row, "Customer ID")
    if not customer_id.isdigit():
        raise RowError("Customer ID: missing (Shopify's customer id)")
    at = delivery.received_at
    sms = _yes(row, "Accepts SMS Marketing")
    birth = next((_cell(row, k) for k in row if k and k.strip().endswith(BIRTH_DATE_COLUMN)), "")
    customer = ShopifyCustomer(
        id=int(customer_id),
        email=_cell(row, "Email") or None,
        phone=_cell(row, "Phone") or _cell(row, "Default Address Phone") or None,
        first_name=_cell(row, "First Name") or None,
        last_name=_cell(row, "Last Name") or None,
        sms_marketing_consent=ShopifyConsent(state="subscribed" if sms else "not_subscribed")
        if sms is not None
        else None,
        default_address=ShopifyAddress(
            country_code=_cell(row, "Default Address Country Code") or None,
            province_code=_cell(row, "Default Address Province Code") or None,
        )
        if _cell(row, "Default Address Country Code")
        else None,
        metafields=[ShopifyMetafield(namespace="facts", key="birth_date", value=birth)] if birth else [],
    )
    person = _person(
        delivery, customer, customer.email, customer.phone, _yes(row, "Accepts Email Marketing"), at
    )
    return Customer(customer_id=customer_id, created_at=None, updated_at=at, person=person)


def shopify_customers_csv(data: bytes) -> Reader:
    def read(delivery: Delivery) -> Iterator[ImportRecord]:
        text = data.decode("utf-8-sig", errors="replace")
        for n, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=1):
            mark = digest("\x1f".join(f"{k}={v}" for k, v in row.items()).encode())
            try:
                yield ImportRecord(n, mark, payload=customer_of(row, delivery))
            except RowError as exc:
                yield ImportRecord(n, mark, reason=str(exc))
            except ValueError as exc:  # a model's own rule (pydantic): its field names only
                yield ImportRecord(n, mark, reason=f"invalid customer: {type(exc).__name__}")

    return read
