"""Loyalty's flow triggers on the stage (moto), through the CRM stream: Jane's order,
delivered three times, makes her silver and earns points; the `tier.changed` flow starts
once, the `points.earned` flow once, and the message renders her tier and points."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.domain.loyalty.tiers import rules_from_json
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.integration.test_join_invites import ORDERED_AT, guest_order
from tests.integration.test_notifications import SENDER, sent_emails

RULES = {"window": "lifetime", "tiers": [{"name": "silver", "enter": 100, "keep": 80, "free_shipping": True}]}
TEMPLATE = {
    "name": "Tier up",
    "subject": "You are {{ tier }} now",
    "html": "<p>{{ tier_benefits }}; {{ points_pending }} points pending,"
    " {{ points | default: '0' }} to spend."
    ' <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    "text": "{{ tier_benefits }}; {{ points_pending }} pending. {{ unsubscribe_url }}",
}


def flow(event: str, template: str) -> dict:
    return {
        "id": event.replace(".", "-"),
        "name": event,
        "trigger": {"event": event},
        "steps": [{"send": {"template": template, "channel": "email"}}],
        "templates": {template: dict(TEMPLATE, name=event)},
    }


def test_a_tier_upgrade_starts_its_flow_once_and_the_message_renders_tier_and_points(stage, ws):
    # Given loyalty with a silver tier at 100, flows on tier.changed and points.earned, a
    # verified sender, and Jane's paid order of 122.00 (subscribed) delivered three times
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.workspaces.set_tiers(ws.workspace_id, rules_from_json(RULES))
    stage.container.flows.clock = lambda: ORDERED_AT
    stage.container.flows.apply(ws.workspace_id, flow("tier.changed", "flow_tier_up"))
    stage.container.flows.apply(ws.workspace_id, flow("points.earned", "flow_points"))
    for n in range(3):
        stage.send(ws, "shopify", "orders/create", guest_order("enabled"), delivery_id=f"o-{n}")
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = found["customer_id"]
    # When the flows' sends fall due (17:20 UTC), the points still pending
    stage.container.loyalty_summaries.clock = lambda: datetime(2026, 11, 21, 12, tzinfo=UTC)
    stage.container.flows.tick(datetime(2026, 11, 20, 17, 20, tzinfo=UTC))
    # Then one run of each flow, the tier change's carrying from and to
    runs = {r.flow_id: r for r in stage.container.flow_store.runs(ws.workspace_id, cid)}
    assert sorted(runs) == ["points-earned", "tier-changed"]
    assert runs["tier-changed"].key.startswith("tier#")
    assert runs["tier-changed"].context is not None
    assert runs["tier-changed"].context.extra["tier_to"] == "silver"
    (earning,) = json.loads(stage.get(ws, f"/customers/{cid}/points").body)["entries"]
    assert runs["points-earned"].key == f"order#{earning['external_id']}#earn"
    # And the message sent (one a day: the frequency cap defers the other) renders the
    # tier and the points
    (email,) = [e for e in sent_emails(stage) if str(e["To"]) == "jane.doe@example.com"]
    assert str(email["Subject"]) == "You are silver now"
    html = email.get_body(("html",)).get_content()
    assert "free shipping; 122 points pending, 0 to spend." in html
