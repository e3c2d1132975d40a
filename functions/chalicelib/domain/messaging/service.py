"""One way out for every message: the guardrails, in an order that cannot be replayed around.

`MessagingService.send` takes one message for one customer and decides, in this order:

1. **consent** (marketing only): the channel's consent on the profile must be `subscribed`,
   and the customer must not have unsubscribed through Patron (link, one-click, STOP), nor
   have an open complaint (the workspace's `no_marketing_on_open_complaint`, on by default);
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
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.identity import normalize_phone
from chalicelib.domain.messaging import feedback, product_block, render, sms, unsubscribe
from chalicelib.domain.messaging.model import (
    BULK_MAX,
    OPEN_COMPLAINT,
    AlreadySent,
    BulkEmail,
    Channel,
    Decision,
    InFlight,
    Outgoing,
    Policy,
    Purpose,
    Template,
)
from chalicelib.domain.messaging.personalize import profile_values
from chalicelib.domain.messaging.ports import Channels, EngagementTiers, Ledger, Limits, TemplateReader
from chalicelib.domain.messaging.stats import scope_of
from chalicelib.domain.recommend.ports import Recommender
from chalicelib.domain.timezones import zone_for_phone

LEASE = timedelta(minutes=5)
LOYALTY_VARIABLES = frozenset({"points", "points_pending", "tier", "tier_benefits"})


def _uses(template: Template, names: set[str] | frozenset[str]) -> bool:
    """Whether any of the template's texts has a placeholder among `names`."""
    texts = (template.subject, template.html, template.text, template.sms)
    return bool(names) and bool(render.variables_used(*(t for t in texts if t)) & names)


def local_zone(profile: CustomerProfile, policy: Policy) -> ZoneInfo:
    """The profile's zone (from its address, chalicelib.domain.timezones), else its phone
    country's (when that has one), else the workspace's default zone (UTC unless set)."""
    return ZoneInfo(profile.timezone or zone_for_phone(profile.phone) or policy.default_timezone)


def quiet_until(now: datetime, zone: ZoneInfo, policy: Policy) -> datetime | None:
    """The end of the quiet hours if `now` is inside them, else None."""
    local = timemath.local(now, zone)  # total: a dry run may ask about year 9999
    start, end = policy.quiet_start, policy.quiet_end
    inside = (local.hour >= start or local.hour < end) if start > end else (start <= local.hour < end)
    if not inside:
        return None
    day = local if local.hour < end else timemath.later(local, timedelta(days=1))
    if day is None:  # the calendar ends inside the quiet hours
        return timemath.LATEST
    return timemath.back(day.replace(hour=end, minute=0, second=0, microsecond=0), now.tzinfo)


