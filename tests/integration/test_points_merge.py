"""Merged profiles' points on moto, through the webhooks: a POS order known by phone and a
web order known by email earn on two profiles; a customer record linking them merges the
profiles, and the CRM stream moves the merged-away balance to the survivor, once (the
survivor's points and timeline list both ledgers' entries); a refund of an order earned
before the merge then reverses once, on the survivor."""

from __future__ import annotations

import json
from decimal import Decimal

from chalicelib.domain.loyalty.model import MERGE, TRANSFER_IN, EntryKey
from tests.conftest import event_bytes, load_event


def _points(stage, ws, cid: str) -> dict:
    answer = stage.get(ws, f"/customers/{cid}/points")
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def test_two_profiles_merged_by_a_webhook_have_one_balance_and_a_later_refund_reverses_once(stage, ws):
    # Given loyalty on (1 point per dollar), a POS order of 64.00 known only by phone and a
    # web order of 122.00 known only by email: two profiles, each with its points
    from chalicelib.domain.workspace_settings import LoyaltyRules

    rules = LoyaltyRules(enabled=True, points_per_unit=Decimal(1), return_window_days=14)
    stage.container.workspaces.set_loyalty(ws.workspace_id, rules)
    stage.send(ws, "generic", "order", event_bytes("generic/order.json"))
    web = load_event("shopify/orders_create.json")
    web["customer"]["phone"] = None
    web["customer"]["id"] = 999
    for address in ("billing_address", "shipping_address"):
        web[address]["phone"] = None
    stage.send(ws, "shopify", "orders/create", web)
    stage.drain()
    ledger = stage.container.points_ledger
    web_earning = ledger.earning_of(ws.workspace_id, f"{ws.sources['shopify']['source_id']}.{web['id']}")
    pos_earning = ledger.earning_of(
        ws.workspace_id, f"{ws.sources['generic']['source_id']}.POS-20261121-0042"
    )
    assert web_earning.customer_id != pos_earning.customer_id
    assert (web_earning.points, pos_earning.points) == (122, 64)

    # When a customer record carries both the email and the phone (delivered twice)
    for n in range(2):
        stage.send(ws, "generic", "customer", event_bytes("generic/customer.json"), delivery_id=f"c-{n}")
        stage.drain()
    # Then one balance of 186 on the survivor, read under either id; the merged-away one is closed
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    survivor = found[0]["customer_id"]
    (gone,) = found[0]["merged_from"]
    body = _points(stage, ws, survivor)
    assert (body["total"], body["available"] + body["pending"], body["debt"]) == (186, 186, 0)
    assert _points(stage, ws, gone)["total"] == 186
    transfers = [e for e in body["entries"] if e["source"] == MERGE and e["customer_id"] == survivor]
    assert [(e["kind"], e["external_id"]) for e in transfers] == [(TRANSFER_IN, gone)]
    # And the survivor's points list the merged-away ledger's entries too, each with its id,
    # adding up to the balance; so does the profile's timeline
    listed = sorted((e["customer_id"] == gone, e["kind"]) for e in body["entries"])
    assert listed == [(False, "earn"), (False, TRANSFER_IN), (True, "earn"), (True, "transfer_out")]
    assert sum(e["points"] for e in body["entries"]) == 186
    profile = json.loads(stage.get(ws, f"/customers/{survivor}").body)
    earned = [e for e in profile["timeline"] if e["type"] == "points_earned"]
    assert sorted(e["customer_id"] for e in earned) == sorted([survivor, gone])
    closed = ledger.balance(ws.workspace_id, gone)
    assert (closed.total, closed.moved_to) == (0, survivor)
    assert ledger.entry(ws.workspace_id, survivor, EntryKey(MERGE, gone, TRANSFER_IN)).points in (64, 122)

    # When each order's refund arrives twice: 42.93 of the web order, 24.00 of the POS order
    for n in range(2):
        stage.send(
            ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"), delivery_id=f"r-{n}"
        )
        stage.send(ws, "generic", "refund", event_bytes("generic/refund.json"), delivery_id=f"g-{n}")
        stage.drain()
    # Then 43 and 24 points are reversed once each, on the survivor's balance, whichever
    # ledger holds the earning (the merged-away one keeps its earning, moved, and nothing else)
    body = _points(stage, ws, survivor)
    assert body["total"] == 186 - 43 - 24
    assert sorted(e["points"] for e in body["entries"] if e["kind"] == "reverse") == [-43, -24]
    kinds, _ = ledger.entries(ws.workspace_id, gone, 50, None)
    assert sorted(e.key.kind for e in kinds) == ["earn", "transfer_out"]
    moved = ledger.earning_of(
        ws.workspace_id, (web_earning if web_earning.customer_id == gone else pos_earning).order_id
    )
    assert moved.customer_id == gone and moved.reversed in (43, 24)
    assert ledger.balance(ws.workspace_id, gone).total == 0
