"""Segments on loyalty fields, on moto: `points_balance >= 100` gains Jane on the day her
order's points become available (the recheck her pending lot registered) and loses her
when she redeems (the CRM stream's record of her balance); `tier` follows her tier state."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import time_machine

from chalicelib.domain import timemath
from chalicelib.domain.loyalty.tiers import rules_from_json
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.conftest import load_event
from tests.integration.test_membership import create_segment
from tests.integration.test_points_redeem_api import redeem

ORDERED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # the day after the order's payment


def test_a_points_segment_gains_on_the_lot_day_and_loses_on_redemption(stage, ws):
    # Given loyalty (1 point per dollar, 30 days pending, redemption as store credit from 10
    # points), a silver tier at 100, and segments on the balance and on the tier
    stage.container.workspaces.set_loyalty(
        ws.workspace_id, LoyaltyRules(enabled=True, redeem_as="store_credit", redeem_min_points=10)
    )
    stage.container.workspaces.set_tiers(
        ws.workspace_id, rules_from_json({"window": "lifetime", "tiers": [{"name": "silver", "enter": 100}]})
    )
    rich = create_segment(stage, ws, "Points 100", "points_balance >= 100")
    silver = create_segment(stage, ws, "Silver", "tier = 'silver'")
    # When Jane's paid order of 122.00 arrives (122 points, pending for 30 days)
    with time_machine.travel(ORDERED, tick=False):
        assert (
            stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
            == 200
        )
        stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = jane["customer_id"]
    (entry,) = json.loads(stage.get(ws, f"/customers/{cid}/points").body)["entries"]
    lot_day = date.fromisoformat(entry["available_on"])
    record = stage.container.membership.store.get_record(ws.workspace_id, cid)
    # Then she is silver but not yet in the points segment, rechecked by the lot's day
    assert silver in record.segments and rich not in record.segments
    assert timemath.parse_iso(record.next_check) <= datetime.combine(lot_day, datetime.min.time(), UTC)
    # When the recheck job runs the day before, then on the lot's day
    stage.container.membership.recheck(
        datetime.combine(lot_day, datetime.min.time(), UTC) - timedelta(hours=1)
    )
    before = stage.container.membership.store.get_record(ws.workspace_id, cid)
    on_day = datetime.combine(lot_day, datetime.min.time(), UTC) + timedelta(hours=1)
    result = stage.container.membership.recheck(on_day)
    after = stage.container.membership.store.get_record(ws.workspace_id, cid)
    # Then she joins the points segment on that day only
    assert rich not in before.segments
    assert result["changed"] == 1 and rich in after.segments
    # When she redeems 30 points (92 left), and the stream sees her balance change
    with time_machine.travel(on_day + timedelta(hours=1), tick=False):
        answer = redeem(stage, ws, cid, {"points": 30}, "k-1")
        assert answer.status_code == 200, answer.body
        stage.drain()
    # Then she left the points segment and is still silver
    final = stage.container.membership.store.get_record(ws.workspace_id, cid)
    assert rich not in final.segments and silver in final.segments
