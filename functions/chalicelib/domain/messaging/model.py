"""The messaging context's value types: what a message is, what was decided about it, the
workspace's sending rules, and the provider's answers. No storage layout here: the adapters
map these to and from their items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.domain.errors import Conflict


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class SenderNotVerified(Conflict):
    """A campaign cannot go out: the workspace has no sender address, or the provider has
    not verified it (409, with the commands that fix it)."""

    code = "sender_not_verified"


@dataclass(frozen=True)
class RunContext:
    """What the trigger knew, kept on the run for its sends: an order's number and line
    titles, or a checkout's recovery link, total, titles and (for a guest, who has no
    profile yet) contact."""

    kind: Literal["order", "checkout"]
    products: list[str] | None = None  # line titles, the first shown as `last_product`
    order_number: str | None = None
    checkout_url: str | None = None
    total: Decimal | None = None
    currency: str | None = None
    guest: Mapping[str, Any] | None = None  # the checkout's contact as stored (ProfileReader.guest reads it)
    product: tuple[str, str] | None = None  # (source id, product id) of the first line: `product.*`
    source_id: str | None = None  # the source of the checkout or order (its store makes the coupons)
    product_ids: tuple[str, ...] = ()  # every line's product id and SKU: never recommended in its messages
    extra: Mapping[str, Any] = field(default_factory=dict)  # stored values not named here


@dataclass
class FlowRun:
    """One customer's run of a flow: one per flow and trigger key (the checkout, the order,
    the year...). The engine moves it on; the store keeps it (adapters/flows.py maps it)."""

    workspace_id: str
    customer_id: str
    run_id: str  # <flow>#<trigger key>
    flow_id: str
    key: str  # the trigger key
    status: str  # active, done, exited, failed
    step: int  # the next step to take
    at: str | None  # when the current step's clock started (ISO)
    started: str | None  # when the trigger happened
    due: str | None  # when the run is next due (ISO)
    filed: date | None = None  # the day the due index files it under (None: not in the index)
    context: RunContext | None = None  # what the trigger knew
    segment: str | None = None  # for segment.entered
    birthday: bool | None = None  # a birthday run: the next year's is enrolled when it ends
    tries: int | None = None  # failed attempts so far
    error: str | None = None  # the last failure
    reason: str | None = None  # why it ended
    log: list[dict[str, Any]] | None = None  # the last 20 send decisions
    extra: dict[str, Any] = field(default_factory=dict)  # stored attributes kept as they are


# What claiming a message's key answers: "claimed" (this attempt sends it), "done" (sent,
# dropped or refused before: nothing to do) or "busy" (another attempt holds it, within its lease)
Claim = Literal["claimed", "done", "busy"]


class LastClick(BaseModel):
    key: str  # the message key
    scope: str | None = None  # camp#<id> or flow#<id>
    variant: str | None = None
    at: str


@dataclass(frozen=True)
class EngagementState:
    """What a customer did with the messages they got (adapters/engagement.py maps the item)."""

    deliveries: int = 0
    opens: int = 0  # opened messages
    clicks: int = 0  # clicked messages
    since_engaged: int = 0  # deliveries since the last open or click
    last_delivery: str | None = None
    last_open: str | None = None
    prior_open: str | None = None  # the open before the last one
    last_click_at: str | None = None
    last_click: LastClick | None = None  # the last marketing click (for attribution)


class Throttled(Exception):
    """The provider refused for rate: retry later (the claim has been released)."""


class AlreadySent(Exception):
    """The provider accepted the message but recording it failed: never retried by release."""


class InFlight(Exception):
    """Another attempt holds this message's claim and has not finished (or crashed before
    its lease ran out): retry later, when it is either sent or free to take."""


@dataclass(frozen=True)
class Template:
    template_id: str
    version: int
    subject: str = ""
    html: str = ""
    text: str = ""
    sms: str = ""
    name: str = ""  # what the operator calls it (the id when unnamed)


@dataclass(frozen=True)
class Outgoing:
    workspace_id: str
    customer_id: str
    key: str  # what makes it the same message: e.g. "txn:<order>:shipped", "flow:<flow>:<step>"
    channel: Channel
    purpose: Purpose
    template_id: str
    values: dict[str, Any] = field(default_factory=dict)
    over_cap: str = "defer"  # or "drop"
    tags: dict[str, str] = field(default_factory=dict)  # extra provider tags, e.g. {"v": variant}
    # `{{ recommendations }}` and the like (product_block.py): the placement asked for (None:
    # the channel's, `email` or `sms`) and the products never to show (the trigger's)
    placement: str | None = None
    exclude: tuple[str, ...] = ()


OPEN_COMPLAINT = "open complaint"  # a marketing message's drop reason (stats: `open_complaint`)


@dataclass(frozen=True)
class Decision:
    """`reason` OPEN_COMPLAINT: held by the open-complaint guardrail (counted apart)."""

    status: str  # sent, duplicate, deferred, dropped, refused (flows: skipped; checks: ok)
    reason: str = ""
    until: datetime | None = None
    provider_id: str | None = None
    parts: int = 0


@dataclass(frozen=True)
class Policy:
    """Per-workspace sending rules (defaults shown)."""

    quiet_start: int = 21  # local hour quiet hours begin
    quiet_end: int = 9  # local hour they end
    daily_caps: dict[str, int] = field(default_factory=lambda: {"high": 2, "medium": 1, "low": 1})
    low_every_days: int = 3  # a low-engagement customer gets at most one message in this many days
    sender_email: str = ""
    sms_sender_id: str = ""
    default_timezone: str = "UTC"
    store_name: str = ""  # every message's {{ store_name }}
    hold_on_open_complaint: bool = True  # no marketing to a customer with an open complaint


def policy_for(settings: Any) -> Policy:
    """The sending rules of a workspace (its WorkspaceSettings; None: the defaults). Quiet
    hours, caps and the default zone are workspace settings (`patron workspace sending`)."""
    if settings is None:
        return Policy()
    default = Policy()
    return Policy(
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
        daily_caps={**default.daily_caps, **settings.daily_caps},
        low_every_days=settings.low_every_days,
        sender_email=settings.sender_email,
        sms_sender_id=settings.sms_sender_id,
        default_timezone=settings.default_timezone,
        store_name=settings.name,
        hold_on_open_complaint=settings.no_marketing_on_open_complaint,
    )


@dataclass(frozen=True)
class BulkEmail:
    """One destination of a bulk send: Patron's own rendered texts, and its tags."""

    to: str
    subject: str
    html: str
    text: str
    tags: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe, per recipient


@dataclass(frozen=True)
class BulkResult:
    """The provider's answer for one destination: `sent` (with its id), `retry` (a transient
    refusal: nothing was sent, try again later) or `rejected` (never to be retried)."""

    status: str
    detail: str = ""


BULK_MAX = 50  # destinations per bulk call (SES SendBulkTemplatedEmail's limit)
