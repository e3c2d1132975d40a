"""A campaign batch's loyalty template variables (`points`, `tier`, ...) are read for all its
recipients at once (domain/messaging/service.py `send_bulk`, domain/loyalty/summary.py
`template_values_of`): one batched read of the balances and one of the tier states per
batch, not one read per recipient; the same values as one customer's; nothing read when
the template uses none of them or the workspace has no loyalty."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry
from chalicelib.domain.loyalty.summary import LoyaltySummaries
from chalicelib.domain.loyalty.tiers import TierRules, TierState
from chalicelib.domain.messaging.model import Policy, Template
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_loyalty_books import FakeLoyaltyBooks
from tests.unit.fake_tiers import FakeTierStore
from tests.unit.points_orders import PAID_AT, WS, Settings
from tests.unit.test_bulk_send import FakeBulkChannels, audience, messages
from tests.unit.test_loyalty_summary import RULES, CountingLedger, Templates
from tests.unit.test_messaging import AFTERNOON, FakeLedger, FakeLimits

TODAY = date(2026, 12, 3)
LOYAL = Template("tpl_1", 1, subject="{{ points }} points, {{ tier | default: '-' }} ({{ tier_benefits }})")


class Rig:
    """60 recipients: every third holds points (c_0 300, c_3 303, ...), every sixth is silver."""

    def __init__(
        self, template: Template, tiers: TierRules = RULES, loyalty: LoyaltyRules | None = None
    ) -> None:
        self.settings = Settings(loyalty)
        self.settings.value = replace(self.settings.value, tiers=tiers)
        self.ledger, self.tiers = CountingLedger(), FakeTierStore()
        self.people = audience(60)
        for n, cid in enumerate(self.people):
            if n % 3 == 0:
                key = EntryKey("manual", "k", "adjustment")
                assert self.ledger.adjust(LedgerEntry(WS, cid, key, 300 + n, PAID_AT, reason="test"))
            if n % 6 == 0:
                assert self.tiers.save(TierState(WS, cid, "silver", PAID_AT, Decimal(150)), None)
        self.books = FakeLoyaltyBooks(self.ledger, self.tiers)
        self.summaries = LoyaltySummaries(
            self.ledger,
            self.tiers,
            self.settings,
            clock=lambda: datetime(2026, 12, 3, 12, tzinfo=UTC),
            books=self.books,
        )
        self.one_by_one: list[str] = []
        self.channels = FakeBulkChannels()
        self.service = MessagingService(
            FakeLedger(),
            FakeLimits(),
            self.channels,
            Templates(template),
            loyalty_values=self._one,
            loyalty_values_of=self.summaries.template_values_of,
        )

    def _one(self, workspace_id: str, customer_id: str) -> dict[str, Any]:
        self.one_by_one.append(customer_id)
        return self.summaries.template_values(workspace_id, customer_id)

    def send(self) -> dict[str, str]:
        decisions = self.service.send_bulk(messages(self.people), self.people, Policy(), AFTERNOON)
        assert {d.status for d in decisions} == {"sent"}
        return {email.tags["customer"]: email.subject for call in self.channels.calls for email in call}


def test_a_batch_reads_its_recipients_loyalty_in_one_read_of_balances_and_one_of_tiers():
    # Given 60 recipients (some with points, some silver) and a template using the loyalty variables
    rig = Rig(LOYAL)
    # When the batch is sent
    subjects = rig.send()
    # Then the balances and the tier states were read once each, for all 60; none one by one
    assert rig.books.batches == [60, 60]
    assert rig.one_by_one == []
    # And each recipient got the values a single read gives them
    assert subjects["c_0"] == "300 points, silver (1.5x points)"
    assert subjects["c_3"] == "303 points, - ()"
    assert subjects["c_1"] == "0 points, - ()"
    for cid, subject in subjects.items():
        single = rig.summaries.template_values(WS, cid)
        expected = f"{single['points']} points, {single.get('tier', '-')} ({single.get('tier_benefits', '')})"
        assert subject == expected


def test_without_tiers_only_the_balances_are_read():
    # Given a workspace with points but no tiers
    rig = Rig(LOYAL, tiers=TierRules())
    # When the batch is sent: Then one read of the 60 balances, and no tier shows
    subjects = rig.send()
    assert rig.books.batches == [60]
    assert subjects["c_0"] == "300 points, - ()"


def test_a_template_without_loyalty_variables_or_a_workspace_without_loyalty_reads_nothing():
    # Given a template using no loyalty variable, and a workspace with loyalty off and no tiers
    plain = Rig(Template("tpl_1", 1, subject="Hello {{ first_name }}"))
    off = Rig(
        Template("tpl_1", 1, subject="{{ points | default: 'no' }} points"), TierRules(), LoyaltyRules()
    )
    # When each batch is sent
    plain_subjects, off_subjects = plain.send(), off.send()
    # Then nothing loyalty was read, and the defaults show
    assert plain.books.batches == [] and off.books.batches == []
    assert plain_subjects["c_0"] == "Hello Ana0" and off_subjects["c_0"] == "no points"
    assert plain.one_by_one == [] and off.ledger.reads == 0
