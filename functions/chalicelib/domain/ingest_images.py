"""What the ingest stream's consumers read of a stored change, as domain values.

The stream handler decodes each ingest-table image where it enters
(adapters/order_items.py): the notifications, flow triggers and attribution read these
values, never the stored item's short attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.models import Person
from chalicelib.domain.order_snapshot import OrderRefund, OrderSnapshot


@dataclass(frozen=True)
class OrderImage:
    """One stored version of an order (or of the refunds that came before it)."""

    key: str  # the stored order's key: held notifications, message keys and attributions name it
    snapshot: OrderSnapshot
    number: str | None = None  # the storefront's order number, as shown to the customer
    total: Decimal | None = None  # as stored (None: not known yet, e.g. a refund came first)
    updated_at: datetime | None = None
    delivered_at: str | None = None  # the carrier's report, as stored
    tracking: tuple[str, ...] = ()
    line_names: tuple[str, ...] = ()  # each line's title, else its product id
    first_product: str | None = None  # the first line's product id: `{{ product.title }}`
    product_ids: tuple[str, ...] = ()  # every line's product id and SKU: never recommended with it
    redacted: bool = False  # erased on request
    imported: bool = False  # stored by a history import: quiet (no notification, flow, attribution)
    # an import stored it past payment (`ih`, kept when a webhook's state follows): its points
    # follow the workspace's import policy, never earned live (docs/loyalty.md)
    historical: bool = False
    discount_codes: tuple[str, ...] = ()  # the codes the buyer entered, as stored
    refunds: tuple[OrderRefund, ...] = ()  # each counted refund, by id (points reverse by it)

    @property
    def workspace_id(self) -> str:
        return self.snapshot.workspace_id

    @property
    def order_id(self) -> str:
        return self.snapshot.order_id

    @property
    def person(self) -> Person:
        return self.snapshot.person

    @property
    def history(self) -> tuple[tuple[str, str], ...]:
        """(status, at) of each accepted state, oldest first; ("refund", at) for a refund
        delivered on its own."""
        return self.snapshot.history


@dataclass(frozen=True)
class CheckoutImage:
    """One stored version of a checkout."""

    key: str
    workspace_id: str
    checkout_id: str
    person: Person
    # what a guest's flow run keeps to reach them, as the stored checkout holds it (opaque here)
    contact: dict[str, Any] = field(default_factory=dict)
    currency: str | None = None
    total: Decimal | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    recovery_url: str | None = None
    titles: tuple[str, ...] = ()
    redacted: bool = False
    source_id: str | None = None  # the source it came from (its store makes a recovery's coupon)
    first_product: str | None = None  # the first line's product id: `{{ product.title }}`
    product_ids: tuple[str, ...] = ()  # every line's product id and SKU: never recommended with it
    imported: bool = False


@dataclass(frozen=True)
class CustomerImage:
    """One stored version of a storefront customer."""

    key: str
    workspace_id: str
    source_id: str
    person: Person
    created_at: datetime | None = None
    updated_at: datetime | None = None
    redacted: bool = False
    imported: bool = False


@dataclass(frozen=True)
class PrivacyRequestImage:
    """A stored privacy request (Shopify's mandatory topics, or the admin API's)."""

    key: str
    workspace_id: str
    source_id: str
    request: str  # customers_redact, customers_data_request, shop_redact
    request_id: str
    person: Person
    customer_id: str | None = None  # made through the admin API: the customer, by id
    orders: tuple[str, ...] = ()  # the platform's order ids the request lists
    redacted: bool = False  # the request's own redaction, once carried out


Image = OrderImage | CheckoutImage | CustomerImage | PrivacyRequestImage


@dataclass(frozen=True)
class IngestChange:
    """One ingest-table change: what was stored before and after, decoded (None: nothing,
    or a kind no consumer reads)."""

    before: Image | None = None
    after: Image | None = None

    @property
    def quiet(self) -> bool:
        """A history import's state: it builds the profile, and nothing else follows from it."""
        return isinstance(self.after, OrderImage | CheckoutImage | CustomerImage) and self.after.imported

    @property
    def order(self) -> OrderImage | None:
        return self.after if isinstance(self.after, OrderImage) else None

    @property
    def order_before(self) -> OrderImage | None:
        return self.before if isinstance(self.before, OrderImage) else None

    @property
    def checkout(self) -> CheckoutImage | None:
        return self.after if isinstance(self.after, CheckoutImage) else None
