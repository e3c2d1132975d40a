"""Patron's generic JSON schema, for any shop able to send signed JSON.

See docs/webhooks.md. Money must be a decimal string ("19.90"), never a JSON
number; timestamps must carry an offset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from chalicelib.domain.identity import normalize_email, normalize_phone, platform_key, read_phone
from chalicelib.domain.models import (
    Checkout,
    Consent,
    ConsentState,
    ContactForm,
    Customer,
    Delivery,
    DiscountCode,
    IngestPayload,
    LineItem,
    Order,
    OrderStatus,
    Person,
    PrivacyRequest,
    Refund,
    RefundEvent,
)
from chalicelib.domain.timezones import zone_for_address
from chalicelib.parsers import Parser, PayloadError
from chalicelib.parsers.dates import AwareStamp, birth_month_day, window

MoneyStr = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,4})?$")]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenericCustomerRef(_M):
    id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_member: bool | None = None
    birthday: str | None = None  # YYYY-MM-DD or MM-DD; only the month and day are kept
    birth_date: str | None = None  # the same, under the name Shopify and others use
    timezone: str | None = None  # IANA, e.g. Asia/Shanghai
    country: str | None = None  # ISO 3166 alpha-2 of the address: reads a national phone number
    state: str | None = None  # its province/state code (ISO 3166-2, e.g. CA, NSW): the time zone

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("birthday", "birth_date")
    @classmethod
    def _month_day(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else birth_month_day(value, info)

    email_consent: ConsentState | None = None
    sms_consent: ConsentState | None = None
    consent_updated_at: AwareStamp | None = None


class GenericLineItem(_M):
    product_id: str | None = None
    sku: str | None = None
    title: str = ""
    quantity: int = Field(ge=0)
    price: MoneyStr
    category: str | None = None


class GenericRefundLine(_M):
    """A product the refund took back (`quantity` 0: none of it)."""

    product_id: str = Field(min_length=1, max_length=128)
    quantity: int | None = Field(default=None, ge=0)


class GenericRefund(_M):
    id: str
    amount: MoneyStr
    created_at: AwareStamp
    line_items: list[GenericRefundLine] = Field(default=[], max_length=250)

    def refund(self) -> Refund:
        products = tuple(li.product_id for li in self.line_items if li.quantity != 0)
        return Refund(
            refund_id=self.id, amount=Decimal(self.amount), created_at=self.created_at, products=products
        )


class GenericOrder(_M):
    type: Literal["order"]
    id: str = Field(min_length=1, max_length=128)
    number: str | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: MoneyStr
    # optional parts of `total` (the points' earning base, docs/loyalty.md): after discounts
    subtotal: MoneyStr | None = None
    shipping: MoneyStr | None = None
    tax: MoneyStr | None = None
    status: OrderStatus
    channel: str = "web"
    created_at: AwareStamp
    updated_at: AwareStamp
    customer: GenericCustomerRef
    line_items: list[GenericLineItem] = []
    refunds: list[GenericRefund] = []
    tracking: list[str] = []
    delivered_at: AwareStamp | None = None
    discount_codes: list[str] = []  # the codes the buyer entered


class GenericCustomer(GenericCustomerRef):
    type: Literal["customer"]
    id: str = Field(min_length=1, max_length=128)
    created_at: AwareStamp | None = None
    updated_at: AwareStamp


class GenericCheckout(_M):
    """An open cart with contact details: abandoned-checkout flows start from it; a later
    update with `completed_at` (or an order) ends them."""

    type: Literal["checkout"]
    id: str = Field(min_length=1, max_length=128)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: MoneyStr
    created_at: AwareStamp
    updated_at: AwareStamp
    completed_at: AwareStamp | None = None
    recovery_url: str | None = Field(default=None, max_length=2000)
    customer: GenericCustomerRef
    line_items: list[GenericLineItem] = []


class GenericRefundEvent(GenericRefund):
    """A refund on its own, for an order sent before (or after: it waits on the order)."""

    type: Literal["refund"]
    order_id: str = Field(min_length=1, max_length=128)


class GenericPrivacyCustomer(_M):
    id: str | None = None
    email: str | None = None
    phone: str | None = None


PRIVACY_REQUESTS: dict[str, Literal["customers_redact", "customers_data_request", "shop_redact"]] = {
    "customer_redact": "customers_redact",
    "customer_data_request": "customers_data_request",
    "shop_redact": "shop_redact",
}


class GenericPrivacy(_M):
    """A privacy request: erase a customer, export their data, or erase the whole shop."""

    type: Literal["customer_redact", "customer_data_request", "shop_redact"]
    id: str = Field(min_length=1, max_length=128)  # the request's id: a repeat is a duplicate
    customer: GenericPrivacyCustomer | None = None
    orders: list[str] = []


class GenericContactForm(_M):
    """A storefront contact form: who (email and/or phone, name), what, and when."""

    type: Literal["contact_form"]
    id: str = Field(min_length=1, max_length=128)  # the submission's id: a repeat is a duplicate
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")  # reads a national phone number
    name: str | None = Field(default=None, max_length=200)
    subject: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=10_000)
    order_id: str | None = Field(default=None, min_length=1, max_length=128)
    kind: Literal["pre_sale", "order_issue", "complaint", "suggestion", "return_request"] = "pre_sale"
    submitted_at: AwareStamp


def _consent(state: ConsentState | None, at: datetime | None) -> Consent | None:
    return Consent(state=state, updated_at=at) if state else None


def _person(delivery: Delivery, c: GenericCustomerRef) -> Person:
    phone, phone_invalid = read_phone(c.phone, c.country or delivery.default_region)
    return Person(
        email=normalize_email(c.email),
        phone=phone,
        phone_invalid=phone_invalid,
        ext=platform_key("generic", delivery.source_id, c.id),
        first_name=c.first_name,
        last_name=c.last_name,
        is_member=c.is_member,
        birthday=c.birthday or c.birth_date,
        timezone=c.timezone or zone_for_address(c.country, c.state),
        email_consent=_consent(c.email_consent, c.consent_updated_at),
        sms_consent=_consent(c.sms_consent, c.consent_updated_at),
    )


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def parse_order(body: bytes, delivery: Delivery) -> IngestPayload:
    o = GenericOrder.model_validate_json(body, context=window(delivery))
    return Order(
        order_id=o.id,
        number=o.number,
        currency=o.currency,
        total=Decimal(o.total),
        subtotal=_money(o.subtotal),
        shipping=_money(o.shipping),
        tax=_money(o.tax),
        status=o.status,
        cancelled_at=o.updated_at if o.status is OrderStatus.CANCELLED else None,
        created_at=o.created_at,
        updated_at=o.updated_at,
        channel=o.channel,
        person=_person(delivery, o.customer),
        line_items=_lines(o.line_items),
        refunds=tuple(r.refund() for r in o.refunds),
        tracking=tuple(o.tracking),
        delivered_at=o.delivered_at,
        discount_codes=tuple(DiscountCode(code=c[:120]) for c in o.discount_codes if c.strip()),
    )


def parse_customer(body: bytes, delivery: Delivery) -> IngestPayload:
    c = GenericCustomer.model_validate_json(body, context=window(delivery))
    return Customer(
        customer_id=c.id, created_at=c.created_at, updated_at=c.updated_at, person=_person(delivery, c)
    )


def _lines(items: list[GenericLineItem]) -> tuple[LineItem, ...]:
    return tuple(
        LineItem(
            product_id=li.product_id,
            sku=li.sku,
            title=li.title[:120],
            quantity=li.quantity,
            price=Decimal(li.price),
            category=li.category,
        )
        for li in items
    )


def parse_checkout(body: bytes, delivery: Delivery) -> IngestPayload:
    k = GenericCheckout.model_validate_json(body, context=window(delivery))
    return Checkout(
        checkout_id=k.id,
        currency=k.currency,
        total=Decimal(k.total),
        created_at=k.created_at,
        updated_at=k.updated_at,
        completed_at=k.completed_at,
        recovery_url=k.recovery_url,
        person=_person(delivery, k.customer),
        line_items=_lines(k.line_items),
    )


def parse_refund(body: bytes, delivery: Delivery) -> IngestPayload:
    r = GenericRefundEvent.model_validate_json(body, context=window(delivery))
    return RefundEvent(order_id=r.order_id, refund=r.refund())


def parse_privacy(body: bytes, delivery: Delivery) -> IngestPayload:
    p = GenericPrivacy.model_validate_json(body, context=window(delivery))
    if p.type != delivery.topic:
        raise PayloadError(
            f"invalid {delivery.topic} payload",
            [{"field": "type", "error": f"must be {delivery.topic!r}, the topic", "type": "literal_error"}],
        )
    c = p.customer
    person = None
    if c is not None:
        person = Person(
            email=normalize_email(c.email),
            phone=normalize_phone(c.phone, delivery.default_region),
            ext=platform_key("generic", delivery.source_id, c.id),
        )
    return PrivacyRequest(
        request=PRIVACY_REQUESTS[p.type],
        request_id=p.id,
        person=person,
        orders=tuple(p.orders),
    )


def parse_contact_form(body: bytes, delivery: Delivery) -> IngestPayload:
    f = GenericContactForm.model_validate_json(body, context=window(delivery))
    email = normalize_email(f.email)
    phone, _ = read_phone(f.phone, f.country or delivery.default_region)
    if email is None and phone is None:
        problem = {"field": "email", "error": "an email or a valid phone is required", "type": "missing"}
        raise PayloadError("invalid contact_form payload", [problem])
    first, _, last = " ".join((f.name or "").split()).partition(" ")
    return ContactForm(
        form_id=f.id,
        person=Person(email=email, phone=phone, first_name=first or None, last_name=last or None),
        subject=" ".join(f.subject.split()) or f.subject,
        message=f.message,
        ticket_kind=f.kind,
        order_id=f.order_id,
        submitted_at=f.submitted_at,
    )


PARSERS: dict[str, Parser] = {
    "order": parse_order,
    "customer": parse_customer,
    "checkout": parse_checkout,
    "refund": parse_refund,
    "customer_redact": parse_privacy,
    "customer_data_request": parse_privacy,
    "shop_redact": parse_privacy,
    "contact_form": parse_contact_form,
}
