"""An email campaign without a sender the provider sends from is refused when it is created
or started, with the commands that fix it (it would otherwise wait at `sending` for ever)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.campaign_model import CampaignIn
from chalicelib.domain.messaging.campaigns import CampaignService
from chalicelib.domain.messaging.model import SenderNotVerified, Template
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.messaging.stats import NoStats
from chalicelib.domain.profiles import WorkspaceSettings
from tests.unit.fake_campaigns import FakeCampaignStore
from tests.unit.fakes import WS, FakeWorkspaces
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SENDER = "news@brand.example"
BODY = CampaignIn(name="Spring", segment_id="account:guest", variants=[{"id": "a", "template_id": "spring"}])


class SenderWorkspaces(FakeWorkspaces):
    def __init__(self, sender: str) -> None:
        super().__init__()
        self.sender = sender

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        settings = super().settings(workspace_id)
        return None if settings is None else dataclasses.replace(settings, sender_email=self.sender)


class Templates(FakeTemplates):
    def get(self, workspace_id: str, template_id: str) -> Template | None:
        return self.latest(workspace_id, template_id)


def service(sender: str, verified: set[str]) -> tuple[CampaignService, FakeCampaignStore]:
    store = FakeCampaignStore()
    messaging = MessagingService(FakeLedger(), FakeLimits(), FakeChannels(verified), FakeTemplates())
    campaigns = CampaignService(
        store,
        None,
        None,
        None,
        messaging,
        None,
        NoStats(),
        SenderWorkspaces(sender),
        None,
        Templates(),
        lambda: 14.0,
        lambda: NOW,
    )
    campaigns.progress = lambda ws, cid: {"id": cid, "st": store.items[(ws, cid)].status}
    return campaigns, store


def test_an_email_campaign_without_a_sender_is_refused_with_the_fix():
    # Given a workspace that has set no sender
    campaigns, store = service("", verified={SENDER})
    # When a campaign is created
    with pytest.raises(SenderNotVerified) as refused:
        campaigns.create(WS, BODY)
    # Then it is refused as a conflict (409) that says how to set and verify one, and nothing is stored
    assert isinstance(refused.value, Conflict)
    assert f"workspace {WS} has no verified sender" in refused.value.message
    assert f"patron workspace messaging -w {WS} --sender EMAIL" in refused.value.message
    assert "patron sender verify EMAIL" in refused.value.message
    assert store.items == {}


def test_an_email_campaign_from_an_unverified_sender_is_refused_with_the_fix():
    # Given a workspace whose sender the provider has not verified
    campaigns, store = service(SENDER, verified=set())
    # When a campaign is created
    with pytest.raises(SenderNotVerified) as refused:
        campaigns.create(WS, BODY)
    # Then the refusal names the sender and the command that verifies it
    assert f"patron sender verify {SENDER}" in refused.value.message
    assert store.items == {}


def test_a_verified_sender_creates_the_campaign_and_starting_checks_again():
    # Given a workspace with a verified sender, and a draft campaign
    verified = {SENDER}
    campaigns, store = service(SENDER, verified=verified)
    created = campaigns.create(WS, BODY)
    assert created["st"] == "draft"
    # When the sender loses its verification before the campaign is started
    verified.clear()
    with pytest.raises(SenderNotVerified):
        campaigns.start(WS, created["id"])
    # Then the campaign stays a draft; verified again, it starts
    assert store.items[(WS, created["id"])].status == "draft"
    verified.add(SENDER)
    assert campaigns.start(WS, created["id"])["st"] == "sending"


def test_an_sms_campaign_needs_no_email_sender():
    # Given a workspace without an email sender
    campaigns, store = service("", verified=set())
    # When an SMS campaign is created
    created = campaigns.create(WS, BODY.model_copy(update={"channel": "sms"}))
    # Then it is a draft like any other
    assert created["st"] == "draft" and len(store.items) == 1
