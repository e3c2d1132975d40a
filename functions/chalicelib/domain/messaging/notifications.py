"""Transactional notifications from the order changes the pipeline already sees.

A second consumer of the ingest table's stream compares an order item's status history
before and after each change:

- first seen: `order_confirmation`;
- each later status: `payment_received` (paid), `shipped` (fulfilled, with the tracking
  link), `cancellation` (cancelled), `refund_processed` (refunded, partially refunded);
- the carrier reporting every fulfillment delivered: `delivered`.

Each kind is switched on per workspace (off by default: most storefronts send their own).
Messages older than `FRESH` are not sent: an order delivered a day late does not get a
"payment received" email after it shipped. The message key is the order and the kind,
so a replayed record, a redelivered webhook or an out-of-order update sends nothing
twice. Consent is not needed (these are transactional), but suppressions hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.ingest_images import IngestChange, OrderImage
from chalicelib.domain.messaging.model import Channel, Decision, Outgoing, Purpose, Template, policy_for
from chalicelib.domain.messaging.ports import TemplateReader, WorkspaceReader
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.money import round_money

FRESH = timedelta(hours=48)
KIND_BY_STATUS = {
    "paid": "payment_received",
    "fulfilled": "shipped",
    "cancelled": "cancellation",
    "refunded": "refund_processed",
    "partially_refunded": "refund_processed",
    "refund": "refund_processed",  # a refund delivered on its own (Shopify refunds/create)
}
KINDS = (
    "order_confirmation",
    "payment_received",
    "shipped",
    "delivered",
    "cancellation",
    "refund_processed",
    # a return's (domain/service/returns.py; docs/service.md#returns-and-exchanges)
    "return_approved",
    "return_declined",
    "return_closed",
)
DEFAULT_TEMPLATES = {
    "order_confirmation": Template(
        "txn_order_confirmation",
        0,
        subject="Thank you for your order {{ order_number }}",
        html="<p>Hi {{ first_name | default: 'there' }},</p><p>we have your order {{ order_number }} "
        "({{ order_total }}).</p><p>{{ store_name }}</p>",
        text="Hi {{ first_name | default: 'there' }}, we have your order {{ order_number }} "
        "({{ order_total }}).",
        sms="{{ store_name }}: we have your order {{ order_number }}.",
    ),
    "payment_received": Template(
        "txn_payment_received",
        0,
        subject="Payment received for {{ order_number }}",
        html="<p>We received your payment of {{ order_total }} for order {{ order_number }}.</p>",
        text="We received your payment of {{ order_total }} for order {{ order_number }}.",
        sms="{{ store_name }}: payment received for {{ order_number }}.",
    ),
    "shipped": Template(
        "txn_shipped",
        0,
        subject="Your order {{ order_number }} is on its way",
        html="<p>Your order {{ order_number }} has shipped.</p><p>Track it: {{ tracking_url }}</p>",
        text="Your order {{ order_number }} has shipped. Track it: {{ tracking_url }}",
        sms="{{ store_name }}: order {{ order_number }} shipped. {{ tracking_url }}",
    ),
    "delivered": Template(
        "txn_delivered",
        0,
        subject="Your order {{ order_number }} was delivered",
        html="<p>Your order {{ order_number }} was delivered. We hope you enjoy it.</p>"
        "<p>{{ store_name }}</p>",
        text="Your order {{ order_number }} was delivered. We hope you enjoy it.",
        sms="{{ store_name }}: order {{ order_number }} was delivered.",
    ),
    "cancellation": Template(
        "txn_cancellation",
        0,
        subject="Your order {{ order_number }} was cancelled",
        html="<p>Your order {{ order_number }} was cancelled.</p>",
        text="Your order {{ order_number }} was cancelled.",
        sms="{{ store_name }}: order {{ order_number }} was cancelled.",
    ),
    "refund_processed": Template(
        "txn_refund_processed",
        0,
        subject="Your refund for {{ order_number }}",
        html="<p>We refunded {{ refund_amount }} for order {{ order_number }}.</p>",
        text="We refunded {{ refund_amount }} for order {{ order_number }}.",
        sms="{{ store_name }}: refunded {{ refund_amount }} for {{ order_number }}.",
    ),
    "return_approved": Template(
        "txn_return_approved",
        0,
        subject="Your return {{ return_name }} is approved",
        html="<p>We approved your return {{ return_name }}. "
        "Please send the items back.</p><p>{{ store_name }}</p>",
        text="We approved your return {{ return_name }}. Please send the items back.",
        sms="{{ store_name }}: return {{ return_name }} approved. Please send the items back.",
    ),
    "return_declined": Template(
        "txn_return_declined",
        0,
        subject="Your return request {{ return_name }}",
        html="<p>We could not accept your return request {{ return_name }}. "
        "Reply to this message if you have a question.</p><p>{{ store_name }}</p>",
        text="We could not accept your return request {{ return_name }}.",
        sms="{{ store_name }}: we could not accept return request {{ return_name }}.",
    ),
    "return_closed": Template(
        "txn_return_closed",
        0,
        subject="Your return {{ return_name }} is complete",
        html="<p>Your return {{ return_name }} is complete.</p><p>{{ store_name }}</p>",
        text="Your return {{ return_name }} is complete.",
        sms="{{ store_name }}: return {{ return_name }} is complete.",
    ),
}


class WithDefaults:
    """A workspace's own `txn_<kind>` template when it has one, else the built-in one."""

    def __init__(self, templates: TemplateReader) -> None:
        self.templates = templates

    def latest(self, workspace_id: str, template_id: str) -> Template:
        try:
            latest: Template = self.templates.latest(workspace_id, template_id)
            return latest
        except LookupError:
            kind = template_id.removeprefix("txn_")
            if kind in DEFAULT_TEMPLATES:
                return DEFAULT_TEMPLATES[kind]
            raise


