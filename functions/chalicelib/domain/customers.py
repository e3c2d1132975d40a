"""Read side of the admin API: profiles, timelines and orders as JSON-ready models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel

from chalicelib.domain.catalogue import (
    MAX_LOOKUPS,
    CatalogueEntry,
    ProductDetail,
    ProductView,
    line_products,
    lookups,
    product_views,
)
from chalicelib.domain.customer_edit_values import NoteView
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile
from chalicelib.domain.enrolment import MembershipView
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.identity import customer_id_for, normalize_email
from chalicelib.domain.loyalty.ports import ProfileLoyalty
from chalicelib.domain.loyalty.views import LoyaltySummary
from chalicelib.domain.messaging.engagement import EngagementView
from chalicelib.domain.models import now_utc
from chalicelib.domain.money import round_money
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.order_snapshot import OrderDetail, public_order_id, split_public_order_id
from chalicelib.domain.ports import CatalogueReader, OrderReader, ProfileReader, WorkspaceReader
from chalicelib.domain.service.ports import TicketTimeline

TIMELINE_ORDERS = 100


class EngagementReader(Protocol):
    def view(self, workspace_id: str, customer_id: str, now: datetime) -> EngagementView: ...


def money(value: Any, currency: str | None = None) -> str | None:
    """An amount as text, rounded to the minor units of its currency (ISO 4217)."""
    return None if value is None else str(round_money(Decimal(value), currency))


class ConsentView(BaseModel):
    state: str
    updated_at: str | None = None


class ProfileView(BaseModel):
    customer_id: str
    email: str | None
    phone: str | None
    phone_valid: bool | None  # False: the last number given is not valid for its country (phone_as_written)
    phone_as_written: str | None
    first_name: str | None
    last_name: str | None
    orders_count: int
    total_spent: str
    total_refunded: str
    net_spent: str
    currency: str | None
    unconverted_spent: dict[str, str]
    first_order_at: str | None
    last_order_at: str | None
    average_order_value: str | None
    average_days_between_orders: str | None
    products: list[str]
    # each of `products` with its catalogue name, page and picture (an unknown id: the id alone)
    product_details: list[ProductView] = []
    categories: list[str]
    sources: list[str]
    channels: list[str]
    is_member: bool
    membership: MembershipView  # loyalty membership: member, number, since, channel
    email_consent: ConsentView | None
    sms_consent: ConsentView | None
    emails: list[str]
    phones: list[str]
    merged_from: list[str]
    created_at: str | None
    updated_at: str | None
    tags: list[str] = []  # Patron's tags (PATCH /customers/{id}), sorted

    @classmethod
    def of(cls, profile: CustomerProfile) -> ProfileView:
        def consent(c: ChannelConsent | None) -> ConsentView | None:
            return ConsentView(state=c.state, updated_at=c.at or None) if c else None

        figures = profile.figures
        cur = figures.currency
        return cls(
            customer_id=profile.customer_id,
            email=profile.email,
            phone=profile.phone,
            phone_valid=None
            if not (profile.phone or profile.phone_as_written)
            else not profile.phone_as_written,
            phone_as_written=profile.phone_as_written,
            first_name=profile.first_name,
            last_name=profile.last_name,
            orders_count=profile.orders_count,
            total_spent=money(figures.spent or 0, cur) or "0.00",
            total_refunded=money(figures.refunded or 0, cur) or "0.00",
            net_spent=money(figures.net or 0, cur) or "0.00",
            currency=cur,
            unconverted_spent={k: money(v, k) or "0.00" for k, v in (figures.unconverted or {}).items()},
            first_order_at=figures.first_order_at,
            last_order_at=figures.last_order_at,
            average_order_value=money(figures.average_order_value, cur),
            average_days_between_orders=(
                str(figures.average_gap_days) if figures.average_gap_days is not None else None
            ),
            products=profile.products_bought(),
            categories=profile.categories_bought(),
            sources=sorted(figures.sources or []),
            channels=sorted(figures.channels or []),
            is_member=profile.is_member,
            membership=MembershipView.of(profile),
            email_consent=consent(profile.email_consent),
            sms_consent=consent(profile.sms_consent),
            emails=sorted(profile.emails),
            phones=sorted(profile.phones),
            merged_from=list(profile.merged_ids or []),
            created_at=profile.created_at,
            updated_at=profile.updated_at,
            tags=sorted(profile.tags),
        )


class TimelineEvent(BaseModel):
    at: str
    type: str
    order_id: str | None = None  # None: a tier change, a points entry not about an order
    order_number: str | None = None
    amount: str | None = None
    currency: str | None = None
    # order_placed: the order's lines, titled from the catalogue when it knows them
    products: list[ProductView] = []
    # loyalty (docs/loyalty.md#on-the-profile): a ledger entry's signed points, a tier change
    points: int | None = None
    tier_from: str | None = None
    tier_to: str | None = None
    customer_id: str | None = None  # a ledger entry: whose ledger holds it (a merged id's, or the profile's)
    ticket_id: str | None = None  # a ticket's event (`ticket_created`, ...: docs/service.md)


class CustomerDetail(ProfileView):
    timeline: list[TimelineEvent]
    engagement: EngagementView | None = None  # tier and score from opens and clicks
    loyalty: LoyaltySummary | None = None  # points and tier (None: no loyalty in the workspace)
    notes: list[NoteView] = []  # notes about the customer, oldest first (PATCH /customers/{id})


class LineItemView(BaseModel):
    product_id: str | None = None
    sku: str | None = None
    title: str | None = None
    quantity: int
    price: str
    category: str | None = None


class RefundView(BaseModel):
    refund_id: str
    amount: str
    created_at: str | None


class DiscountCodeView(BaseModel):
    code: str
    amount: str | None


class OrderView(BaseModel):
    order_id: str
    source_id: str
    platform_order_id: str
    number: str | None
    status: str | None
    financial_status: str | None
    fulfillment_status: str | None
    currency: str | None
    total: str | None
    total_refunded: str
    created_at: str | None
    updated_at: str | None
    cancelled_at: str | None
    channel: str | None
    line_items: list[LineItemView]
    refunds: list[RefundView]
    tracking: list[str]
    discount_codes: list[DiscountCodeView]
    deleted: bool  # WooCommerce order.deleted (trash) more often than order.restored
    history: list[TimelineEvent]

    @classmethod
    def of(cls, order: OrderDetail) -> OrderView:
        snap, cur = order.snapshot, order.snapshot.currency
        return cls(
            order_id=public_order_id(snap.source_id, snap.order_id),
            source_id=snap.source_id,
            platform_order_id=snap.order_id,
            number=order.number,
            status=order.status,
            financial_status=order.financial_status,
            fulfillment_status=order.fulfillment_status,
            currency=cur,
            total=money(order.total, cur),
            total_refunded=money(snap.refunded, cur) or "0.00",
            created_at=order.created_at,
            updated_at=order.updated_at,
            cancelled_at=order.cancelled_at,
            channel=snap.channel,
            line_items=[
                LineItemView(
                    product_id=li.product_id,
                    sku=li.sku,
                    title=li.title,
                    quantity=li.quantity,
                    price=money(li.price, cur) or "0.00",
                    category=li.category,
                )
                for li in order.lines
            ],
            refunds=[
                RefundView(refund_id=r.refund_id, amount=money(r.amount, cur) or "0", created_at=r.created_at)
                for r in order.refunds
            ],
            tracking=list(order.tracking),
            discount_codes=[DiscountCodeView(code=c, amount=money(a, cur)) for c, a in order.discount_codes],
            deleted=snap.deleted,
            history=history(order),
        )


def history(order: OrderDetail, catalogue: Sequence[CatalogueEntry] | None = None) -> list[TimelineEvent]:
    """Status changes of one order, newest first; repeated states collapse into one. Given the
    catalogue's entries, the order_placed event names the order's products."""
    snap, cur = order.snapshot, order.snapshot.currency
    oid = public_order_id(snap.source_id, snap.order_id)
    events: list[TimelineEvent] = []
    last_status = None
    for kind, at, amount in order.events:
        if kind in ("deleted", "restored"):  # WooCommerce order.deleted / order.restored
            events.append(TimelineEvent(at=at, type=f"order_{kind}", order_id=oid, order_number=order.number))
            continue
        if kind == "refund":
            events.append(
                TimelineEvent(
                    at=at,
                    type="refund",
                    order_id=oid,
                    order_number=order.number,
                    amount=money(amount, cur),
                    currency=cur,
                )
            )
            continue
        if kind == last_status:
            continue
        event_type = "order_placed" if last_status is None else f"order_{kind}"
        last_status = kind
        events.append(
            TimelineEvent(
                at=order.created_at if event_type == "order_placed" and order.created_at else at,
                type=event_type,
                order_id=oid,
                order_number=order.number,
                amount=money(order.total, cur),
                currency=cur,
                products=line_products(
                    snap.source_id, [(li.product_id, li.title) for li in order.lines], catalogue
                )
                if catalogue is not None and event_type == "order_placed"
                else [],
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    return events


class CustomerService:
    def __init__(
        self,
        profiles: ProfileReader,
        orders: OrderReader,
        workspaces: WorkspaceReader,
        engagement: EngagementReader | None = None,
        catalogue: CatalogueReader | None = None,
        loyalty: ProfileLoyalty | None = None,
        tickets: TicketTimeline | None = None,
    ) -> None:
        self.loyalty = loyalty
        self.tickets = tickets
        self.profiles = profiles
        self.orders = orders
        self.workspaces = workspaces
        self.engagement = engagement
        self.catalogue = catalogue

    def _view(self, workspace_id: str, profile: CustomerProfile) -> ProfileView:
        """The profile's view, its products named from the catalogue (one batch read)."""
        view = ProfileView.of(profile)
        if self.catalogue is None or not view.products:
            return view
        refs = lookups(view.products, view.sources)
        found = self.catalogue.products(workspace_id, refs) if refs else []
        return view.model_copy(update={"product_details": product_views(view.products, view.sources, found)})

    def find_by_email(self, workspace_id: str, email: str) -> list[ProfileView]:
        normalized = normalize_email(email)
        if normalized is None:
            raise BadRequest("email is not a valid address", {"field": "email"})
        ws = self.workspaces.settings(workspace_id)
        if ws is None:
            raise NotFound("workspace not found")
        profile = self.profiles.load(workspace_id, customer_id_for(ws.id_salt, "email:" + normalized))
        if profile is None or normalized not in profile.emails:
            return []  # (an id keeps its key's hash when a source's erasure took the address away)
        return [self._view(workspace_id, profile)]

    def get(self, workspace_id: str, customer_id: str) -> CustomerDetail:
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        held = all_entries(self.profiles, workspace_id, profile)
        entries = sorted(held.items(), key=lambda kv: kv[1].placed_at or 0, reverse=True)[:TIMELINE_ORDERS]
        ids = [key for key, _ in entries if split_public_order_id(key)]
        orders = self.orders.order_details(workspace_id, ids)
        found = self._line_products(workspace_id, orders)
        timeline = [e for order in orders for e in history(order, found)]
        if self.loyalty is not None:
            events = self.loyalty.timeline(workspace_id, profile.customer_id, profile.merged_ids or ())
            timeline += [TimelineEvent(**e.model_dump(exclude_none=True)) for e in events]
        if self.tickets is not None:
            ticket_events = self.tickets.timeline(workspace_id, profile.customer_id, profile.merged_ids or ())
            timeline += [TimelineEvent(**e.model_dump()) for e in ticket_events]
        timeline.sort(key=lambda e: e.at, reverse=True)
        engagement = (
            self.engagement.view(workspace_id, profile.customer_id, now_utc()) if self.engagement else None
        )
        loyalty = self.loyalty.summary(workspace_id, profile.customer_id) if self.loyalty else None
        return CustomerDetail(
            **self._view(workspace_id, profile).model_dump(),
            timeline=timeline,
            engagement=engagement,
            loyalty=loyalty,
        )

    def _line_products(self, workspace_id: str, orders: Sequence[OrderDetail]) -> list[CatalogueEntry]:
        """The catalogue's entries of the orders' products: one batch read (none without lines)."""
        refs = [(o.snapshot.source_id, li.product_id) for o in orders for li in o.lines if li.product_id]
        refs = list(dict.fromkeys(refs))[:MAX_LOOKUPS]
        return self.catalogue.products(workspace_id, refs) if self.catalogue is not None and refs else []

    def product(self, workspace_id: str, product_id: str) -> ProductDetail:
        """`GET /products/{source.id}`: one catalogue product, deleted ones too."""
        ref = split_public_order_id(product_id)  # the same `<source>.<platform id>` form
        stored = self.catalogue.product(workspace_id, *ref) if ref and self.catalogue else None
        if stored is None:
            raise NotFound("product not found")
        return ProductDetail.of(stored)

    def order(self, workspace_id: str, order_id: str) -> OrderView:
        if split_public_order_id(order_id) is None:
            raise NotFound("order not found")
        found = self.orders.order_details(workspace_id, [order_id])
        if not found or not found[0].snapshot.is_order:
            raise NotFound("order not found")
        return OrderView.of(found[0])
