"""The messaging core: a renderer that runs no code, SMS length, and guardrails that hold
under redelivery, throttling and caps."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging import render, sms
from chalicelib.domain.messaging.model import (
    AlreadySent,
    Channel,
    InFlight,
    Outgoing,
    Policy,
    Purpose,
    Template,
    Throttled,
)
from chalicelib.domain.messaging.service import MessagingService, quiet_until

AFTERNOON = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 13:00 in New York


# -- renderer ---------------------------------------------------------------------------
def test_placeholders_render_with_defaults_and_html_escaping():
    text = "Hi {{ first_name | default: 'there' }}, order {{order_number}} shipped: {{ tracking_url }}"
    values = {"first_name": "<b>Ana</b>", "order_number": "#1001", "tracking_url": "https://t.example/1"}
    assert render.render(text, values) == "Hi <b>Ana</b>, order #1001 shipped: https://t.example/1"
    assert render.render(text, values, escape_html=True).startswith("Hi &lt;b&gt;Ana&lt;/b&gt;")
    assert render.render(text, {"order_number": "#2"}).startswith("Hi there, order #2")


@pytest.mark.parametrize(
    ("text", "position", "token"),
    [
        ("Hello {{ password }}", 6, "password"),
        ("Hello {{ first_name.__class__ }}", 6, "{{"),
        ("{{ first_name }} and {% for x in y %}{{", 37, "{{"),
        ("Total: {{ order_total | upper }}", 7, "{{"),
    ],
)
def test_anything_but_a_listed_variable_is_refused_with_its_position(text, position, token):
    with pytest.raises(BadRequest) as caught:
        render.parse(text)
    assert caught.value.details["position"] == position and caught.value.details["token"] == token


# -- SMS length -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("€" * 80, "GSM-7", 160, 1),  # the euro sign is an extension character: 2 septets
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("ą" * 70, "UCS-2", 70, 1),
        ("ą" * 71, "UCS-2", 71, 2),
        ("Hi 😀", "UCS-2", 5, 1),  # an emoji is two UTF-16 code units
    ],
)
def test_sms_encoding_and_parts_are_counted_before_sending(text, encoding, units, parts):
    assert sms.measure(text) == sms.SmsLength(encoding, units, parts)


# -- guardrails -------------------------------------------------------------------------
class FakeLedger:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], dict[str, Any]] = {}

    def claim(self, ws: str, cid: str, key: str, now: datetime, lease: timedelta) -> str:
        entry = self.entries.get((ws, cid, key))
        if entry and entry["status"] != "sending":
            return "done"
        if entry and entry["lease"] >= now:
            return "busy"
        self.entries[(ws, cid, key)] = {"status": "sending", "lease": now + lease}
        return "claimed"

    def finish(self, ws: str, cid: str, key: str, status: str, detail: str) -> None:
        self.entries[(ws, cid, key)] = {"status": status, "detail": detail}

    def release(self, ws: str, cid: str, key: str) -> None:
        # as DynamoLedger (conditional on `st = sending`): a finished message stays finished
        entry = self.entries.get((ws, cid, key))
        if entry is not None and entry["status"] == "sending":
            del self.entries[(ws, cid, key)]


class FakeLimits:
    """As DynamoLimits: suppressions and opt-outs per workspace and channel (an address
    compared trimmed and lower-cased), caps per customer and period, SMS credits per workspace."""

    def __init__(self, credits: int = 50) -> None:
        self.suppressed: set[tuple[str, str, str]] = set()  # (ws, channel, address)
        self.opted_out: set[tuple[str, str, str]] = set()  # (ws, channel, customer)
        self.counts: dict[tuple[str, str, str], int] = {}
        self.last: dict[tuple[str, str], datetime] = {}
        self.credits: dict[str, int] = defaultdict(lambda: credits)  # the SMS parts left per workspace

    def suppress(self, ws: str, channel: str, address: str, reason: str) -> None:
        self.suppressed.add((ws, channel, address.strip().lower()))

    def opt_out(self, ws: str, channel: str, cid: str, source: str) -> None:
        self.opted_out.add((ws, channel, cid))

    def is_suppressed(self, ws: str, channel: str, address: str) -> bool:
        return (ws, channel, address.strip().lower()) in self.suppressed

    def is_opted_out(self, ws: str, channel: str, cid: str) -> bool:
        return (ws, channel, cid) in self.opted_out

    def listed(
        self, ws: str, channel: str, cids: list[str], addresses: list[str]
    ) -> tuple[set[str], set[str]]:
        self.batch_reads = getattr(self, "batch_reads", 0) + 1
        return {c for c in cids if (ws, channel, c) in self.opted_out}, {
            a for a in addresses if (ws, channel, a.strip().lower()) in self.suppressed
        }

    def take_cap(self, ws: str, cid: str, period: str, cap: int) -> bool:
        used = self.counts.get((ws, cid, period), 0)
        if used >= cap:
            return False
        self.counts[(ws, cid, period)] = used + 1
        return True

    def return_cap(self, ws: str, cid: str, period: str) -> None:
        self.counts[(ws, cid, period)] = self.counts.get((ws, cid, period), 0) - 1

    def take_spacing(self, ws: str, cid: str, now: datetime, gap: timedelta) -> bool:
        last = self.last.get((ws, cid))
        if last is not None and now - last < gap:
            return False
        self.last[(ws, cid)] = now
        return True

    def return_sms_credits(self, ws: str, parts: int) -> None:
        self.credits[ws] += parts

    def take_sms_credits(self, ws: str, parts: int) -> bool:
        if self.credits[ws] < parts:
            return False
        self.credits[ws] -= parts
        return True


class FakeChannels:
    def __init__(self, verified: set[str] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.throttle = 0
        self.stopped: set[str] = set()
        self.verified = verified  # the verified senders (None: every sender is)

    def sender_verified(self, sender: str) -> bool:
        return self.verified is None or sender in self.verified

    def send_email(self, sender, to, subject, html, text, headers, tags) -> str:
        if self.throttle:
            self.throttle -= 1
            raise Throttled("slow down")
        self.sent.append({"to": to, "subject": subject, "html": html, "headers": headers})
        return f"ses-{len(self.sent)}"

    def sms_opted_out(self, phone: str) -> bool:
        return phone in self.stopped

    def send_sms(self, phone, text, sender_id, tags) -> str:
        self.sent.append({"to": phone, "text": text})
        return f"sns-{len(self.sent)}"


class FakeTemplates:
    def latest(self, ws: str, template_id: str) -> Template:
        return Template(
            template_id,
            1,
            subject="For {{ first_name }}",
            html="<p>{{ coupon_code }}</p>",
            sms="Code {{ coupon_code }}",
        )


@pytest.fixture
def world():
    ledger, limits, channels = FakeLedger(), FakeLimits(), FakeChannels()
    return MessagingService(ledger, limits, channels, FakeTemplates()), ledger, limits, channels


def profile(**extra: Any) -> CustomerProfile:
    return profile_of(profile_item_of(**extra))


def profile_item_of(**extra: Any) -> dict[str, Any]:
    return {
        "ws": "ws_1",
        "cid": "c_1",
        "fn": "Ana",
        "e": "ana@example.com",
        "ph": "+14155550100",
        "tz": "America/New_York",
        "ce": {"s": "subscribed"},
        "cs": {"s": "subscribed"},
        **extra,
    }


def message(key: str = "flow:welcome:1", channel: Channel = Channel.EMAIL, **extra: Any) -> Outgoing:
    return Outgoing("ws_1", "c_1", key, channel, extra.pop("purpose", Purpose.MARKETING), "tpl_1", **extra)


def test_a_redelivered_message_is_sent_once(world):
    service, _, _, channels = world
    first = service.send(message(values={"coupon_code": "X1"}), profile(), Policy(), AFTERNOON)
    again = service.send(message(values={"coupon_code": "X1"}), profile(), Policy(), AFTERNOON)
    assert (first.status, again.status) == ("sent", "duplicate")
    assert len(channels.sent) == 1 and channels.sent[0]["subject"] == "For Ana"


def test_marketing_needs_consent_but_transactional_does_not(world):
    service, _, _, channels = world
    unconsented = profile(ce={"s": "unsubscribed"})
    assert service.send(message(), unconsented, Policy(), AFTERNOON).status == "dropped"
    receipt = message("txn:o1:shipped", purpose=Purpose.TRANSACTIONAL)
    assert service.send(receipt, unconsented, Policy(), AFTERNOON).status == "sent"
    assert len(channels.sent) == 1


def test_suppressed_addresses_get_nothing(world):
    service, _, limits, channels = world
    limits.suppress("ws_1", "email", "ana@example.com", "hard bounce")
    receipt = message("txn:o1:shipped", purpose=Purpose.TRANSACTIONAL)
    assert service.send(receipt, profile(), Policy(), AFTERNOON).reason.startswith("address suppressed")
    assert channels.sent == []


def test_quiet_hours_defer_marketing_to_the_local_morning(world):
    service, ledger, _, channels = world
    late_in_new_york = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 22:30 local
    decision = service.send(message(), profile(), Policy(), late_in_new_york)
    assert decision.status == "deferred" and decision.until == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert channels.sent == [] and ledger.entries == {}  # deferred, not claimed: it will be sent
    assert service.send(message(), profile(), Policy(), decision.until).status == "sent"


def test_quiet_hours_end_in_the_morning_of_the_same_night():
    zone = ZoneInfo(str(profile().timezone))
    just_after_midnight = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # 00:30 in New York
    assert quiet_until(just_after_midnight, zone, Policy()) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    seven_am = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York: still quiet
    assert quiet_until(seven_am, zone, Policy()) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert quiet_until(AFTERNOON, zone, Policy()) is None


def test_frequency_caps_follow_engagement_and_defer_or_drop(world):
    service, _, _, channels = world
    afternoon = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 13:00 local
    high = profile()
    results = [
        service.send(message(f"camp:{n}"), high, Policy(), afternoon, tier="high").status for n in range(3)
    ]
    assert results == ["sent", "sent", "deferred"]  # two a day for the highly engaged
    low = profile(cid="c_2")
    low_message = Outgoing(
        "ws_1", "c_2", "camp:a", Channel.EMAIL, Purpose.MARKETING, "tpl_1", over_cap="drop"
    )
    assert service.send(low_message, low, Policy(), afternoon, tier="low").status == "sent"
    second = Outgoing("ws_1", "c_2", "camp:b", Channel.EMAIL, Purpose.MARKETING, "tpl_1", over_cap="drop")
    assert service.send(second, low, Policy(), afternoon + timedelta(days=1), tier="low").status == "dropped"
    third = Outgoing("ws_1", "c_2", "camp:c", Channel.EMAIL, Purpose.MARKETING, "tpl_1")
    assert (
        service.send(third, low, Policy(), afternoon + timedelta(days=3), tier="low").status == "sent"
    )  # 3 days on
    assert len(channels.sent) == 4


def test_sms_spends_credits_by_parts_and_refuses_when_none_are_left(world):
    service, _, limits, channels = world
    afternoon = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    limits.credits["ws_1"] = 3
    long_code = "a" * 200  # 206 characters: two GSM-7 parts
    first = service.send(
        message("camp:1", Channel.SMS, values={"coupon_code": long_code}),
        profile(),
        Policy(),
        afternoon,
        tier="high",
    )
    second = service.send(
        message("camp:2", Channel.SMS, values={"coupon_code": long_code}),
        profile(),
        Policy(),
        afternoon,
        tier="high",
    )
    assert (first.status, first.parts, second.status) == ("sent", 2, "refused")
    assert "no SMS credits" in second.reason and limits.credits["ws_1"] == 1 and len(channels.sent) == 1


def test_a_throttled_send_is_released_and_sent_once_on_retry(world):
    service, _, _, channels = world
    channels.throttle = 1
    with pytest.raises(Throttled):
        service.send(message(), profile(), Policy(), datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    retry = service.send(message(), profile(), Policy(), datetime(2026, 11, 23, 18, 1, tzinfo=UTC))
    assert retry.status == "sent" and len(channels.sent) == 1


def test_unsubscribe_headers_for_one_click(world):
    service, _, _, channels = world
    url = "https://crm.example/u/tok"
    service.send(
        message(values={"unsubscribe_url": url}), profile(), Policy(), datetime(2026, 11, 23, 18, tzinfo=UTC)
    )
    assert channels.sent[0]["headers"] == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_a_claim_left_by_a_crash_is_retried_not_skipped(world):
    service, ledger, _, channels = world
    # Given an attempt that claimed the message and died before sending
    ledger.claim("ws_1", "c_1", "flow:welcome:1", AFTERNOON, timedelta(minutes=5))
    # When the message is retried within the lease, it is in flight: an error, so it is retried
    with pytest.raises(InFlight):
        service.send(message(), profile(), Policy(), AFTERNOON + timedelta(minutes=1))
    # When it is retried after the lease, it is sent, once
    assert service.send(message(), profile(), Policy(), AFTERNOON + timedelta(minutes=6)).status == "sent"
    assert (
        service.send(message(), profile(), Policy(), AFTERNOON + timedelta(minutes=7)).status == "duplicate"
    )
    assert len(channels.sent) == 1


def test_a_provider_error_frees_the_claim_for_the_retry(world):
    service, ledger, _, channels = world

    def broken(*args, **kwargs):
        raise RuntimeError("SES unavailable")

    real, channels.send_email = channels.send_email, broken
    with pytest.raises(RuntimeError):
        service.send(message(), profile(), Policy(), AFTERNOON)
    assert ledger.entries == {}
    channels.send_email = real
    assert service.send(message(), profile(), Policy(), AFTERNOON).status == "sent"


def test_a_send_the_ledger_could_not_record_is_never_freed_for_a_resend(world):
    service, ledger, _, channels = world

    def broken_finish(*args, **kwargs):
        raise RuntimeError("table unavailable")

    ledger.finish = broken_finish
    with pytest.raises(AlreadySent):
        service.send(message(), profile(), Policy(), AFTERNOON)
    # the claim is kept: a retry within the lease is in flight, not a second send
    assert ledger.entries[("ws_1", "c_1", "flow:welcome:1")]["status"] == "sending"
    with pytest.raises(InFlight):
        service.send(message(), profile(), Policy(), AFTERNOON + timedelta(minutes=1))
    assert len(channels.sent) == 1


def test_an_unsubscribed_customer_gets_no_marketing_but_still_gets_receipts(world):
    service, _, limits, channels = world
    limits.opt_out("ws_1", "email", "c_1", "link")
    assert service.send(message(), profile(), Policy(), AFTERNOON).reason.startswith("unsubscribed")
    receipt = message("txn:o1:shipped", purpose=Purpose.TRANSACTIONAL)
    assert service.send(receipt, profile(), Policy(), AFTERNOON).status == "sent"
    assert len(channels.sent) == 1


def test_a_number_that_replied_stop_gets_no_sms_of_any_kind(world):
    service, _, _, channels = world
    channels.stopped.add("+14155550100")
    receipt = message("txn:o1:shipped", Channel.SMS, purpose=Purpose.TRANSACTIONAL)
    assert service.send(receipt, profile(), Policy(), AFTERNOON).reason == "the number replied STOP"
    assert channels.sent == []


def test_a_refund_delivered_on_its_own_is_announced_and_breaks_nothing():
    from chalicelib.adapters.order_items import order_image
    from chalicelib.domain.messaging.notifications import kinds_to_send

    # Given an order seen before, and then a refunds/create entry (three fields) in its history
    stored = {"pk": "W#ws#O#src#1", "t": "order", "ws": "ws", "src": "src", "oid": "1"}
    old = order_image(stored | {"hist": [["paid", "2026-11-20T10:00:00Z"]]})
    new = order_image(
        stored | {"hist": [["paid", "2026-11-20T10:00:00Z"], ["refund", "2026-11-23T09:00:00Z", "5.00"]]}
    )
    # Then the change is a refund notice, and the older status is not announced again
    assert kinds_to_send(old, new, AFTERNOON) == [("refund_processed", "2026-11-23T09:00:00Z")]


def test_the_product_fields_are_names_of_their_own_and_other_dotted_names_are_refused():
    # Given a template naming the message's product
    text = "{{ product.title | default: 'it' }} ({{ product.url }}) {{ product.image }}"
    # When it is rendered with the catalogue's values, and with none
    named = render.render(text, {"product.title": "Mug", "product.url": "https://x/mug"})
    empty = render.render(text, {})
    # Then the fields fill in, or stay empty (defaults apply)
    assert (named, empty) == ("Mug (https://x/mug) ", "it () ")
    # And a product field that is not listed is refused by name
    with pytest.raises(BadRequest) as caught:
        render.parse("{{ product.cost_price }}")
    assert caught.value.details["token"] == "product.cost_price"
