"""A flow's coupon redeemed by an order that arrives by webhook, on moto: the coupon shows
redeemed with the order's revenue in GET /coupons and `patron coupons list`, the flow's
statistics and `flow list` count it once however often the order comes; its cancellation
gives the coupon back."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from tests.cli_runs import run
from tests.conftest import load_event
from tests.integration.test_flow_store_coupons import abandon, code_of, flows_ws
from tests.integration.test_flows import CHECKOUT_AT
from tests.integration.test_notifications import sent_emails

__all__ = ["flows_ws"]  # the fixture this module's tests take


def test_an_order_with_the_flows_code_redeems_it_once(stage, flows_ws, cli_on):
    ws = flows_ws
    # Given Jane's recovery email with a code, from a source without Admin API credentials
    abandon(stage, ws)
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))
    (email,) = sent_emails(stage)
    code = code_of(email)
    # When her order (122.00 USD) arrives with that code, delivered three times, then a later state
    order = load_event("shopify/orders_create.json")
    order["discount_codes"] = [{"code": code, "amount": "12.20", "type": "percentage"}]
    for n in range(3):
        assert stage.send(ws, "shopify", "orders/create", order, delivery_id=f"o-{n}").status_code == 200
    stage.drain()
    paid = order | {"updated_at": "2026-11-20T16:30:00+01:00"}
    assert stage.send(ws, "shopify", "orders/updated", paid, delivery_id="o-3").status_code == 200
    stage.drain()

    # Then GET /coupons shows it redeemed by that order, with its revenue
    listed = stage.get(ws, "/coupons?status=redeemed")
    assert listed.status_code == 200, listed.body
    (coupon,) = json.loads(listed.body)["coupons"]
    assert coupon["code"] == code and coupon["status"] == "redeemed" and coupon["revenue"] == "122.00"
    assert coupon["flow"] == "abandoned-checkout" and coupon["registered"] is False
    assert coupon["order_key"].endswith(str(order["id"])) and coupon["redeemed_at"]
    # and so does the CLI
    done = run("coupons", "list", "-w", ws.workspace_id, "--status", "redeemed", "--json")
    assert done.exit_code == 0, done.stderr
    assert [(c["code"], c["revenue"]) for c in json.loads(done.stdout)["coupons"]] == [(code, "122.00")]
    # and the flow's statistics and `flow list` count it once, marking the unregistered code
    stats = stage.container.messaging_stats.report(ws.workspace_id, "flow#abandoned-checkout").scopes[0]
    assert (stats.codes_issued, stats.codes_unregistered, stats.codes_redeemed) == (1, 1, 1)
    assert stats.redemption_rate == 1.0 and Decimal(stats.coupon_revenue) == Decimal("122.00")
    assert stats.codes_note == "codes not registered in the store"
    listed_flows = run("flow", "list", "-w", ws.workspace_id, "--json")
    flows = {f["flow_id"]: f for f in json.loads(listed_flows.stdout)["flows"]}
    assert flows["abandoned-checkout"]["codes_redeemed"] == 1
    assert flows["abandoned-checkout"]["coupon_revenue"] == "122.00"
    assert flows["abandoned-checkout"]["codes_note"] == "codes not registered in the store"
    table = run("stats", "-w", ws.workspace_id, "--flow", "abandoned-checkout")
    assert table.exit_code == 0 and "coupons" in table.stdout and "100.0" in table.stdout  # redeem%

    # When the order is then cancelled and refunded
    cancelled = load_event("shopify/orders_cancelled.json") | {"discount_codes": order["discount_codes"]}
    assert stage.send(ws, "shopify", "orders/cancelled", cancelled, delivery_id="o-4").status_code == 200
    stage.drain()
    # Then the coupon is no longer redeemed, and the flow's counts are taken back
    assert json.loads(stage.get(ws, "/coupons?status=redeemed").body)["coupons"] == []
    (coupon,) = json.loads(stage.get(ws, "/coupons?flow=abandoned-checkout").body)["coupons"]
    assert coupon["code"] == code and coupon["order_key"] is None and coupon["revenue"] is None
    stats = stage.container.messaging_stats.report(ws.workspace_id, "flow#abandoned-checkout").scopes[0]
    assert (stats.codes_issued, stats.codes_redeemed, stats.coupon_revenue) == (1, 0, "0.00")


def test_an_unknown_status_is_the_one_error_shape(stage, ws):
    # Given a workspace
    # When coupons are asked for with a status that does not exist
    answer = stage.get(ws, "/coupons?status=used")
    # Then the answer is a 400 naming the field
    assert answer.status_code == 400
    assert json.loads(answer.body)["details"] == [{"field": "status", "error": "invalid"}]
