"""Public replies sent to the customer as transactional messages (docs/service.md, "Replies").

A reply goes through `MessagingService.send` like an order notification: no marketing
consent and no quiet hours (transactional), but the address must be there, not suppressed
(bounce, complaint) and, for SMS, not opted out (STOP), and SMS takes credits. The message key
is the ticket and the reply's event number, claimed in the messaging ledger: a retry of the
same reply finds it claimed and sends nothing. The channel: the ticket's when it is `sms` or
`email` and the profile has that address, else email when the profile has one, else SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.messaging.model import (
    AlreadySent,
    Channel,
    InFlight,
    Outgoing,
    Purpose,
    Template,
    policy_for,
)
from chalicelib.domain.messaging.ports import ProfileReader, TemplateReader, WorkspaceReader
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.service.model import Channel as TicketChannel
from chalicelib.domain.service.model import Ticket

REPLY_TEMPLATE = "txn_ticket_reply"
DEFAULT_REPLY = Template(
    REPLY_TEMPLATE,
    0,
    subject="Re: {{ ticket_subject }}",
    html='<div style="white-space:pre-line">{{ reply_body }}</div><p>{{ store_name }}</p>',
    text="{{ reply_body }}\n\n{{ store_name }}",
    sms="{{ store_name | default: 'Customer service' }}: {{ reply_body }}",
)


class ReplyTemplates:
    """The workspace's own `txn_ticket_reply` template when it has one, else the built-in."""

    def __init__(self, templates: TemplateReader) -> None:
        self.templates = templates

    def latest(self, workspace_id: str, template_id: str) -> Template:
        try:
            found: Template = self.templates.latest(workspace_id, template_id)
            return found
        except LookupError:
            if template_id == REPLY_TEMPLATE:
                return DEFAULT_REPLY
            raise


def reply_key(ticket_id: str, reply_seq: int) -> str:
    """The message key of a reply: the same reply is the same message, sent once."""
    return f"ticket:{ticket_id}:{reply_seq}"


def reply_channel(ticket: Ticket, profile: CustomerProfile) -> Channel | None:
    """The ticket's channel when it is email or SMS and the profile has that address, else
    email, else SMS; None without either."""
    preferred = {TicketChannel.SMS: Channel.SMS, TicketChannel.EMAIL: Channel.EMAIL}.get(ticket.channel)
    for channel in (preferred, Channel.EMAIL, Channel.SMS):
        if channel is not None and profile.address(channel.value):
            return channel
    return None


class ReplySender:
    """`domain.service.ports.ReplyDelivery` through Patron's messaging guardrails."""

    def __init__(
        self, messaging: MessagingService, profiles: ProfileReader, workspaces: WorkspaceReader
    ) -> None:
        self.messaging = messaging
        self.profiles = profiles
        self.workspaces = workspaces

    def deliver(self, ticket: Ticket, reply_seq: int, body: str, now: datetime) -> Mapping[str, Any] | None:
        ws = ticket.workspace_id
        profile = self.profiles.load(ws, ticket.customer_id)
        if profile is None:
            return {"delivery": "suppressed", "reason": "no such customer"}
        channel = reply_channel(ticket, profile)
        if channel is None:
            return {"delivery": "suppressed", "reason": "no email or phone"}
        values = {"reply_body": body, "ticket_subject": ticket.subject}
        message = Outgoing(
            ws,
            profile.customer_id,
            reply_key(ticket.id, reply_seq),
            channel,
            Purpose.TRANSACTIONAL,
            REPLY_TEMPLATE,
            values,
        )
        shown: dict[str, Any] = {"channel": channel.value}
        try:
            decision = self.messaging.send(message, profile, policy_for(self.workspaces.settings(ws)), now)
        except InFlight:
            return None
        except AlreadySent:
            return {"delivery": "sent", "reason": "accepted by the provider", **shown}
        except Exception as exc:  # noqa: BLE001 - the provider failed: recorded, the reply is kept
            return {"delivery": "failed", "reason": type(exc).__name__, **shown}
        if decision.status == "sent":
            return {"delivery": "sent", "provider_id": decision.provider_id, **shown}
        if decision.status == "duplicate":
            return {"delivery": "sent", "reason": decision.reason, **shown}
        if decision.status == "dropped":
            return {"delivery": "suppressed", "reason": decision.reason, **shown}
        return {"delivery": "failed", "reason": decision.reason or decision.status, **shown}
