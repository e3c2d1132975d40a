"""The bulk path of MessagingService: the same guardrails per recipient, one provider call per
50 claimed recipients, and nothing sent twice or lost when the call fails."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import ChannelConsent, CustomerProfile
from chalicelib.domain.messaging.campaign_model import stable_share
from chalicelib.domain.messaging.feedback import key_from_tag
from chalicelib.domain.messaging.model import BulkResult, Channel, Outgoing, Policy, Purpose, Throttled
from chalicelib.domain.messaging.service import MessagingService
from tests.conftest import load_event
from tests.unit.test_messaging import AFTERNOON, FakeChannels, FakeLedger, FakeLimits, FakeTemplates


class FakeBulkChannels(FakeChannels):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[Any]] = []
        self.statuses: dict[str, str] = {}  # address -> "retry" or "rejected" for the next call
        self.fail_with: Exception | None = None

    def send_bulk_email(self, sender, emails) -> list[BulkResult]:
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        self.calls.append(list(emails))
        results = []
        for e in emails:
            status = self.statuses.pop(e.to, "sent")
            results.append(BulkResult(status, f"ses-{e.to}" if status == "sent" else status))
        return results


@pytest.fixture
def bulk():
    ledger, limits, channels = FakeLedger(), FakeLimits(), FakeBulkChannels()
    return MessagingService(ledger, limits, channels, FakeTemplates()), ledger, limits, channels


def audience(n: int, **extra: Any) -> dict[str, CustomerProfile]:
    return {
        f"c_{i}": profile_of(
            {
                "ws": "ws_1",
                "cid": f"c_{i}",
                "fn": f"Ana{i}",
                "e": f"c{i}@example.com",
                "tz": "America/New_York",
                "ce": {"s": "subscribed"},
                **extra,
            }
        )
        for i in range(n)
    }


def messages(profiles: dict[str, Any], key: str = "camp:spring", variant: str = "a") -> list[Outgoing]:
    return [
        Outgoing("ws_1", cid, key, Channel.EMAIL, Purpose.MARKETING, "tpl_1", tags={"v": variant})
        for cid in profiles
    ]


def test_one_call_per_fifty_with_each_recipients_own_texts_and_tags(bulk):
    service, _, _, channels = bulk
    # Given 60 subscribed customers
    people = audience(60)
    # When one bulk send goes out
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then two provider calls carried 50 and 10, each with its own subject and tags
    assert [len(c) for c in channels.calls] == [50, 10]
    assert {d.status for d in decisions} == {"sent"}
    first = channels.calls[0][0]
    assert first.subject == "For Ana0" and first.to == "c0@example.com"
    assert first.tags["customer"] == "c_0" and first.tags["v"] == "a"
    assert key_from_tag(first.tags["mk"]) == "camp:spring"


def test_opt_outs_and_suppressions_are_read_once_per_batch_not_per_recipient(bulk, monkeypatch):
    service, _, limits, channels = bulk
    # Given 60 recipients, one of whom unsubscribed and one whose address bounced
    people = audience(60)
    limits.opt_out("ws_1", "email", "c_7", "link")
    limits.suppress("ws_1", "email", "c9@example.com", "hard bounce")

    def one_by_one(*args: Any) -> bool:
        raise AssertionError("a per-recipient read in the bulk path")

    monkeypatch.setattr(limits, "is_opted_out", one_by_one)
    monkeypatch.setattr(limits, "is_suppressed", one_by_one)
    # When the batch is sent
    decisions = {
        m.customer_id: d
        for m, d in zip(
            messages(people), service.send_bulk(messages(people), people, Policy(), AFTERNOON), strict=True
        )
    }
    # Then both lists were read in one batch, and those two were dropped for their reasons
    assert limits.batch_reads == 1
    assert decisions["c_7"].reason == "unsubscribed (link, one-click or STOP)"
    assert decisions["c_9"].reason == "address suppressed (bounce or complaint)"
    assert sum(len(c) for c in channels.calls) == 58


def test_a_redelivered_batch_sends_nothing_twice(bulk):
    service, _, _, channels = bulk
    people = audience(5)
    # When the same batch is handled twice
    service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    again = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then the second time is all duplicates and makes no provider call
    assert [d.status for d in again] == ["duplicate"] * 5
    assert len(channels.calls) == 1


def test_guardrails_apply_per_recipient_and_drops_are_recorded(bulk):
    service, ledger, limits, channels = bulk
    people = audience(5)
    people["c_1"].email_consent = ChannelConsent("unsubscribed", "")
    limits.suppress("ws_1", "email", "c2@example.com", "hard bounce")
    people["c_3"].timezone = "Asia/Tokyo"  # 03:00 there: quiet hours
    limits.counts[("ws_1", "c_4", "2026-11-23")] = 1  # already had today's message
    # When they are sent in bulk
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then only c_0 went out; the drops are in the ledger, the deferrals are not claimed
    assert [d.status for d in decisions] == ["sent", "dropped", "dropped", "deferred", "deferred"]
    assert [e.to for e in channels.calls[0]] == ["c0@example.com"]
    assert ledger.entries[("ws_1", "c_1", "camp:spring")]["status"] == "dropped"
    assert ("ws_1", "c_3", "camp:spring") not in ledger.entries
    assert ("ws_1", "c_4", "camp:spring") not in ledger.entries
    # And redelivered, the drops are duplicates (counted once), the deferrals defer again
    again = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    assert [d.status for d in again] == ["duplicate", "duplicate", "duplicate", "deferred", "deferred"]


def test_a_throttled_bulk_call_frees_every_claim_and_cap_then_sends_once_on_retry(bulk):
    service, ledger, limits, channels = bulk
    people = audience(3)
    channels.fail_with = Throttled("slow down")
    # When the bulk call is throttled
    with pytest.raises(Throttled):
        service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then no claim is held and every cap taken was given back
    assert ledger.entries == {}
    assert set(limits.counts.values()) == {0}
    # And the retry the queue makes sends each of them once
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    assert [d.status for d in decisions] == ["sent"] * 3 and len(channels.calls) == 1


def test_per_destination_failures_are_freed_or_refused(bulk):
    service, ledger, limits, channels = bulk
    people = audience(3)
    channels.statuses = {"c1@example.com": "retry", "c2@example.com": "rejected"}
    # When SES accepts one destination, refuses one for now and rejects one
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then the first is sent, the second freed (cap back) for a retry, the third refused
    assert [d.status for d in decisions] == ["sent", "retry", "refused"]
    assert ("ws_1", "c_1", "camp:spring") not in ledger.entries
    assert ledger.entries[("ws_1", "c_2", "camp:spring")]["status"] == "refused"
    assert limits.counts[("ws_1", "c_1", "2026-11-23")] == 0
    assert limits.counts[("ws_1", "c_2", "2026-11-23")] == 0
    # And the retried one goes out on the next attempt
    again = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    assert [d.status for d in again] == ["duplicate", "sent", "duplicate"]


def test_a_claim_held_by_another_attempt_is_busy_not_raised(bulk):
    from datetime import timedelta

    service, ledger, _, channels = bulk
    # Given c_1's claim held by an attempt that crashed a moment ago (its lease runs)
    people = audience(2)
    ledger.claim("ws_1", "c_1", "camp:spring", AFTERNOON, timedelta(minutes=5))
    # When the batch is sent
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then c_0 goes out and c_1 is answered busy, for the caller to retry later
    assert [d.status for d in decisions] == ["sent", "busy"]
    assert [e.to for e in channels.calls[0]] == ["c0@example.com"]


def test_sms_campaigns_go_one_by_one_through_the_sms_path(bulk):
    service, _, _, channels = bulk
    # Given two customers with SMS consent
    people = audience(2, ph="+14155550100", cs={"s": "subscribed"})
    sms = [
        Outgoing(
            "ws_1", cid, "camp:spring", Channel.SMS, Purpose.MARKETING, "tpl_1", values={"coupon_code": "K"}
        )
        for cid in people
    ]
    # When an SMS batch is sent
    decisions = service.send_bulk(sms, people, Policy(), AFTERNOON)
    # Then each went through the single SMS path, and no bulk email call was made
    assert [d.status for d in decisions] == ["sent", "sent"]
    assert channels.calls == [] and [s["text"] for s in channels.sent] == ["Code K", "Code K"]


def test_variants_split_by_a_stable_hash():
    # Given a campaign's batch (its campaign id)
    body = load_event("campaigns/batch.json")
    # Then each customer gets the same place on every run, and places spread over [0, 1)
    shares = [stable_share(body["camp"], f"c_{n}") for n in range(2000)]
    assert shares[:3] == [stable_share(body["camp"], f"c_{n}") for n in range(3)]
    assert 0.45 < sum(s < 0.5 for s in shares) / 2000 < 0.55
    assert all(0 <= s < 1 for s in shares)


class CountingTiers:
    """Engagement tiers: c_0 is low (one message in three days), the rest high."""

    def __init__(self) -> None:
        self.single_reads = 0
        self.batch_reads = 0

    def tier(self, workspace_id: str, customer_id: str, now: Any) -> str:
        self.single_reads += 1
        return "low" if customer_id == "c_0" else "high"

    def tiers(self, workspace_id: str, customer_ids: list[str], now: Any) -> dict[str, str]:
        self.batch_reads += 1
        return {cid: self.tier(workspace_id, cid, now) for cid in customer_ids}


def test_a_bulk_send_reads_every_recipients_tier_in_one_batch():
    ledger, limits, channels = FakeLedger(), FakeLimits(), FakeBulkChannels()
    tiers = CountingTiers()
    service = MessagingService(ledger, limits, channels, FakeTemplates(), engagement=tiers)
    people = audience(30)
    limits.last[("ws_1", "c_0")] = AFTERNOON  # c_0 (low) had a message today
    # When a batch of 30 goes out
    decisions = service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    # Then the tiers came from one batch read, and the low-engagement customer waits
    assert tiers.batch_reads == 1 and tiers.single_reads == 30
    assert decisions[0].status == "deferred" and decisions[0].reason == "frequency cap"
    assert {d.status for d in decisions[1:]} == {"sent"}


def test_each_bulk_recipient_gets_its_own_one_click_unsubscribe_headers():
    ledger, limits, channels = FakeLedger(), FakeLimits(), FakeBulkChannels()

    def link(ws: str, cid: str, channel: str, scope: str | None = None, variant: str | None = None) -> str:
        return f"https://crm.example/unsubscribe/{cid}-{scope}-{variant}"

    service = MessagingService(ledger, limits, channels, FakeTemplates(), link)
    people = audience(2)
    service.send_bulk(messages(people), people, Policy(), AFTERNOON)
    (call,) = channels.calls
    assert [e.headers for e in call] == [
        {
            "List-Unsubscribe": f"<https://crm.example/unsubscribe/c_{i}-camp#spring-a>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        for i in range(2)
    ]
