"""Loyalty everywhere else: the profile's `loyalty` block (points available, pending, debt,
the tier with its benefits) and the `points`, `points_pending`, `tier`, `tier_benefits`
template variables in what flows and campaigns send; nothing read without loyalty."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import PointsBalance
from chalicelib.domain.loyalty.summary import LoyaltySummaries, benefits_text
from chalicelib.domain.loyalty.tier_service import TierService
from chalicelib.domain.loyalty.tiers import Tier, TierRules
from chalicelib.domain.messaging.model import Policy, Template
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, order
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, message, profile

RULES = TierRules(
    tiers=(
        Tier("silver", Decimal(100), Decimal(80), Decimal("1.5")),
        Tier("gold", Decimal(500), Decimal(400), Decimal(2), True, Decimal(10)),
    ),
)
PENDING_DAY = date(2026, 11, 20)  # inside the 30-day return window of PAID_AT
AVAILABLE_DAY = date(2026, 12, 3)  # after it (the lot's day is 2026-12-03)


class CountingLedger(FakePointsLedger):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def balance(self, workspace_id: str, customer_id: str) -> PointsBalance:
        self.reads += 1
        return super().balance(workspace_id, customer_id)


class Rig:
    def __init__(self, tiers: TierRules = RULES, loyalty: LoyaltyRules | None = None) -> None:
        self.settings = Settings(loyalty)
        self.settings.value = replace(self.settings.value, tiers=tiers)
        self.ledger, self.store = CountingLedger(), FakeTierStore()
        self.day = PENDING_DAY
        self.summaries = LoyaltySummaries(
            self.ledger, self.store, self.settings, clock=lambda: datetime.combine(self.day, PAID_AT.timetz())
        )

    def order_paid(self, total: str) -> None:
        change = order(total)
        PointsService(self.ledger, self.settings, tiers=self.store).on_order(change, PAID_AT, CID)
        TierService(self.store, self.ledger, self.settings).on_order(change, PAID_AT, CID)


class Templates:
    def __init__(self, template: Template) -> None:
        self.template = template

    def latest(self, ws: str, template_id: str) -> Template:
        return self.template


def sender(rig: Rig, template: Template) -> tuple[MessagingService, FakeChannels]:
    channels = FakeChannels()
    service = MessagingService(
        FakeLedger(),
        FakeLimits(),
        channels,
        Templates(template),
        loyalty_values=rig.summaries.template_values,
    )
    return service, channels


def test_the_profile_shows_pending_then_available_points_and_the_tier_with_its_benefits():
    # Given a paid order of 250 (250 points, pending for the 30-day return window) that
    # lifted the customer into silver
    rig = Rig()
    rig.order_paid("250.00")
    # When the summary is read inside the window, and again on the lot's day
    pending = rig.summaries.summary(WS, CID, PENDING_DAY)
    available = rig.summaries.summary(WS, CID, AVAILABLE_DAY)
    # Then the points are pending with the day they become available, then available;
    # the tier is silver since the order, with its benefits
    assert pending is not None and available is not None
    assert (pending.points.available, pending.points.pending, pending.points.debt) == (0, 250, 0)
    assert pending.points.next_available_on == "2026-12-03"
    assert (available.points.available, available.points.pending) == (250, 0)
    assert available.points.next_available_on is None
    assert pending.tier is not None and pending.tier.name == "silver"
    assert pending.tier.since == "2026-11-02T10:00:00Z"
    assert pending.tier.benefits == {
        "points_multiplier": "1.5",
        "free_shipping": False,
        "discount_percent": "0",
    }


def test_a_message_renders_points_pending_points_tier_and_its_benefits():
    # Given a silver customer whose 250 points became available and a template that uses
    # the loyalty variables
    rig = Rig()
    rig.order_paid("250.00")
    rig.day = AVAILABLE_DAY
    template = Template(
        "tpl_1",
        1,
        subject="{{ points }} points for you",
        html="<p>{{ tier | default: 'no tier' }}: {{ tier_benefits }}; {{ points_pending }} pending</p>",
    )
    service, channels = sender(rig, template)
    # When a flow sends it
    decision = service.send(message(), profile(), Policy(), datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    # Then the points and the tier are filled in
    assert decision.status == "sent"
    assert channels.sent[0]["subject"] == "250 points for you"
    assert "<p>silver: 1.5x points; 0 pending</p>" in channels.sent[0]["html"]


def test_gold_benefits_read_as_a_few_words():
    # Given the gold tier (2x points, free shipping, 10% off) and no tier
    # When their benefits are written for a message
    # Then they read as a short list, and nothing for no tier
    assert benefits_text(RULES.tier("gold")) == "2x points, free shipping, 10% off"
    assert benefits_text(None) == ""


def test_without_loyalty_nothing_is_read_and_the_templates_defaults_show():
    # Given a workspace with loyalty off and no tiers
    rig = Rig(tiers=TierRules(), loyalty=LoyaltyRules())
    template = Template("tpl_1", 1, subject="{{ points | default: 'no' }} points, {{ tier | default: '-' }}")
    service, channels = sender(rig, template)
    # When the profile is read and a message using the variables is sent
    shown = rig.summaries.summary(WS, CID)
    service.send(message(), profile(), Policy(), datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    # Then there is no loyalty block, no balance was read, and the defaults show
    assert shown is None
    assert rig.ledger.reads == 0
    assert channels.sent[0]["subject"] == "no points, -"


def test_a_template_without_loyalty_variables_reads_no_balance():
    # Given a workspace with loyalty on, and a template that uses none of its variables
    rig = Rig()
    service, channels = sender(rig, Template("tpl_1", 1, subject="Hello {{ first_name }}"))
    # When a message is sent
    service.send(message(), profile(), Policy(), datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    # Then it went out without reading the points balance
    assert channels.sent[0]["subject"] == "Hello Ana"
    assert rig.ledger.reads == 0
