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
from decimal import Decimal
from typing import Any

from chalicelib.domain import records, timemath
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.messaging.ports import TemplateReader, WorkspaceReader
from chalicelib.domain.messaging.service import (
    Channel,
    Decision,
    MessagingService,
    Outgoing,
    Purpose,
    Template,
    policy_for,
)
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
KINDS = ("order_confirmation", "payment_received", "shipped", "delivered", "cancellation", "refund_processed")
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


def kinds_to_send(old: dict[str, Any] | None, new: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    """(kind, status time) for each notification this change brings, oldest first."""
    if new.get("t") != "order":
        return []
    # entries are (status, at), or ("refund", at, amount) for a refund delivered on its own
    before = {(str(h[0]), str(h[1])) for h in (old or {}).get("hist", []) if (old or {}).get("t") == "order"}
    history = [(str(h[0]), str(h[1])) for h in new.get("hist", [])]
    found: list[tuple[str, str]] = []
    if not before and history:
        found.append(("order_confirmation", history[0][1]))
    for status, at in history[1:] if not before else history:
        if (status, at) in before or status not in KIND_BY_STATUS:
            continue
        found.append((KIND_BY_STATUS[status], at))
    if new.get("dlv") and not (old or {}).get("dlv"):
        found.append(("delivered", new["dlv"]))  # the carrier's report, not an order status
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

    def on_order_change(
        self, old: dict[str, Any] | None, new: dict[str, Any] | None, now: datetime
    ) -> list[Decision]:
        if new is None or new.get("t") != "order" or records.is_deleted(new):
            return []  # customers, checkouts, refunds-only items and deleted orders bring none
        settings = self.workspaces.settings(new.get("ws", ""))
        if settings is None or not settings.notifications:
            return []
        kinds = [(k, at) for k, at in kinds_to_send(old, new, now) if k in settings.notifications]
        person = new.get("p") or {}
        keys = identity_keys(person.get("e"), person.get("ph"), person.get("x"))
        if not kinds or not keys:
            return []
        customer_id = customer_id_for(settings.id_salt, keys[0])
        recipient = {k: person[k] for k in ("e", "ph", "fn", "ln") if person.get(k)}
        tracking = new.get("trk") or []
        values = {
            "store_name": settings.name,
            "order_number": new.get("num") or new.get("oid"),
            "order_total": _total(new),
            "tracking_url": next((str(t) for t in tracking if t), None),
            "refund_amount": _refunded(new),
        }
        channel = Channel.EMAIL if recipient.get("e") else Channel.SMS
        policy = policy_for(settings)
        decisions = []
        for kind, _ in kinds:
            message = Outgoing(
                new["ws"],
                customer_id,
                f"txn:{new['pk']}:{kind}",
                channel,
                Purpose.TRANSACTIONAL,
                f"txn_{kind}",
                values,
            )
            decisions.append(self.messaging.send(message, recipient, policy, now))
        return decisions


def _total(item: dict[str, Any]) -> str:
    """The order's total rounded to its currency's minor units, with the currency."""
    total = item.get("tot")
    shown = round_money(Decimal(str(total)), item.get("cur")) if total is not None else None
    return f"{shown} {item.get('cur')}".strip()


def _refunded(item: dict[str, Any]) -> str | None:
    total = sum(
        (Decimal(str(v.get("a", 0))) for k, v in item.items() if k.startswith(records.REFUND_PREFIX)),
        Decimal(0),
    )
    return f"{round_money(total, item.get('cur'))} {item.get('cur') or ''}".strip() if total else None
