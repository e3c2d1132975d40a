"""SES feedback: bounces and complaints suppress the address for the workspace, at once.

SES publishes each message's events (through the configuration set) to an SNS topic;
the topic feeds a queue that `ses_events` drains. A permanent bounce or a complaint
suppresses the address (`W#<ws>#SUP`), which every later send checks first; delivery,
bounce and complaint are also recorded on the message's claim. A transient bounce is
recorded only. The workspace, customer and message key come from the tags every send
carries; an event without them (a message not sent by Patron) is ignored.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


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


class Complaint(_Loose):
    complainedRecipients: list[Recipient] = Field(default_factory=list)


class Mail(_Loose):
    messageId: str
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(_Loose):
    eventType: str  # SES field name: Send, Delivery, Bounce, Complaint, Open, Click, Reject
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None

    def tag(self, name: str) -> str | None:
        values = self.mail.tags.get(name) or []
        return values[0] if values else None


class SuppressionStore(Protocol):
    def suppress(self, workspace_id: str, channel: str, address: str, reason: str) -> None: ...


class EventLedger(Protocol):
    def record_event(self, workspace_id: str, customer_id: str, key: str, event: str, at: str) -> None: ...


def parse_notification(body: str) -> SesEvent:
    """An SQS body holding an SNS notification whose Message is the SES event (or the event)."""
    outer = json.loads(body)
    inner = json.loads(outer["Message"]) if isinstance(outer, dict) and "Message" in outer else outer
    return SesEvent.model_validate(inner)


class FeedbackService:
    def __init__(self, suppressions: SuppressionStore, ledger: EventLedger) -> None:
        self.suppressions = suppressions
        self.ledger = ledger

    def handle(self, event: SesEvent, at: str) -> dict[str, Any]:
        workspace_id = event.tag("workspace")
        if not workspace_id:
            return {"ignored": "no workspace tag"}
        suppressed = 0
        if event.bounce is not None and event.bounce.bounceType == "Permanent":
            for r in event.bounce.bouncedRecipients:
                self.suppressions.suppress(workspace_id, "email", r.emailAddress, "hard bounce")
                suppressed += 1
        if event.complaint is not None:
            for r in event.complaint.complainedRecipients:
                self.suppressions.suppress(workspace_id, "email", r.emailAddress, "complaint")
                suppressed += 1
        customer, tagged_key = event.tag("customer"), event.tag("mk")
        if customer and tagged_key:
            self.ledger.record_event(
                workspace_id, customer, key_from_tag(tagged_key), event.eventType.lower(), at
            )
        return {"event": event.eventType, "suppressed": suppressed}
