"""Shopify Admin REST webhook bodies (orders, refunds, customers, checkouts, privacy)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, field_validator

from chalicelib.domain.identity import normalize_email, normalize_phone, platform_key, read_phone
from chalicelib.domain.models import (
    Checkout,
    Consent,
    ConsentState,
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
    ShopSettings,
)
from chalicelib.domain.timezones import is_zone, zone_for_address
from chalicelib.parsers import Parser, products, shopify_returns
from chalicelib.parsers.dates import AwareStamp, Stamp, month_day_or_none, window


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyConsent(_M):
    state: str | None = None
    consent_updated_at: Stamp | None = None


class ShopifyMetafield(_M):
    namespace: str | None = None
    key: str | None = None
    value: object = None


class ShopifyCustomer(_M):
    id: int
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    state: str | None = None
    created_at: Stamp | None = None
    updated_at: Stamp | None = None
    accepts_marketing: bool | None = None
    email_marketing_consent: ShopifyConsent | None = None
    sms_marketing_consent: ShopifyConsent | None = None
    default_address: ShopifyAddress | None = None
    # Only those of the namespaces the webhook subscription includes (metafield_namespaces)
    metafields: list[ShopifyMetafield] = []


class ShopifyLineItem(_M):
    id: int | None = None
    product_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None
    title: str = ""
    quantity: int
    price: Decimal
    product_type: str | None = None


class ShopifyTransaction(_M):
    kind: str | None = None
    status: str | None = None
    amount: Decimal


class ShopifyRefundedItem(_M):
    product_id: int | None = None


class ShopifyRefundLine(_M):
    subtotal: Decimal = Decimal(0)
    total_tax: Decimal = Decimal(0)
    quantity: int | None = None
    line_item: ShopifyRefundedItem | None = None


class ShopifyRefund(_M):
    id: int
    order_id: int
    created_at: Stamp
    transactions: list[ShopifyTransaction] = []
    refund_line_items: list[ShopifyRefundLine] = []

    def amount(self) -> Decimal:
        paid = [t.amount for t in self.transactions if t.kind == "refund" and t.status == "success"]
        if paid:
            return sum(paid, Decimal(0))
        return sum((r.subtotal + r.total_tax for r in self.refund_line_items), Decimal(0))

    def refund(self) -> Refund:
        """The refund, with the products of the lines it took back (a line of quantity 0
        takes nothing back; a line item without a product, a custom one, names none)."""
        products = tuple(
            str(r.line_item.product_id)
            for r in self.refund_line_items
            if r.line_item is not None and r.line_item.product_id is not None and r.quantity != 0
        )
        return Refund(
            refund_id=str(self.id), amount=self.amount(), created_at=self.created_at, products=products
        )


class ShopifyMoney(_M):
    amount: Decimal


class ShopifyMoneySet(_M):
    shop_money: ShopifyMoney | None = None


class ShopifyShippingLine(_M):
    price: Decimal | None = None
    discounted_price: Decimal | None = None


class ShopifyAddress(_M):
    phone: str | None = None
    country_code: str | None = None
    province_code: str | None = None


class ShopifyFulfillment(_M):
    tracking_number: str | None = None
    shipment_status: str | None = None  # the carrier's: ..., out_for_delivery, delivered
    updated_at: AwareStamp | None = None


class ShopifyDiscountCode(_M):
    code: str
    amount: Decimal | None = None


class ShopifyOrder(_M):
    id: int
    name: str | None = None
    order_number: int | None = None
    email: str | None = None
    contact_email: str | None = None
    phone: str | None = None
    currency: str
    total_price: Decimal
    subtotal_price: Decimal | None = None
    total_tax: Decimal | None = None
    total_discounts: Decimal | None = None
    total_shipping_price_set: ShopifyMoneySet | None = None
    shipping_lines: list[ShopifyShippingLine] = []
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: Stamp | None = None
    created_at: Stamp
    updated_at: Stamp
    source_name: str | None = None
    buyer_accepts_marketing: bool | None = None
    customer: ShopifyCustomer | None = None
    billing_address: ShopifyAddress | None = None
    shipping_address: ShopifyAddress | None = None
    line_items: list[ShopifyLineItem] = []
    refunds: list[ShopifyRefund] = []
    fulfillments: list[ShopifyFulfillment] = []
    discount_codes: list[ShopifyDiscountCode] = []


class ShopifyCheckout(_M):
    id: int | None = None
    token: str
    email: str | None = None
    phone: str | None = None
    currency: str
    total_price: Decimal
    created_at: Stamp
    updated_at: Stamp
    completed_at: Stamp | None = None
    abandoned_checkout_url: str | None = None
    buyer_accepts_marketing: bool | None = None
    shipping_address: ShopifyAddress | None = None
    customer: ShopifyCustomer | None = None
    line_items: list[ShopifyLineItem] = []


class PrivacyCustomer(_M):
    id: int | None = None
    email: str | None = None
    phone: str | None = None


class DataRequest(_M):
    id: int


class ShopifyPrivacy(_M):
    shop_id: int
    shop_domain: str
    customer: PrivacyCustomer | None = None
    orders_to_redact: list[int] = []
    orders_requested: list[int] = []
    data_request: DataRequest | None = None


CHANNELS = {"web": "web", "pos": "pos", "iphone": "app", "android": "app", "mobile_app": "app"}


def _consent(c: ShopifyConsent | None) -> Consent | None:
    if c is None or c.state is None:
        return None
    try:
        state = ConsentState(c.state)
    except ValueError:
        state = ConsentState.UNKNOWN
    return Consent(state=state, updated_at=c.consent_updated_at)


def _person(
    delivery: Delivery,
    customer: ShopifyCustomer | None,
    email: str | None,
    phone: str | None,
    accepts_marketing: bool | None = None,
    at: datetime | None = None,
    address: ShopifyAddress | None = None,
) -> Person:
    c = customer
    where = address or (c.default_address if c else None)
    region = (where.country_code if where else None) or delivery.default_region
    number = phone or (c.phone if c else None)
    email_consent = _consent(c.email_marketing_consent) if c else None
    if email_consent is None and accepts_marketing is not None:
        state = ConsentState.SUBSCRIBED if accepts_marketing else ConsentState.NOT_SUBSCRIBED
        email_consent = Consent(state=state, updated_at=at, record_time=True)  # no consent time of its own
    phone_e164, phone_invalid = read_phone(number, region)
    return Person(
        email=normalize_email(email or (c.email if c else None)),
        phone=phone_e164,
        phone_invalid=phone_invalid,
        ext=platform_key("shopify", delivery.source_id, c.id if c else None),
        first_name=c.first_name if c else None,
        last_name=c.last_name if c else None,
        is_member=(c.state == "enabled") if c and c.state else None,
        email_consent=email_consent,
        sms_consent=_consent(c.sms_marketing_consent) if c else None,
        birthday=_birthday(c, delivery),
        timezone=zone_for_address(where.country_code, where.province_code, "shopify") if where else None,
    )


BIRTH_DATE = ("facts", "birth_date")  # Shopify's standard "Birth date" customer metafield


def _birthday(c: ShopifyCustomer | None, delivery: Delivery) -> str | None:
    """MM-DD of the customer's `facts.birth_date` metafield, when the webhook carries it."""
    for field in c.metafields if c else ():
        if (field.namespace, field.key) == BIRTH_DATE:
            return month_day_or_none(field.value, delivery.received_at)
    return None