class MessagingService:
    def __init__(
        self,
        ledger: Ledger,
        limits: Limits,
        channels: Channels,
        templates: TemplateReader,
        unsubscribe_link: Callable[..., str | None] | None = None,
        engagement: EngagementTiers | None = None,
        join_link: Callable[[str, str], str | None] | None = None,
        loyalty_values: Callable[[str, str], dict[str, Any]] | None = None,
        loyalty_values_of: Callable[[str, list[str]], dict[str, dict[str, Any]]] | None = None,
        open_complaints: Callable[[str, list[tuple[str, list[str]]]], set[str]] | None = None,
        recommender: Recommender | None = None,
    ) -> None:
        self.ledger = ledger
        self.limits = limits
        self.channels = channels
        self.templates = templates
        # (workspace, customer, channel, scope, variant) -> signed URL
        self.unsubscribe_link = unsubscribe_link
        self.engagement = engagement  # the customer's tier, from opens and clicks
        self.join_link = join_link  # a guest's signed join link (domain/loyalty/invite.py)
        # (workspace, customer) -> points, points_pending, tier, tier_benefits
        # (domain/loyalty/summary.py): read only for a template that uses one of them
        self.loyalty_values = loyalty_values
        self.loyalty_values_of = loyalty_values_of  # a bulk batch's recipients at once
        # (workspace, [(customer, merged ids)]) -> those with an open complaint (one read)
        self.open_complaints = open_complaints
        # `{{ recommendations }}` and the like, asked only for a template that uses them
        # (None: they render empty, and a flow's `recommendations` step is skipped)
        self.recommender = recommender

    def sender_verified(self, sender: str) -> bool:
        """Whether the email provider sends from this address (it, or its domain, is verified)."""
        return self.channels.sender_verified(sender)

    def check(
        self,
        channel: Channel,
        purpose: Purpose,
        workspace_id: str,
        customer_id: str,
        profile: CustomerProfile,
        policy: Policy,
        now: datetime,
    ) -> Decision:
        """The guardrails that need no write (consent, opt-out, address, suppression, STOP,
        quiet hours): `ok`, or why not (`dropped`, or `deferred` with when). `send` runs the
        same checks first; `patron flow dry-run` runs only these."""
        probe = Outgoing(workspace_id, customer_id, "", channel, purpose, "")
        screened = self._screen(probe, profile, policy, now)
        return screened if isinstance(screened, Decision) else Decision("ok")

    def send(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        now: datetime,
        tier: str | None = None,
    ) -> Decision:
        """`tier`: the customer's engagement tier when the caller knows it (else the
        engagement port's, else medium)."""
        screened = self._screen(message, profile, policy, now)
        if isinstance(screened, Decision):
            return screened
        zone, address = screened
        claim = self.ledger.claim(message.workspace_id, message.customer_id, message.key, now, LEASE)
        if claim == "done":
            return Decision("duplicate", "already sent (or dropped) before")
        if claim == "busy":
            raise InFlight(message.key)
        try:
            return self._send_claimed(message, profile, policy, now, zone, address, tier)
        except AlreadySent:
            raise
        except Exception:
            # nothing was sent: free the claim so that the retry this raise causes can send
            self.ledger.release(message.workspace_id, message.customer_id, message.key)
            raise

    def _screen(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        now: datetime,
        lists: tuple[set[str], set[str]] | None = None,
        held: set[str] | None = None,
    ) -> Decision | tuple[ZoneInfo, str]:
        """Guardrails 1 to 4 (consent, opt-out, address, suppression, STOP, quiet hours): a
        Decision that stops the message, or the customer's zone and address to go on with.
        `lists`: the opt-outs and suppressions read for a whole batch (`_lists`); without
        it, each is read for this message; `held`, the batch's customers with an open complaint."""
        marketing = message.purpose is Purpose.MARKETING
        if marketing and not profile.subscribed(message.channel.value):
            return Decision("dropped", f"no {message.channel.value} marketing consent")
        ws, channel = message.workspace_id, message.channel.value
        if marketing and (
            message.customer_id in lists[0]
            if lists is not None
            else self.limits.is_opted_out(ws, channel, message.customer_id)
        ):
            return Decision("dropped", "unsubscribed (link, one-click or STOP)")
        if marketing and (message.customer_id in held if held is not None else self._held([profile], policy)):
            return Decision("dropped", OPEN_COMPLAINT)
        address = profile.address(message.channel.value)
        if not address:
            return Decision("dropped", f"no {message.channel.value} address")
        if message.channel is Channel.SMS and normalize_phone(str(address)) is None:
            return Decision("dropped", "sms number not valid for its country")
        if (
            str(address) in lists[1]
            if lists is not None
            else self.limits.is_suppressed(ws, channel, str(address))
        ):
            return Decision("dropped", "address suppressed (bounce or complaint)")
        if message.channel is Channel.SMS and self.channels.sms_opted_out(str(address)):
            return Decision("dropped", "the number replied STOP")
        zone = local_zone(profile, policy)
        if marketing:
            until = quiet_until(now, zone, policy)
            if until is not None:
                return Decision("deferred", "quiet hours", until)
        return zone, str(address)

    def _send_claimed(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        now: datetime,
        zone: ZoneInfo,
        address: str,
        tier: str | None,
    ) -> Decision:
        taken: list[Callable[[], None]] = []  # what to give back if the provider fails
        over = self._take_cap(message, tier, policy, now, zone, taken)
        if over is not None:
            return over
        try:
            return self._deliver(message, profile, policy, address, taken)
        except AlreadySent:
            raise
        except Exception:
            for give_back in taken:  # the cap and credits this attempt took: nothing was sent
                give_back()
            raise

    def _take_cap(
        self,
        message: Outgoing,
        tier: str | None,
        policy: Policy,
        now: datetime,
        zone: ZoneInfo,
        taken: list[Callable[[], None]],
    ) -> Decision | None:
        """Guardrail 6 on a claimed message: None when it may go (what it took is appended to
        `taken`), else the deferral (claim released) or the drop (claim finished)."""
        if message.purpose is not Purpose.MARKETING:
            return None
        ws, cid, key = message.workspace_id, message.customer_id, message.key
        tier = self._tier(message, tier, now)
        local = now.astimezone(zone)
        if tier == "low":
            allowed = self.limits.take_spacing(ws, cid, now, timedelta(days=policy.low_every_days))
        else:
            period = f"{local:%Y-%m-%d}"
            allowed = self.limits.take_cap(ws, cid, period, policy.daily_caps.get(tier, 1))
            taken.append(lambda: self.limits.return_cap(ws, cid, period))
        if allowed:
            return None
        if message.over_cap == "drop":
            self.ledger.finish(ws, cid, key, "dropped", "frequency cap")
            return Decision("dropped", "frequency cap")
        self.ledger.release(ws, cid, key)
        tomorrow = (local + timedelta(days=1)).replace(
            hour=policy.quiet_end, minute=0, second=0, microsecond=0
        )
        return Decision("deferred", "frequency cap", tomorrow.astimezone(now.tzinfo))

    def _values(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        template: Template,
        loyalty: Callable[[str, str], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        ws, cid = message.workspace_id, message.customer_id
        values = {**profile_values(profile, policy.store_name), **message.values}
        read = loyalty or self.loyalty_values
        if read and _uses(template, LOYALTY_VARIABLES - values.keys()):
            values = {**read(ws, cid), **values}
        if self.recommender and _uses(template, product_block.RECOMMENDATION_VARIABLES - values.keys()):
            placement = message.placement or message.channel.value
            limit = product_block.SMS_SHOWN if message.channel is Channel.SMS else product_block.MAX_SHOWN
            found = self.recommender.for_customer(
                ws, cid, placement=placement, limit=limit, exclude=message.exclude
            )
            values = {**product_block.recommendation_values(found), **values}
        if (
            message.purpose is Purpose.MARKETING
            and not values.get("unsubscribe_url")
            and self.unsubscribe_link
        ):
            values["unsubscribe_url"] = self.unsubscribe_link(
                ws, cid, message.channel.value, scope_of(message.key), message.tags.get("v")
            )
        if self.join_link and not profile.is_member and not values.get("join_url"):
            values["join_url"] = self.join_link(ws, cid)
        return values

    def _tags(self, message: Outgoing) -> dict[str, str]:
        return {
            "workspace": message.workspace_id,
            "customer": message.customer_id,
            "mk": feedback.key_tag(message.key),
            **message.tags,
        }

    def _deliver(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        address: str,
        taken: list[Callable[[], None]],
    ) -> Decision:
        ws, cid, key = message.workspace_id, message.customer_id, message.key
        template = self.templates.latest(ws, message.template_id)
        values = self._values(message, profile, policy, template)
        tags = self._tags(message)
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
        html_body, text_body = self._bodies(message, template, values)
        headers = unsubscribe.one_click_headers(values.get("unsubscribe_url"))
        provider_id = self.channels.send_email(
            policy.sender_email, address, subject, html_body, text_body, headers, tags
        )
        self._sent(ws, cid, key, provider_id)
        return Decision("sent", provider_id=provider_id)

    def _tiers(
        self, messages: list[Outgoing], profiles: dict[str, CustomerProfile], now: datetime
    ) -> dict[str, str]:
        """The recipients' engagement tiers in one batch read (not one read per recipient)."""
        batch_read = getattr(self.engagement, "tiers", None)
        marketing = [m for m in messages if m.purpose is Purpose.MARKETING and m.customer_id in profiles]
        if batch_read is None or not marketing:
            return {}
        tiers: dict[str, str] = batch_read(marketing[0].workspace_id, [m.customer_id for m in marketing], now)
        return tiers

    def _lists(
        self, messages: list[Outgoing], profiles: dict[str, CustomerProfile]
    ) -> tuple[set[str], set[str]]:
        """The opt-outs and suppressions of a batch's email recipients, in one consistent
        batched read (not two reads per recipient): an unsubscribe that landed after the
        batch was queued still stops its message."""
        emails = [m for m in messages if m.channel is Channel.EMAIL and m.customer_id in profiles]
        if not emails:
            return set(), set()
        marketing = [m.customer_id for m in emails if m.purpose is Purpose.MARKETING]
        addresses = [e for m in emails if (e := profiles[m.customer_id].email)]
        return self.limits.listed(emails[0].workspace_id, Channel.EMAIL.value, marketing, addresses)

    def _held(self, profiles: list[CustomerProfile], policy: Policy) -> set[str]:
        """Of these profiles, those with an open complaint (their merged ids' tickets too),
        when the workspace holds marketing for them; one read for all."""
        if not (policy.hold_on_open_complaint and self.open_complaints and profiles):
            return set()
        pairs = [(p.customer_id, list(p.merged_ids or ())) for p in profiles]
        return self.open_complaints(profiles[0].workspace_id, pairs)

    def _batch_loyalty(
        self, messages: list[Outgoing], profiles: dict[str, CustomerProfile]
    ) -> Callable[[str, str], dict[str, Any]] | None:
        """The loyalty values of a batch's email recipients, read together when the first
        message whose template uses them is rendered (batched reads, not one per recipient);
        nothing read when no template uses them."""
        many = self.loyalty_values_of
        if many is None:
            return None
        read: dict[str, dict[str, Any]] = {}

        def values(ws: str, cid: str) -> dict[str, Any]:
            if cid not in read:
                ids = [
                    m.customer_id
                    for m in messages
                    if m.workspace_id == ws and m.channel is Channel.EMAIL and m.customer_id in profiles
                ]
                read.update(many(ws, [c for c in dict.fromkeys([cid, *ids]) if c not in read]))
            return read.get(cid, {})

        return values

    def _tier(self, message: Outgoing, tier: str | None, now: datetime) -> str:
        """The tier the caller gave wins; else the engagement port's; else medium."""
        if tier:
            return tier
        if self.engagement is None:
            return "medium"
        return self.engagement.tier(message.workspace_id, message.customer_id, now) or "medium"

    def _sent(self, ws: str, cid: str, key: str, provider_id: str) -> None:
        """The provider has it: from here on, a failure must not free the claim (a retry
        would send again); the claim stays `sending` and the error is raised for the log."""
        try:
            self.ledger.finish(ws, cid, key, "sent", provider_id)
        except Exception as exc:
            raise AlreadySent(key) from exc

    # -- many recipients, one provider call per 50 ------------------------------------------
    def send_bulk(
        self,
        messages: list[Outgoing],
        profiles: dict[str, CustomerProfile],
        policy: Policy,
        now: datetime,
        tiers: dict[str, str] | None = None,
    ) -> list[Decision]:
        """The same guardrails as `send`, per recipient, then one bulk email call per
        `BULK_MAX` claimed recipients; one Decision per message, in order. `tiers`: the
        engagement tiers the caller knows, by customer (the others are read in one batch).

        Unlike `send`, a recipient stopped before the claim (no consent, no address, a
        suppressed address) is recorded in the ledger as dropped, so that a redelivered
        batch counts it as a duplicate rather than dropping (and counting) it again. A claim
        another attempt holds is answered `busy` (retry that recipient later), not raised,
        so that the rest of the batch goes out. SMS messages go one by one through `send`.

        A bulk call that fails as a whole (throttling included) gives back the caps and frees
        the claims of every recipient not yet sent, then raises: the queue retries the batch
        and the recipients already sent are duplicates then. A destination the provider
        refuses for now (`retry`) is freed and given back; one it rejects is `refused`.
        """
        tiers = {**self._tiers(messages, profiles, now), **(tiers or {})}
        lists = self._lists(messages, profiles)
        marketing = [m for m in messages if m.purpose is Purpose.MARKETING and m.customer_id in profiles]
        held = self._held([profiles[m.customer_id] for m in marketing], policy)
        loyalty = self._batch_loyalty(messages, profiles)
        decisions: dict[int, Decision] = {}
        ready: list[tuple[int, Outgoing, BulkEmail, list[Callable[[], None]]]] = []
        templates: dict[str, Template] = {}
        try:
            for i, message in enumerate(messages):
                profile = profiles.get(message.customer_id)
                if message.channel is Channel.SMS:
                    decisions[i] = self._send_one(
                        message, profile, policy, now, tiers.get(message.customer_id)
                    )
                    continue
                if profile is None:
                    decisions[i] = self._record_drop(message, now, "no profile (erased or merged)")
                    continue
                screened = self._screen(message, profile, policy, now, lists, held)
                if isinstance(screened, Decision):
                    if screened.status == "dropped":
                        screened = self._record_drop(message, now, screened.reason)
                    decisions[i] = screened
                    continue
                zone, address = screened
                claimed = self._claim(message, now)
                if claimed is not None:
                    decisions[i] = claimed
                    continue
                taken: list[Callable[[], None]] = []
                try:
                    over = self._take_cap(message, tiers.get(message.customer_id), policy, now, zone, taken)
                    if over is not None:
                        decisions[i] = over
                        continue
                    email = self._render_bulk(message, profile, policy, address, templates, loyalty)
                except Exception:
                    self._give_back([(message, taken)])
                    raise
                ready.append((i, message, email, taken))
        except Exception:
            self._give_back([(m, t) for _, m, _, t in ready])
            raise
        unrecorded: list[str] = []
        for start in range(0, len(ready), BULK_MAX):
            chunk = ready[start : start + BULK_MAX]
            try:
                results = self.channels.send_bulk_email(policy.sender_email, [e for _, _, e, _ in chunk])
                if len(results) != len(chunk):
                    raise RuntimeError(f"{len(results)} statuses for {len(chunk)} destinations")
            except Exception:
                self._give_back([(m, t) for _, m, _, t in ready[start:]])
                raise
            for (i, message, _, taken), result in zip(chunk, results, strict=True):
                ws, cid, key = message.workspace_id, message.customer_id, message.key
                if result.status == "sent":
                    try:
                        self.ledger.finish(ws, cid, key, "sent", result.detail)
                    except Exception:  # noqa: BLE001 - kept `sending`: never freed for a resend
                        unrecorded.append(key)
                    decisions[i] = Decision("sent", provider_id=result.detail)
                    continue
                for give_back in taken:
                    give_back()
                if result.status == "retry":
                    self.ledger.release(ws, cid, key)
                    decisions[i] = Decision("retry", result.detail)
                else:
                    self.ledger.finish(ws, cid, key, "refused", result.detail)
                    decisions[i] = Decision("refused", result.detail)
        if unrecorded:
            raise AlreadySent(", ".join(unrecorded))
        return [decisions[i] for i in range(len(messages))]

    def _send_one(
        self,
        message: Outgoing,
        profile: CustomerProfile | None,
        policy: Policy,
        now: datetime,
        tier: str | None,
    ) -> Decision:
        if profile is None:
            return self._record_drop(message, now, "no profile (erased or merged)")
        try:
            return self.send(message, profile, policy, now, tier)
        except InFlight:
            return Decision("busy", "another attempt holds the claim")

    def _claim(self, message: Outgoing, now: datetime) -> Decision | None:
        """None when claimed; else the Decision for a claim that is done or busy."""
        claim = self.ledger.claim(message.workspace_id, message.customer_id, message.key, now, LEASE)
        if claim == "done":
            return Decision("duplicate", "already sent (or dropped) before")
        if claim == "busy":
            return Decision("busy", "another attempt holds the claim")
        return None

    def _record_drop(self, message: Outgoing, now: datetime, reason: str) -> Decision:
        held = self._claim(message, now)
        if held is not None:
            return held
        self.ledger.finish(message.workspace_id, message.customer_id, message.key, "dropped", reason)
        return Decision("dropped", reason)

    def _render_bulk(
        self,
        message: Outgoing,
        profile: CustomerProfile,
        policy: Policy,
        address: str,
        templates: dict[str, Template],
        loyalty: Callable[[str, str], dict[str, Any]] | None = None,
    ) -> BulkEmail:
        if message.template_id not in templates:
            templates[message.template_id] = self.templates.latest(message.workspace_id, message.template_id)
        template = templates[message.template_id]
        values = self._values(message, profile, policy, template, loyalty)
        html_body, text_body = self._bodies(message, template, values)
        return BulkEmail(
            to=address,
            subject=render.render(template.subject, values, field="subject"),
            html=html_body,
            text=text_body,
            tags=self._tags(message),
            headers=unsubscribe.one_click_headers(values.get("unsubscribe_url")),
        )

    def _bodies(self, message: Outgoing, template: Template, values: dict[str, Any]) -> tuple[str, str]:
        """An email's rendered HTML and text; a marketing one always shows its signed link."""
        html, text = template.html, template.text
        if message.purpose is Purpose.MARKETING and values.get("unsubscribe_url"):
            html, text = unsubscribe.with_link(html, text)
        return (
            render.render(html, values, escape_html=True, field="html"),
            render.render(text, values, field="text"),
        )

    def _give_back(self, claimed: list[tuple[Outgoing, list[Callable[[], None]]]]) -> None:
        """Nothing was sent to these: their caps back, their claims freed for the retry."""
        for message, taken in claimed:
            for give_back in taken:
                give_back()
            self.ledger.release(message.workspace_id, message.customer_id, message.key)
