"""One way out for every message: the guardrails, in an order that cannot be replayed around.

`MessagingService.send` takes one message for one customer and decides, in this order:

1. **consent** (marketing only): the channel's consent on the profile must be `subscribed`,
   and the customer must not have unsubscribed through Patron (link, one-click, STOP);
2. **address**: the profile has an email, or an E.164 phone;
3. **suppression**: the address has not hard-bounced or complained in this workspace, and a
   phone has not replied STOP (the SMS provider's opt-out list, for every kind of SMS);
4. **quiet hours** (marketing only): not between the quiet hours in the customer's local
   time; the message is *deferred* to the end of them, never lost;
5. **exactly once**: the message key (customer x flow step, customer x campaign, order x
   notification) is claimed with a conditional write. A redelivered queue message, a
   replayed stream record or a re-run schedule finds it claimed and sends nothing;
6. **frequency cap** (marketing only): one more message today, by the customer's
   engagement tier, or *deferred* to tomorrow (or dropped, as the flow says);
7. **SMS credits**: the parts the text takes, from the workspace's balance;
8. render and hand to the channel; the claim becomes `sent` with the provider's id.

A provider error (throttling included) releases the claim and raises, so the stream or
queue retries the message later; nothing is dropped. A process that dies after the claim
leaves a `sending` claim with a lease: a retry meanwhile raises `InFlight` (so it is
retried, not counted as sent), and once the lease has passed a retry takes the claim and
sends, unless SES's own Send event for the message has reached the claim meanwhile: then
the provider had accepted it before the process died, and the retry sends nothing (see
docs/messaging.md for the window that remains).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chalicelib.domain.messaging import feedback, render, sms
from chalicelib.domain.messaging.stats import scope_of
from chalicelib.domain.timezones import zone_for_phone

LEASE = timedelta(minutes=5)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


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


@dataclass(frozen=True)
class Decision:
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


class Ledger(Protocol):
    def claim(
        self, workspace_id: str, customer_id: str, key: str, now: datetime, lease: timedelta
    ) -> str: ...  # "claimed", "done" (sent, dropped or refused before) or "busy"
    def finish(self, workspace_id: str, customer_id: str, key: str, status: str, detail: str) -> None: ...
    def release(self, workspace_id: str, customer_id: str, key: str) -> None: ...


class EngagementTiers(Protocol):
    def tier(self, workspace_id: str, customer_id: str, now: datetime) -> str: ...  # high, medium, low


class Limits(Protocol):
    def is_suppressed(self, workspace_id: str, channel: str, address: str) -> bool: ...
    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool: ...
    def take_cap(self, workspace_id: str, customer_id: str, period: str, cap: int) -> bool: ...
    def return_cap(self, workspace_id: str, customer_id: str, period: str) -> None: ...
    def take_spacing(self, workspace_id: str, customer_id: str, now: datetime, gap: timedelta) -> bool: ...
    def take_sms_credits(self, workspace_id: str, parts: int) -> bool: ...
    def return_sms_credits(self, workspace_id: str, parts: int) -> None: ...


class Channels(Protocol):
    def send_email(
        self,
        sender: str,
        to: str,
        subject: str,
        html: str,
        text: str,
        headers: dict[str, str],
        tags: dict[str, str],
    ) -> str: ...
    def send_sms(self, phone: str, text: str, sender_id: str, tags: dict[str, str]) -> str: ...
    def sms_opted_out(self, phone: str) -> bool: ...  # replied STOP (the SMS provider's list)


def local_zone(profile: dict[str, Any], policy: Policy) -> ZoneInfo:
    """The profile's zone, else its phone country's (when that has one), else the default."""
    return ZoneInfo(profile.get("tz") or zone_for_phone(profile.get("ph")) or policy.default_timezone)


def quiet_until(now: datetime, zone: ZoneInfo, policy: Policy) -> datetime | None:
    """The end of the quiet hours if `now` is inside them, else None."""
    local = now.astimezone(zone)
    start, end = policy.quiet_start, policy.quiet_end
    inside = (local.hour >= start or local.hour < end) if start > end else (start <= local.hour < end)
    if not inside:
        return None
    day = local if local.hour < end else local + timedelta(days=1)
    return day.replace(hour=end, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


class MessagingService:
    def __init__(
        self,
        ledger: Ledger,
        limits: Limits,
        channels: Channels,
        templates: Any,
        unsubscribe_link: Callable[..., str | None] | None = None,
        engagement: EngagementTiers | None = None,
    ) -> None:
        self.ledger = ledger
        self.limits = limits
        self.channels = channels
        self.templates = templates
        # (workspace, customer, channel, scope) -> signed URL
        self.unsubscribe_link = unsubscribe_link
        self.engagement = engagement  # the customer's tier, from opens and clicks

    def check(
        self,
        channel: Channel,
        purpose: Purpose,
        workspace_id: str,
        customer_id: str,
        profile: dict[str, Any],
        policy: Policy,
        now: datetime,
    ) -> Decision:
        """The guardrails that need no write, in order: consent, opt-out, address,
        suppression, STOP, quiet hours. `ok`, or why not (`dropped`, or `deferred` with
        when). `send` runs these first; `patron flow dry-run` runs only these."""
        marketing = purpose is Purpose.MARKETING
        consent_key = "ce" if channel is Channel.EMAIL else "cs"
        if marketing and (profile.get(consent_key) or {}).get("s") != "subscribed":
            return Decision("dropped", f"no {channel.value} marketing consent")
        if marketing and self.limits.is_opted_out(workspace_id, channel.value, customer_id):
            return Decision("dropped", "unsubscribed (link, one-click or STOP)")
        address = profile.get("e") if channel is Channel.EMAIL else profile.get("ph")
        if not address:
            return Decision("dropped", f"no {channel.value} address")
        if self.limits.is_suppressed(workspace_id, channel.value, str(address)):
            return Decision("dropped", "address suppressed (bounce or complaint)")
        if channel is Channel.SMS and self.channels.sms_opted_out(str(address)):
            return Decision("dropped", "the number replied STOP")
        if marketing:
            until = quiet_until(now, local_zone(profile, policy), policy)
            if until is not None:
                return Decision("deferred", "quiet hours", until)
        return Decision("ok")

    def send(self, message: Outgoing, profile: dict[str, Any], policy: Policy, now: datetime) -> Decision:
        verdict = self.check(
            message.channel, message.purpose, message.workspace_id, message.customer_id, profile, policy, now
        )
        if verdict.status != "ok":
            return verdict
        address = profile.get("e") if message.channel is Channel.EMAIL else profile.get("ph")
        zone = local_zone(profile, policy)
        claim = self.ledger.claim(message.workspace_id, message.customer_id, message.key, now, LEASE)
        if claim == "done":
            return Decision("duplicate", "already sent (or dropped) before")
        if claim == "busy":
            raise InFlight(message.key)
        try:
            return self._send_claimed(message, profile, policy, now, zone, str(address))
        except AlreadySent:
            raise
        except Exception:
            # nothing was sent: free the claim so that the retry this raise causes can send
            self.ledger.release(message.workspace_id, message.customer_id, message.key)
            raise

    def _send_claimed(
        self,
        message: Outgoing,
        profile: dict[str, Any],
        policy: Policy,
        now: datetime,
        zone: ZoneInfo,
        address: str,
    ) -> Decision:
        ws, cid, key = message.workspace_id, message.customer_id, message.key
        taken: list[Callable[[], None]] = []  # what to give back if the provider fails
        if message.purpose is Purpose.MARKETING:
            tier = self._tier(message, profile, now)
            local = now.astimezone(zone)
            if tier == "low":
                allowed = self.limits.take_spacing(ws, cid, now, timedelta(days=policy.low_every_days))
            else:
                period = f"{local:%Y-%m-%d}"
                allowed = self.limits.take_cap(ws, cid, period, policy.daily_caps.get(tier, 1))
                taken.append(lambda: self.limits.return_cap(ws, cid, period))
            if not allowed:
                if message.over_cap == "drop":
                    self.ledger.finish(ws, cid, key, "dropped", "frequency cap")
                    return Decision("dropped", "frequency cap")
                self.ledger.release(ws, cid, key)
                tomorrow = (local + timedelta(days=1)).replace(
                    hour=policy.quiet_end, minute=0, second=0, microsecond=0
                )
                return Decision("deferred", "frequency cap", tomorrow.astimezone(now.tzinfo))
        try:
            return self._deliver(message, profile, policy, address, taken)
        except AlreadySent:
            raise
        except Exception:
            for give_back in taken:  # the cap and credits this attempt took: nothing was sent
                give_back()
            raise

    def _deliver(
        self,
        message: Outgoing,
        profile: dict[str, Any],
        policy: Policy,
        address: str,
        taken: list[Callable[[], None]],
    ) -> Decision:
        ws, cid, key = message.workspace_id, message.customer_id, message.key
        template = self.templates.latest(ws, message.template_id)
        values = {"first_name": profile.get("fn"), "last_name": profile.get("ln"), **message.values}
        if (
            message.purpose is Purpose.MARKETING
            and not values.get("unsubscribe_url")
            and self.unsubscribe_link
        ):
            values["unsubscribe_url"] = self.unsubscribe_link(ws, cid, message.channel.value, scope_of(key))
        tags = {"workspace": ws, "customer": cid, "mk": feedback.key_tag(key)}
        if message.channel is Channel.SMS:
            text = render.render(template.sms or template.text, values, field="sms")
            length = sms.measure(text)
            if length.parts > sms.MAX_PARTS:
                self.ledger.finish(ws, cid, key, "refused", "SMS too long")
                return Decision("refused", f"SMS takes {length.parts} parts; at most {sms.MAX_PARTS}")
            if not self.limits.take_sms_credits(ws, length.parts):
                self.ledger.finish(ws, cid, key, "refused", "no SMS credits")
                return Decision("refused", "no SMS credits left in this workspace", parts=length.parts)
            taken.append(lambda: self.limits.return_sms_credits(ws, length.parts))
            provider_id = self.channels.send_sms(address, text, policy.sms_sender_id, tags)
            self._sent(ws, cid, key, provider_id)
            return Decision("sent", provider_id=provider_id, parts=length.parts)
        subject = render.render(template.subject, values, field="subject")
        html_body = render.render(template.html, values, escape_html=True, field="html")
        text_body = render.render(template.text, values, field="text")
        headers: dict[str, str] = {}
        if values.get("unsubscribe_url"):
            headers = {
                "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        provider_id = self.channels.send_email(
            policy.sender_email, address, subject, html_body, text_body, headers, tags
        )
        self._sent(ws, cid, key, provider_id)
        return Decision("sent", provider_id=provider_id)

    def _sent(self, ws: str, cid: str, key: str, provider_id: str) -> None:
        """The provider has it: from here on, a failure must not free the claim (a retry
        would send again); the claim stays `sending` and the error is raised for the log."""
        try:
            self.ledger.finish(ws, cid, key, "sent", provider_id)
        except Exception as exc:
            raise AlreadySent(key) from exc

    def _tier(self, message: Outgoing, profile: dict[str, Any], now: datetime) -> str:
        """An explicit `eng` on the profile wins; else the engagement port's; else medium."""
        if profile.get("eng"):
            return str(profile["eng"])
        if self.engagement is None:
            return "medium"
        return self.engagement.tier(message.workspace_id, message.customer_id, now) or "medium"