def kinds_to_send(before: OrderImage | None, order: OrderImage, now: datetime) -> list[tuple[str, str]]:
    """(kind, status time) for each notification this change brings, oldest first."""
    # entries are (status, at), or ("refund", at) for a refund delivered on its own
    seen = set(before.history) if before is not None else set()
    history = list(order.history)
    found: list[tuple[str, str]] = []
    if not seen and history:
        found.append(("order_confirmation", history[0][1]))
    for status, at in history[1:] if not seen else history:
        if (status, at) in seen or status not in KIND_BY_STATUS:
            continue
        found.append((KIND_BY_STATUS[status], at))
    if order.delivered_at and not (before is not None and before.delivered_at):
        found.append(("delivered", order.delivered_at))  # the carrier's report, not an order status
    kinds: list[tuple[str, str]] = []
    for kind, at in found:
        stamp = timemath.parse_iso(at)
        stale = stamp is not None and now - stamp > FRESH
        if not stale and kind not in {k for k, _ in kinds}:
            kinds.append((kind, at))
    return kinds


class NotificationService:
    def __init__(self, messaging: MessagingService, workspaces: WorkspaceReader) -> None:
        self.messaging = messaging
        self.workspaces = workspaces

    def on_order_change(self, change: IngestChange, now: datetime) -> list[Decision]:
        order = change.order
        if order is None or order.snapshot.deleted:
            return []  # customers, checkouts, refunds-only items and deleted orders bring none
        settings = self.workspaces.settings(order.workspace_id)
        if settings is None or not settings.notifications:
            return []
        kinds = [
            (k, at) for k, at in kinds_to_send(change.order_before, order, now) if k in settings.notifications
        ]
        person = order.person
        keys = identity_keys(person.email, person.phone, person.ext)
        if not kinds or not keys:
            return []
        customer_id = customer_id_for(settings.id_salt, keys[0])
        recipient = CustomerProfile(
            order.workspace_id,
            customer_id,
            email=person.email or None,
            phone=person.phone or None,
            first_name=person.first_name or None,
            last_name=person.last_name or None,
        )
        values = {
            "store_name": settings.name,
            "order_number": order.number or order.order_id,
            "order_total": _total(order),
            "tracking_url": order.tracking[0] if order.tracking else None,
            "refund_amount": _refunded(order),
        }
        channel = Channel.EMAIL if recipient.email else Channel.SMS
        policy = policy_for(settings)
        decisions = []
        for kind, _ in kinds:
            message = Outgoing(
                order.workspace_id,
                customer_id,
                f"txn:{order.key}:{kind}",
                channel,
                Purpose.TRANSACTIONAL,
                f"txn_{kind}",
                values,
            )
            decisions.append(self.messaging.send(message, recipient, policy, now))
        return decisions


def _total(order: OrderImage) -> str:
    """The order's total rounded to its currency's minor units, with the currency."""
    currency = order.snapshot.currency
    shown = round_money(order.total, currency) if order.total is not None else None
    return f"{shown} {currency}".strip()


def _refunded(order: OrderImage) -> str | None:
    total, currency = order.snapshot.refunded, order.snapshot.currency
    return f"{round_money(total, currency)} {currency or ''}".strip() if total else None
