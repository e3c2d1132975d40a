"""Canonical models every storefront payload is parsed into.

Money is Decimal everywhere; times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib.domain.timemath import now_utc as now_utc  # (read from here by most modules)


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    GENERIC = "generic"


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class ConsentState(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    PENDING = "pending"
    UNKNOWN = "unknown"


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # an offset that takes it past year 9999 (or before year 1)
        raise ValueError("timestamp outside the calendar in UTC") from exc


UtcDatetime = Annotated[datetime, AfterValidator(utc)]
# Amounts as storefronts send them: finite, at most 18 digits, 6 decimals (DynamoDB holds 38).
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6, allow_inf_nan=False)]
SignedMoney = Annotated[Decimal, Field(max_digits=18, decimal_places=6, allow_inf_nan=False)]


def distinct_ids(values: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct non-blank ids, sorted: the same set is the same stored value."""
    return tuple(sorted({v for v in values if v.strip()}))


ProductIds = Annotated[tuple[str, ...], AfterValidator(distinct_ids)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Consent(Frozen):
    state: ConsentState = ConsentState.UNKNOWN
    updated_at: UtcDatetime | None = None
    # True when `updated_at` is the record's time, not a consent time the source reported
    # (Shopify's legacy `accepts_marketing`). Such a report, like one without any time,
    # never overrides a withdrawal recorded by Patron (`Profile._consent`).
    record_time: bool = False


class Person(Frozen):
    """Who a record belongs to, normalized."""

    email: str | None = None
    phone: str | None = None  # E.164, valid for its country: an identity key and SMS target
    phone_invalid: str | None = None  # a number not valid for its country, as written: kept, flagged, unused
    ext: str | None = None  # platform:source:customer-id
    first_name: str | None = None
    last_name: str | None = None
    is_member: bool | None = None  # None: the record does not say
    birthday: str | None = Field(default=None, pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")  # MM-DD
    timezone: str | None = None  # an IANA zone, when the source knows it
    email_consent: Consent | None = None
    sms_consent: Consent | None = None


class LineItem(Frozen):
    line_id: str | None = Field(default=None, max_length=64)  # the platform's line item id (returns name it)
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    title: str = ""
    quantity: int = Field(ge=0)
    price: Money
    category: str | None = None


class DiscountCode(Frozen):
    """A code the buyer entered (Shopify `discount_codes`, WooCommerce `coupon_lines`)."""

    code: str = Field(min_length=1, max_length=120)
    amount: SignedMoney | None = None


class Refund(Frozen):
    refund_id: str
    amount: Money
    created_at: UtcDatetime
    # the product ids whose lines the refund took back, when the payload names them (a
    # refunded product is no sign of liking: docs/recommendations.md#refunds)
    products: ProductIds = ()


# The one refund a Shopify orders CSV import makes of `Refunded Amount`: it stands in for the
# order's real refunds and is not counted once any refund with its own id is stored beside it
SUMMARY_REFUND_ID = "csv"


class RecordVersion(Frozen):
    """Orders states of a resource: newer versions win, equal ones are duplicates.

    `updated_at` first; then the delivery's trigger time (Shopify stamps microseconds);
    then, for two states stamped in the same second with no trigger time (WooCommerce),
    how far the order has progressed: a completed order is newer than a paid one.
    """

    updated_at: UtcDatetime
    triggered_at: UtcDatetime | None = None
    progress: int = Field(default=0, ge=0, le=99)

    def key(self) -> str:
        # Fixed-width UTC strings compare in time order, also inside DynamoDB conditions.
        def text(value: datetime) -> str:
            return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

        trig = text(self.triggered_at) if self.triggered_at else ""
        return f"{text(self.updated_at)}|{trig}|{self.progress:02d}"


PROGRESS = {"pending": 1, "paid": 2, "fulfilled": 3, "partially_refunded": 4, "refunded": 5, "cancelled": 6}


class Order(Frozen):
    kind: Literal["order"] = "order"
    order_id: str  # the platform's id, as a string
    number: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    total: Money
    subtotal: SignedMoney | None = None
    tax: SignedMoney | None = None
    shipping: SignedMoney | None = None
    discounts: SignedMoney | None = None
    status: OrderStatus
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: UtcDatetime | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    channel: str = "web"
    person: Person
    line_items: tuple[LineItem, ...] = ()
    refunds: tuple[Refund, ...] = ()
    tracking: tuple[str, ...] = ()
    delivered_at: UtcDatetime | None = None  # the carrier reported it delivered
    discount_codes: tuple[DiscountCode, ...] = ()
    restores: bool = False  # this state restores a deleted order (WooCommerce order.restored)

    @property
    def progress(self) -> int:
        """Status rank, then refunds seen: orders its same-second states."""
        return PROGRESS[self.status.value] * 10 + min(len(self.refunds), 9)


class RefundEvent(Frozen):
    """A refund delivered on its own (Shopify refunds/create, the generic `refund`)."""

    kind: Literal["refund"] = "refund"
    order_id: str
    refund: Refund


class OrderDeletion(Frozen):
    """WooCommerce `order.deleted` (trashed or deleted: the body is only the id). An order
    is deleted while it has more deletions than restorations (`Order.restores`), whatever
    order they arrive in."""

    kind: Literal["deletion"] = "deletion"
    order_id: str
    at: UtcDatetime  # when it was received: the deletion carries no time of its own


class Customer(Frozen):
    kind: Literal["customer"] = "customer"
    customer_id: str
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    person: Person


class Checkout(Frozen):
    kind: Literal["checkout"] = "checkout"
    checkout_id: str
    currency: str
    total: Money
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None = None
    recovery_url: str | None = None
    person: Person
    line_items: tuple[LineItem, ...] = ()


class PrivacyRequest(Frozen):
    kind: Literal["privacy"] = "privacy"
    request: Literal["customers_data_request", "customers_redact", "shop_redact"]
    request_id: str
    person: Person | None = None
    orders: tuple[str, ...] = ()


class ShopSettings(Frozen):
    """What a store says of itself (Shopify `shop/update`): its zone, an IANA name."""

    kind: Literal["shop"] = "shop"
    timezone: str | None = None


class ProductVariant(Frozen):
    variant_id: str
    sku: str | None = None
    price: Money | None = None
    inventory: int | None = None  # available, when the store tracks it


class Product(Frozen):
    """A catalogue product (products/*, product.*): kept per source, never touches a profile."""

    kind: Literal["product"] = "product"
    product_id: str  # the platform's id, as a string
    title: str
    handle: str | None = None
    url: str | None = None  # the storefront page, when known
    image: str | None = None  # the main image's URL
    price: Money | None = None
    compare_at_price: Money | None = None
    currency: str | None = None  # neither platform's product webhook names one
    vendor: str | None = None
    product_type: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: str | None = None
    variants: tuple[ProductVariant, ...] = ()
    updated_at: UtcDatetime


class ProductDeletion(Frozen):
    kind: Literal["product_deletion"] = "product_deletion"
    product_id: str
    at: UtcDatetime  # when it was deleted: the trigger time, else the receipt


class ContactForm(Frozen):
    """A storefront contact form's submission (the generic `contact_form` record): it opens a
    ticket, never stored as a record (docs/service.md, "The storefront contact form")."""

    kind: Literal["contact_form"] = "contact_form"
    form_id: str  # the record's id: a redelivery opens no second ticket
    person: Person  # email and/or a valid phone, the name; never any consent
    subject: str
    message: str
    ticket_kind: str = "pre_sale"
    order_id: str | None = None  # the storefront's order id, as the customer gave it
    submitted_at: UtcDatetime


class ReturnLineIn(Frozen):
    """One line of a storefront return: the order's line item (its platform id) and how
    many of its units come back."""

    line_item_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=100_000)


class ReturnUpdate(Frozen):
    """A storefront return's state as one webhook reports it (Shopify `returns/*`:
    docs/service.md#returns-and-exchanges). `status` is one of the Return lifecycle's:
    requested, open, closed, declined, cancelled."""

    return_id: str = Field(min_length=1, max_length=64)
    status: str
    order_id: str | None = None  # the platform's order id (some topics send none)
    name: str | None = Field(default=None, max_length=64)
    lines: tuple[ReturnLineIn, ...] = ()


IngestPayload = (
    Order
    | RefundEvent
    | OrderDeletion
    | Customer
    | Checkout
    | PrivacyRequest
    | ShopSettings
    | Product
    | ProductDeletion
    | ContactForm
    | ReturnUpdate
)


class Delivery(Frozen):
    """One webhook delivery, as received, after its signature was verified."""

    workspace_id: str
    source_id: str
    platform: Platform
    topic: str
    webhook_id: str | None = None
    triggered_at: UtcDatetime | None = None
    received_at: UtcDatetime
    body_hash: str | None = None  # identical bodies are the same state, whatever the topic
    default_region: str | None = None  # the source's: reads national phone numbers without an address
    birthday_meta_key: str | None = None  # the source's: WooCommerce meta key holding a birth date
    # the source's WooCommerce meta keys read as marketing consent (None: the documented defaults)
    email_consent_keys: tuple[str, ...] | None = None
    sms_consent_keys: tuple[str, ...] | None = None
    shop_domain: str | None = None  # the source's: a Shopify product's storefront URL
    # a history import's record (docs/import.md): builds the profile, starts no notification,
    # flow or attribution
    imported: bool = False


class Source(Frozen):
    workspace_id: str
    source_id: str
    platform: Platform
    shop_domain: str
    secret_ref: str
    default_region: str | None = None  # ISO 3166 alpha-2, for national phones without an address country
    timezone: str | None = None  # the shop's zone (Shopify's iana_timezone): a workspace default
    birthday_meta_key: str | None = None  # WooCommerce: the customer/order meta key of a birth date
    email_consent_keys: tuple[str, ...] | None = None  # WooCommerce meta keys; None: the defaults
    sms_consent_keys: tuple[str, ...] | None = None
    erasing: bool = False  # shop/redact: its data is being (or was) erased; its webhooks are refused
    # its store's Admin API (`patron source connect`): the Secrets Manager ref of the credentials
    admin_ref: str | None = None  # None: not connected
    admin_api_version: str | None = None  # Shopify: the pinned Admin GraphQL API version
    admin_endpoint: str | None = None  # an override of https://<shop> (tests, the local stack)
