"""WooCommerce REST v3 webhook bodies (order.*, customer.*).

WooCommerce's `*_gmt` timestamps carry no offset; they are UTC by definition. Marketing
consent and shipment tracking come from plugins' `meta_data` (parsers/woo_meta.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.identity import normalize_email, platform_key, read_phone
from chalicelib.domain.models import (
    Customer,
    Delivery,
    DiscountCode,
    IngestPayload,
    LineItem,
    Order,
    OrderDeletion,
    OrderStatus,
    Person,
    Refund,
)
from chalicelib.domain.money import round_money
from chalicelib.domain.timezones import zone_for_address
from chalicelib.parsers import Parser, products, woo_meta
from chalicelib.parsers.dates import Stamp, month_day_or_none, window
from chalicelib.parsers.woo_meta import WooMeta


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WooContact(_M):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None  # ISO 3166 alpha-2
    state: str | None = None  # WooCommerce's state code (ISO 3166-2 for most countries)


class WooLineItem(_M):
    product_id: int | None = None
    variation_id: int | None = None
    sku: str | None = None
    name: str = ""
    quantity: int
    total: Decimal
    subtotal: Decimal | None = None


class WooRefundLine(_M):
    product_id: int | None = None
    quantity: int | None = None  # negative: what it took back


class WooRefund(_M):
    """An order's refund: `id` and `total` in webhooks and REST order lists; a REST refund
    (`GET /orders/<id>/refunds`) may also carry its `line_items`."""

    id: int
    total: Decimal
    line_items: list[WooRefundLine] = []

    def products(self) -> tuple[str, ...]:
        return tuple(str(li.product_id) for li in self.line_items if li.product_id and li.quantity != 0)


class WooCoupon(_M):
    code: str
    discount: Decimal | None = None


class WooOrder(_M):
    id: int
    number: str | None = None
    status: str
    currency: str
    total: Decimal
    total_tax: Decimal | None = None
    shipping_total: Decimal | None = None
    discount_total: Decimal | None = None
    date_created_gmt: Stamp
    date_modified_gmt: Stamp
    customer_id: int = 0
    created_via: str | None = None
    billing: WooContact = WooContact()
    line_items: list[WooLineItem] = []
    refunds: list[WooRefund] = []
    coupon_lines: list[WooCoupon] = []
    meta_data: list[WooMeta] = []


class WooDeleted(_M):
    id: int


class WooCustomer(_M):
    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_created_gmt: Stamp | None = None
    date_modified_gmt: Stamp | None = None
    billing: WooContact = WooContact()
    meta_data: list[WooMeta] = []


STATUS = {
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.FULFILLED,
    "cancelled": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,
    "trash": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}
CHANNELS = {"checkout": "web", "admin": "offline", "rest-api": "api", "pos": "pos"}


def gmt(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


DEFAULT_BIRTHDAY_KEY = "birthday"  # a source's --birthday-meta-key replaces it (docs/webhooks.md)


def _birthday(meta: list[WooMeta], delivery: Delivery) -> str | None:
    """MM-DD of the birth date under the source's meta key (YYYY-MM-DD or MM-DD), if any."""
    key = delivery.birthday_meta_key or DEFAULT_BIRTHDAY_KEY
    for entry in meta:
        if entry.key == key:
            return month_day_or_none(entry.value, delivery.received_at)
    return None


def _person(
    delivery: Delivery,
    customer_id: int,
    contact: WooContact,
    email: str | None,
    meta: list[WooMeta],
    at: datetime,
) -> Person:
    region = contact.country or delivery.default_region
    values = woo_meta.as_map(meta)
    email_keys = delivery.email_consent_keys
    sms_keys = delivery.sms_consent_keys
    phone, phone_invalid = read_phone(contact.phone, region)
    return Person(
        email=normalize_email(email or contact.email),
        phone=phone,
        phone_invalid=phone_invalid,
        ext=platform_key("woocommerce", delivery.source_id, customer_id),
        first_name=contact.first_name or None,
        last_name=contact.last_name or None,
        is_member=customer_id > 0,
        birthday=_birthday(meta, delivery),
        timezone=zone_for_address(contact.country, contact.state, "woocommerce"),
        email_consent=woo_meta.consent(
            values,
            woo_meta.DEFAULT_EMAIL_CONSENT_KEYS if email_keys is None else email_keys,
            at,
            delivery.received_at,
        ),
        sms_consent=woo_meta.consent(
            values,
            woo_meta.DEFAULT_SMS_CONSENT_KEYS if sms_keys is None else sms_keys,
            at,
            delivery.received_at,
        ),
    )