def _lines(items: list[ShopifyLineItem]) -> tuple[LineItem, ...]:
    return tuple(
        LineItem(
            line_id=str(li.id) if li.id is not None else None,
            product_id=str(li.product_id) if li.product_id is not None else None,
            variant_id=str(li.variant_id) if li.variant_id is not None else None,
            sku=li.sku or None,
            title=li.title[:120],
            quantity=li.quantity,
            price=li.price,
            category=li.product_type or None,
        )
        for li in items
    )


def _status(o: ShopifyOrder) -> OrderStatus:
    if o.cancelled_at is not None or o.financial_status == "voided":
        return OrderStatus.CANCELLED
    if o.financial_status == "refunded":
        return OrderStatus.REFUNDED
    if o.financial_status == "partially_refunded":
        return OrderStatus.PARTIALLY_REFUNDED
    if o.fulfillment_status == "fulfilled":
        return OrderStatus.FULFILLED
    if o.financial_status == "paid":
        return OrderStatus.PAID
    return OrderStatus.PENDING


def _shipping(o: ShopifyOrder) -> Decimal | None:
    """The order's shipping (shop money), kept only when not zero (it is stored)."""
    money = o.total_shipping_price_set.shop_money if o.total_shipping_price_set else None
    if money is not None:
        amount = money.amount
    else:
        amount = sum(
            (line.discounted_price or line.price or Decimal(0) for line in o.shipping_lines), Decimal(0)
        )
    return amount or None


