"""SES feedback: bounces and complaints suppress the address for the workspace, at once.

SES publishes each message's events (through the configuration set) to an SNS topic;
the topic feeds a queue that `ses_events` drains. A permanent bounce or a complaint
suppresses the address (`W#<ws>#SUP#<NN>`), which every later send checks first; delivery,
bounce and complaint are also recorded on the message's claim. A transient bounce is
recorded only. The workspace, customer and message key come from the tags every send
carries; an event without them (a message not sent by Patron) is ignored.

Every event is recorded on the message's claim as `ev_<type>`, once: the first delivery,
open, click, bounce and complaint of a message are counted, in the same transaction
as that conditional update, into the statistics of the message's scope (`camp#<id>`, `flow#<id>`) and, with a
`v` tag (an A/B variant), of `<scope>#v#<variant>`. A second open of the same message,
or a redelivered event, counts nothing. Deliveries, opens and clicks then update the
customer's engagement (`engagement.py`). A `Send` event marks a claim whose sender died
before recording it as `sent`, so that no retry sends it again.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import timemath
from chalicelib.domain.messaging.ports import EngagementStore, EventLedger, ProfileConsent, SuppressionStore
from chalicelib.domain.messaging.stats import scope_of, variant_scope


def key_tag(key: str) -> str:
    """A message key as an SES tag value (letters and digits only): base32, lower case."""
    return base64.b32encode(key.encode()).decode().rstrip("=").lower()


def key_from_tag(tag: str) -> str:
    padded = tag.upper() + "=" * (-len(tag) % 8)
    return base64.b32decode(padded).decode()


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Recipient(_Loose):
    emailAddress: str


class Bounce(_Loose):
    bounceType: str
    bouncedRecipients: list[Recipient] = Field(default_factory=list)
    timestamp: str | None = None


class Complaint(_Loose):
    complainedRecipients: list[Recipient] = Field(default_factory=list)
    timestamp: str | None = None


class Stamped(_Loose):
    """The detail of a delivery, open or click: when it happened (and more, ignored)."""

    timestamp: str | None = None


class Mail(_Loose):
    messageId: str
    timestamp: str | None = None
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(_Loose):
    eventType: str  # SES field name: Send, Delivery, Bounce, Complaint, Open, Click, Reject
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    delivery: Stamped | None = None
    open: Stamped | None = None
    click: Stamped | None = None

    def tag(self, name: str) -> str | None:
        values = self.mail.tags.get(name) or []
        return values[0] if values else None

    def happened_at(self) -> str | None:
        """When SES says the event happened (its own detail's timestamp, else the send's)."""
        detail = getattr(self, self.eventType.lower(), None) if self.eventType in DETAILED else None
        stamp = getattr(detail, "timestamp", None) or self.mail.timestamp
        parsed = timemath.parse_iso(stamp) if stamp else None
        return timemath.iso(parsed) if parsed else None


DETAILED = ("Bounce", "Complaint", "Delivery", "Open", "Click")
COUNTED = {  # SES event -> the statistics counter it adds to, once per message
    "delivery": "delivered",
    "open": "opened",
    "click": "clicked",
    "bounce": "bounced",
    "complaint": "complained",
}


def parse_notification(body: str) -> SesEvent:
    """An SQS body holding an SNS notification whose Message is the SES event (or the event)."""
    outer = json.loads(body)
    inner = json.loads(outer["Message"]) if isinstance(outer, dict) and "Message" in outer else outer
    return SesEvent.model_validate(inner)


class FeedbackService:
    def __init__(
        self,
        suppressions: SuppressionStore,
        ledger: EventLedger,
        engagement: EngagementStore | None = None,
        consent: ProfileConsent | None = None,
    ) -> None:
        self.suppressions = suppressions
        self.ledger = ledger  # the claims, and the statistics counted with them
        self.engagement = engagement
        self.consent = consent  # a suppression also withdraws the profile's email consent

    def handle(self, event: SesEvent, at: str) -> dict[str, Any]:
        """`at`: when the event is processed, used when the event carries no time of its own."""
        workspace_id = event.tag("workspace")
        if not workspace_id:
            return {"ignored": "no workspace tag"}
        customer, when = event.tag("customer"), event.happened_at() or at
        suppressed = 0
        bounced = (
            event.bounce.bouncedRecipients if event.bounce and event.bounce.bounceType == "Permanent" else []
        )
        complained = event.complaint.complainedRecipients if event.complaint else []
        for recipients, reason in ((bounced, "hard bounce"), (complained, "complaint")):
            for r in recipients:
                self.suppressions.suppress(workspace_id, "email", r.emailAddress, reason)
                suppressed += 1
                if customer and self.consent is not None:  # while the profile still has this address
                    address = r.emailAddress.strip().lower()
                    self.consent.withdraw(workspace_id, customer, "email", when, reason, address)
        result: dict[str, Any] = {"event": event.eventType, "suppressed": suppressed, "counted": False}
        tagged_key = event.tag("mk")
        if not (customer and tagged_key):
            return result
        key, name = key_from_tag(tagged_key), event.eventType.lower()
        counts: dict[str, dict[str, int]] = {}
        scope, variant = scope_of(key), event.tag("v")
        if scope and name in COUNTED:
            counts[scope] = {COUNTED[name]: 1}
            if variant:
                counts[variant_scope(scope, variant)] = {COUNTED[name]: 1}
        first = self.ledger.record_event(workspace_id, customer, key, name, when, counts or None)
        result["counted"] = first and bool(counts)
        if name == "send":  # after `ev_send` is on the claim: a claim retaken later checks it
            self.ledger.confirm_sent(workspace_id, customer, key, event.mail.messageId)
        if first and self.engagement is not None:
            self._engage(workspace_id, customer, key, name, when, scope, variant)
        return result

    def _engage(
        self,
        workspace_id: str,
        customer: str,
        key: str,
        name: str,
        at: str,
        scope: str | None,
        variant: str | None,
    ) -> None:
        assert self.engagement is not None
        if name == "delivery":
            self.engagement.delivered(workspace_id, customer, at)
        elif name == "open":
            self.engagement.opened(workspace_id, customer, at)
        elif name == "click":
            self.engagement.clicked(workspace_id, customer, at, key, scope, variant)
