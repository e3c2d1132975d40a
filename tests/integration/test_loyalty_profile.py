"""Loyalty on the profile, on moto: Jane's order makes her silver with pending points;
`GET /customers/{id}` and `patron customers show` show her points (pending, then available
on the lot's day) and her tier with its benefits; a workspace without loyalty shows none."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.loyalty.tiers import rules_from_json
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.cli_runs import run
from tests.conftest import load_event

RULES = {
    "measure": "net_spend",
    "window": "lifetime",
    "tiers": [
        {"name": "silver", "enter": 100, "keep": 80, "multiplier": 2, "free_shipping": True},
        {"name": "gold", "enter": 500, "keep": 400, "multiplier": 3},
    ],
}


def _jane(stage, ws) -> str:
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return found[0]["customer_id"]


def _on(day: date):
    return lambda: datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def test_the_profile_shows_pending_then_available_points_and_the_tier(stage, ws, cli_on):
    # Given a workspace with loyalty and tiers, and Jane's paid order of 122.00 (silver)
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.workspaces.set_tiers(ws.workspace_id, rules_from_json(RULES))
    cid = _jane(stage, ws)
    (entry,) = json.loads(stage.get(ws, f"/customers/{cid}/points").body)["entries"]
    lot_day = date.fromisoformat(entry["available_on"])
    # When her profile is read the day before her points become available, and on that day
    stage.container.loyalty_summaries.clock = _on(lot_day - timedelta(days=1))
    before = stage.get(ws, f"/customers/{cid}")
    stage.container.loyalty_summaries.clock = _on(lot_day)
    after = json.loads(stage.get(ws, f"/customers/{cid}").body)["loyalty"]
    shown = run("customers", "show", cid, "-w", ws.workspace_id, "--json")
    # Then her points are pending with their day, then available; she is silver since her
    # order, with the tier's benefits; the CLI shows the same tier and points
    assert before.status_code == 200, before.body
    loyalty = json.loads(before.body)["loyalty"]
    assert loyalty["points"] == {
        "available": 0,
        "pending": entry["points"],
        "debt": 0,
        "next_available_on": lot_day.isoformat(),
        "expiring_within_30": 0,  # expiry off (the default): nothing expires
        "next_expiry_on": None,
    }
    assert after["points"]["available"] == entry["points"] and after["points"]["pending"] == 0
    assert loyalty["tier"]["name"] == "silver" and loyalty["tier"]["since"]
    assert loyalty["tier"]["benefits"] == {
        "points_multiplier": "2",
        "free_shipping": True,
        "discount_percent": "0",
    }
    # And the timeline merges her points entry and her tier change with her order's events
    timeline = json.loads(before.body)["timeline"]
    kinds = [e["type"] for e in timeline]
    assert "order_placed" in kinds
    (earned,) = [e for e in timeline if e["type"] == "points_earned"]
    assert (earned["points"], earned["order_id"]) == (entry["points"], entry["order_id"])
    (tiered,) = [e for e in timeline if e["type"] == "tier_changed"]
    assert (tiered["tier_from"], tiered["tier_to"], tiered["order_id"]) == (None, "silver", None)
    assert [e["at"] for e in timeline] == sorted((e["at"] for e in timeline), reverse=True)
    assert shown.exit_code == 0, shown.stderr
    cli = json.loads(shown.stdout)["loyalty"]
    assert cli["tier"] == loyalty["tier"]
    assert cli["points"]["available"] + cli["points"]["pending"] == entry["points"]


def test_a_workspace_without_loyalty_shows_no_loyalty_block(stage, ws):
    # Given a workspace that never switched loyalty on nor set tiers, and Jane's order
    cid = _jane(stage, ws)
    # When her profile is read
    answer = stage.get(ws, f"/customers/{cid}")
    # Then it has no loyalty block, and no loyalty events in the timeline
    assert answer.status_code == 200, answer.body
    body = json.loads(answer.body)
    assert body["loyalty"] is None
    assert body["timeline"] and all(e["type"].startswith(("order_", "refund")) for e in body["timeline"])
