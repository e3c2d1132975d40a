"""Points from orders that arrive by webhook, on moto: a workspace with loyalty on earns
once however often the order comes, a refund reverses its share, and GET
/customers/{id}/points shows the balance and the ledger; loyalty off earns nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.cli_runs import run
from tests.conftest import load_event


def _customer_id(stage, ws) -> str:
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return found[0]["customer_id"]


def test_an_order_earns_once_and_its_refund_reverses_its_share(stage, ws):
    # Given a workspace earning 2 points per dollar, 14 days' return window
    rules = LoyaltyRules(enabled=True, points_per_unit=Decimal(2), return_window_days=14)
    stage.container.workspaces.set_loyalty(ws.workspace_id, rules)
    # When Jane's paid order of 122.00 USD is delivered three times
    order = load_event("shopify/orders_create.json")
    for n in range(3):
        assert stage.send(ws, "shopify", "orders/create", order, delivery_id=f"o-{n}").status_code == 200
    stage.drain()
    # Then she has 244 points, in one entry dated by the payment, at the rate it was earned
    cid = _customer_id(stage, ws)
    answer = stage.get(ws, f"/customers/{cid}/points")
    assert answer.status_code == 200, answer.body
    body = json.loads(answer.body)
    assert (body["total"], body["available"] + body["pending"], body["debt"]) == (244, 244, 0)
    (entry,) = body["entries"]
    assert (entry["kind"], entry["points"], entry["rate"], entry["available_on"]) == (
        "earn",
        244,
        "2",
        "2026-12-05",
    )

    # When a refund of 42.93 arrives twice, after the rule changed to 10 points per dollar
    stage.container.workspaces.set_loyalty(
        ws.workspace_id, LoyaltyRules(enabled=True, points_per_unit=Decimal(10))
    )
    refund = load_event("shopify/refunds_create.json")
    for n in range(2):
        assert stage.send(ws, "shopify", "refunds/create", refund, delivery_id=f"r-{n}").status_code == 200
    stage.drain()
    # Then round(244 x 42.93 / 122) = 86 points are reversed once, at the stored rate
    body = json.loads(stage.get(ws, f"/customers/{cid}/points?limit=1").body)
    assert body["total"] == 158 and len(body["entries"]) == 1 and body["next_cursor"]
    rest = json.loads(
        stage.get(ws, f"/customers/{cid}/points?cursor={quote(body['next_cursor'], safe='')}").body
    )
    points = {e["kind"]: e["points"] for e in body["entries"] + rest["entries"]}
    assert points == {"earn": 244, "reverse": -86}


def test_loyalty_off_earns_nothing_and_unknown_customers_and_bad_limits_are_refused(stage, ws):
    # Given a workspace that never switched loyalty on, and Jane's order
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    cid = _customer_id(stage, ws)
    # When her points, an unknown customer's, and a page with a bad limit are asked for
    mine = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    unknown, bad = (
        stage.get(ws, "/customers/c_nobody/points"),
        stage.get(ws, f"/customers/{cid}/points?limit=x"),
    )
    # Then she has none, and the others are the one error shape (404, 400)
    assert (mine["total"], mine["entries"], mine["next_cursor"]) == (0, [], None)
    assert unknown.status_code == 404 and json.loads(unknown.body)["error"] == "not_found"
    assert bad.status_code == 400 and json.loads(bad.body)["details"] == [
        {"field": "limit", "error": "not a number"}
    ]


def test_the_cli_switches_loyalty_on_and_shows_a_customers_points(stage, ws, cli_on):
    # Given a workspace with loyalty off
    # When the operator switches it on at 3 points per dollar, and refuses a bad rate
    done = run("workspace", "loyalty", "-w", ws.workspace_id, "--on", "--points-per-unit", "3")
    bad = run("workspace", "loyalty", "-w", ws.workspace_id, "--points-per-unit", "-1")
    # Then the rules are shown, stored, and the bad rate changed nothing
    assert done.exit_code == 0, done.stderr
    shown = json.loads(done.stdout)  # (and the redemption rules' defaults)
    assert {k: shown[k] for k in ("enabled", "points_per_unit", "return_window_days")} == {
        "enabled": True,
        "points_per_unit": "3",
        "return_window_days": 30,
    }
    assert (shown["redeem_min_points"], shown["redeem_as"]) == (100, "code")
    assert shown["import_policy"] == "none"
    assert bad.exit_code == 2 and "points-per-unit" in bad.stderr
    assert stage.container.workspaces.settings(ws.workspace_id).loyalty.points_per_unit == 3
    # When Jane's order of 122.00 arrives, and her points are asked for on the command line
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    shown = run("customers", "points", "-w", ws.workspace_id, _customer_id(stage, ws), "--json")
    # Then they are what the API shows: 366 points, one entry
    assert shown.exit_code == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["total"] == 366 and [e["points"] for e in body["entries"]] == [366]
