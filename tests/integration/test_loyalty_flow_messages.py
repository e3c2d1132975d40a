"""Loyalty's `points.redeemed` flow on the stage (moto), through the API and the CRM
stream: Jane redeems 250 points for a code made in her Shopify store, the request and the
stream record replayed; the flow starts once and its one email carries the code and value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import chalicelib.domain.models
from chalicelib.domain.loyalty.model import EntryKey
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.integration.test_join_invites import guest_order
from tests.integration.test_notifications import SENDER, sent_emails
from tests.integration.test_points_adjust_api import adjust
from tests.integration.test_points_redeem_api import redeem, shop  # noqa: F401 (the fixture)

REDEEMED_AT = datetime(2026, 11, 21, 16, tzinfo=UTC)
FLOW = {
    "id": "points-redeemed",
    "name": "Points redeemed",
    "trigger": {"event": "points.redeemed"},
    "steps": [{"send": {"template": "flow_redeemed", "channel": "email"}}],
    "templates": {
        "flow_redeemed": {
            "name": "Points redeemed",
            "subject": "Your code {{ coupon_code }}",
            "html": "<p>{{ points_redeemed }} points: {{ coupon_code }} for {{ redeemed_value }} off."
            ' <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
            "text": "{{ coupon_code }} for {{ redeemed_value }}. {{ unsubscribe_url }}",
        }
    },
}


def test_a_redemption_through_the_api_sends_its_code_once(stage, ws, shop, monkeypatch):  # noqa: F811
    # Given a verified sender, a points.redeemed flow, and Jane (subscribed, an order from
    # the connected Shopify source) with 500 points, at 1 cent a point
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: REDEEMED_AT
    monkeypatch.setattr(chalicelib.domain.models, "now_utc", lambda: REDEEMED_AT)
    stage.send(ws, "shopify", "orders/create", guest_order("enabled"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = found["customer_id"]
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.flows.apply(ws.workspace_id, FLOW)
    assert adjust(stage, ws, cid, {"points": 500, "reason": "welcome"}, "k-0").status_code == 200
    # When she redeems 250 points through the API, the request replayed, the CRM stream
    # drained, and its ledger record delivered again
    answers = [redeem(stage, ws, cid, {"points": 250}, "r-1") for _ in range(3)]
    stage.drain()
    entry = json.loads(answers[0].body)
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].body
    stored = stage.container.points_ledger.entry(
        ws.workspace_id, cid, EntryKey(entry["source"], entry["external_id"], entry["kind"])
    )
    assert stored is not None
    assert stage.container.loyalty_triggers.on_entry(stored) == []
    # And the flow's send falls due
    stage.container.flows.tick(REDEEMED_AT + timedelta(minutes=5))
    # Then one run, keyed by the redemption's entry
    runs = stage.container.flow_store.runs(ws.workspace_id, cid)
    assert [(r.flow_id, r.key) for r in runs] == [("points-redeemed", "redeem#r-1#redeem")]
    # And one email, carrying the code made in the store and its value
    (email,) = [e for e in sent_emails(stage) if str(e["To"]) == "jane.doe@example.com"]
    (made,) = shop.discounts
    assert entry["code"] == made["code"] and str(email["Subject"]) == f"Your code {made['code']}"
    html = email.get_body(("html",)).get_content()
    assert f"250 points: {made['code']} for 2.50 USD off." in html