def parse_order(body: bytes, delivery: Delivery) -> IngestPayload:
    o = WooOrder.model_validate_json(body, context=window(delivery))
    status = STATUS.get(o.status, OrderStatus.PENDING)
    created, modified = gmt(o.date_created_gmt), gmt(o.date_modified_gmt)
    tracking = woo_meta.shipments(woo_meta.as_map(o.meta_data))
    if tracking and status is OrderStatus.PAID:
        status = OrderStatus.FULFILLED  # Shipment Tracking keeps a shipment: it has shipped
    if o.refunds and status not in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        status = OrderStatus.PARTIALLY_REFUNDED
    return Order(
        order_id=str(o.id),
        number=o.number,
        currency=o.currency.upper(),
        total=o.total,
        tax=o.total_tax,
        shipping=o.shipping_total,
        discounts=o.discount_total,
        status=status,
        financial_status=o.status,
        fulfillment_status="shipped" if tracking else None,
        cancelled_at=modified if status is OrderStatus.CANCELLED else None,
        created_at=created,
        updated_at=modified,
        channel=CHANNELS.get(o.created_via or "checkout", o.created_via or "web"),
        # consent given at checkout: the order's own time
        person=_person(delivery, o.customer_id, o.billing, None, o.meta_data, created),
        line_items=tuple(
            LineItem(
                product_id=str(li.product_id) if li.product_id else None,
                variant_id=str(li.variation_id) if li.variation_id else None,
                sku=li.sku or None,
                title=li.name[:120],
                quantity=li.quantity,
                price=round_money(li.total / li.quantity, o.currency) if li.quantity else li.total,
            )
            for li in o.line_items
        ),
        # Woo reports refunds as negative totals without their own timestamps.
        refunds=tuple(
            Refund(refund_id=str(r.id), amount=abs(r.total), created_at=modified, products=r.products())
            for r in o.refunds
        ),
        tracking=tracking,
        discount_codes=tuple(
            DiscountCode(code=c.code[:120], amount=c.discount) for c in o.coupon_lines if c.code.strip()
        ),
        restores=delivery.topic == "order.restored",
    )


def parse_deleted(body: bytes, delivery: Delivery) -> IngestPayload:
    """order.deleted: WooCommerce sends only `{"id": N}` for a trashed or deleted order."""
    d = WooDeleted.model_validate_json(body, context=window(delivery))
    return OrderDeletion(order_id=str(d.id), at=delivery.received_at)


def parse_customer(body: bytes, delivery: Delivery) -> IngestPayload:
    c = WooCustomer.model_validate_json(body, context=window(delivery))
    updated = c.date_modified_gmt or c.date_created_gmt
    return Customer(
        customer_id=str(c.id),
        created_at=gmt(c.date_created_gmt) if c.date_created_gmt else None,
        updated_at=gmt(updated) if updated else delivery.received_at,
        person=_person(
            delivery,
            c.id,
            c.billing,
            c.email,
            c.meta_data,
            gmt(updated) if updated else delivery.received_at,
        ),
    )


PARSERS: dict[str, Parser] = {
    "order.created": parse_order,
    "order.updated": parse_order,
    "order.restored": parse_order,
    "order.deleted": parse_deleted,
    "customer.created": parse_customer,
    "customer.updated": parse_customer,
    "product.created": products.parse_woo_product,
    "product.updated": products.parse_woo_product,
    "product.restored": products.parse_woo_product,
    "product.deleted": products.parse_deleted,
}