def parse_order(body: bytes, delivery: Delivery) -> IngestPayload:
    o = ShopifyOrder.model_validate_json(body, context=window(delivery))
    phone = o.phone or (o.billing_address.phone if o.billing_address else None)
    return Order(
        order_id=str(o.id),
        number=o.name or (str(o.order_number) if o.order_number else None),
        currency=o.currency.upper(),
        total=o.total_price,
        subtotal=o.subtotal_price,
        tax=o.total_tax,
        shipping=_shipping(o),
        discounts=o.total_discounts,
        status=_status(o),
        financial_status=o.financial_status,
        fulfillment_status=o.fulfillment_status,
        cancelled_at=o.cancelled_at,
        created_at=o.created_at,
        updated_at=o.updated_at,
        channel=CHANNELS.get(o.source_name or "web", o.source_name or "web"),
        person=_person(
            delivery,
            o.customer,
            o.email or o.contact_email,
            phone,
            o.buyer_accepts_marketing,
            o.created_at,
            o.shipping_address or o.billing_address,
        ),
        line_items=_lines(o.line_items),
        refunds=tuple(r.refund() for r in o.refunds),
        tracking=tuple(f.tracking_number for f in o.fulfillments if f.tracking_number),
        delivered_at=_delivered(o),
        discount_codes=tuple(
            DiscountCode(code=d.code[:120], amount=d.amount) for d in o.discount_codes if d.code.strip()
        ),
    )


def _delivered(o: ShopifyOrder) -> datetime | None:
    """When the last fulfillment was delivered, once every fulfillment is."""
    if not o.fulfillments or any(f.shipment_status != "delivered" for f in o.fulfillments):
        return None
    return max((f.updated_at or o.updated_at for f in o.fulfillments), default=None)


def parse_refund(body: bytes, delivery: Delivery) -> IngestPayload:
    r = ShopifyRefund.model_validate_json(body, context=window(delivery))
    return RefundEvent(order_id=str(r.order_id), refund=r.refund())


def parse_customer(body: bytes, delivery: Delivery) -> IngestPayload:
    c = ShopifyCustomer.model_validate_json(body, context=window(delivery))
    at = c.updated_at or c.created_at or delivery.received_at
    return Customer(
        customer_id=str(c.id),
        created_at=c.created_at,
        updated_at=at,
        person=_person(delivery, c, c.email, c.phone, c.accepts_marketing, at),
    )


def parse_checkout(body: bytes, delivery: Delivery) -> IngestPayload:
    k = ShopifyCheckout.model_validate_json(body, context=window(delivery))
    return Checkout(
        checkout_id=k.token,
        currency=k.currency.upper(),
        total=k.total_price,
        created_at=k.created_at,
        updated_at=k.updated_at,
        completed_at=k.completed_at,
        recovery_url=k.abandoned_checkout_url,
        person=_person(
            delivery,
            k.customer,
            k.email,
            k.phone,
            k.buyer_accepts_marketing,
            k.updated_at,
            k.shipping_address,
        ),
        line_items=_lines(k.line_items),
    )


def _privacy(kind: str) -> Parser:
    def parse(body: bytes, delivery: Delivery) -> IngestPayload:
        p = ShopifyPrivacy.model_validate_json(body, context=window(delivery))
        person = None
        if p.customer is not None:
            person = Person(
                email=normalize_email(p.customer.email),
                phone=normalize_phone(p.customer.phone, delivery.default_region),
                ext=platform_key("shopify", delivery.source_id, p.customer.id),
            )
        if p.data_request is not None:
            request_id = str(p.data_request.id)
        else:
            request_id = delivery.webhook_id or f"{kind}:{p.shop_id}:{int(delivery.received_at.timestamp())}"
        return PrivacyRequest(
            request=kind,
            request_id=request_id,
            person=person,
            orders=tuple(str(o) for o in (p.orders_to_redact or p.orders_requested)),
        )

    return parse


class ShopifyShop(_M):
    iana_timezone: str | None = None

    @field_validator("iana_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_zone(value):
            raise ValueError("not an IANA time zone this runtime knows")
        return value


def parse_shop(body: bytes, delivery: Delivery) -> ShopSettings:
    """`shop/update`: the shop's zone, a default for its customers without an address zone."""
    return ShopSettings(timezone=ShopifyShop.model_validate_json(body).iana_timezone)


PARSERS: dict[str, Parser] = {
    "orders/create": parse_order,
    "orders/updated": parse_order,
    "orders/paid": parse_order,
    "orders/cancelled": parse_order,
    "orders/fulfilled": parse_order,
    "refunds/create": parse_refund,
    "customers/create": parse_customer,
    "customers/update": parse_customer,
    "checkouts/create": parse_checkout,
    "checkouts/update": parse_checkout,
    "customers/data_request": _privacy("customers_data_request"),
    "customers/redact": _privacy("customers_redact"),
    "shop/redact": _privacy("shop_redact"),
    "shop/update": parse_shop,
    "products/create": products.parse_shopify_product,
    "products/update": products.parse_shopify_product,
    "products/delete": products.parse_deleted,
    **{topic: shopify_returns.parse_return for topic in (*shopify_returns.STATUS_BY_TOPIC, "returns/update")},
}
