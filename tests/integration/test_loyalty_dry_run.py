"""The points rules' dry-run on the stage (moto): proposed rules against the workspace's
recent orders beside the current rules, through the CLI; it writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.workspace_settings import LoyaltyRules
from patron.harness import Harness
from tests.cli_runs import run
from tests.conftest import event_bytes


def every_item(stage: Harness) -> list[dict]:
    ledger = stage.container.points_ledger.t
    pages = ledger.client.get_paginator("scan").paginate(TableName=ledger.table)  # the test's own check
    return sorted(
        (item for page in pages for item in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"])
    )


def test_a_dry_run_shows_the_proposed_rules_points_beside_the_current_and_writes_nothing(stage, ws, cli_on):
    # Given loyalty on at 1 point per unit, and Jane's paid order of 122.00 on 20 November
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    before = every_item(stage)
    # When the CLI dry-runs 2 points per unit and a first-order bonus of 10, looking back
    # 30 days from 1 December, then 5 days (the order is older)
    args = ["workspace", "loyalty-dry-run", "-w", ws.workspace_id, "--points-per-unit", "2"]
    done = run(*args, "--bonus", "first_order=10", "--at", "2026-12-01T00:00:00Z")
    short = run(*args, "--at", "2026-12-01T00:00:00Z", "--days", "5")
    bad = run(*args, "--at", "yesterday")
    # Then the current rules give 122 points, the proposed 244 + 10, for one customer
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["customers"] == 1
    assert shown["current"] == {"orders": 1, "order_points": 122, "bonus_points": 0, "points": 122}
    assert shown["proposed"] == {"orders": 1, "order_points": 244, "bonus_points": 10, "points": 254}
    assert shown["difference"] == 132
    assert json.loads(short.output)["proposed"]["orders"] == 0
    assert bad.exit_code == 2
    # And nothing was written: every item is as it was, the rules too
    assert every_item(stage) == before
    assert stage.container.workspaces.settings(ws.workspace_id).loyalty == LoyaltyRules(enabled=True)


def test_the_service_runs_with_an_injected_clock_and_caps_the_customers(stage, ws):
    # Given Jane's order in a workspace with loyalty off
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # When the service dry-runs loyalty on at 0.5 points per unit, for at most 1 customer
    proposed = LoyaltyRules(enabled=True, points_per_unit=Decimal("0.5"))
    got = stage.container.loyalty_dry_run.run(
        ws.workspace_id, proposed, datetime(2026, 12, 1, tzinfo=UTC), days=30, max_customers=1
    )
    # Then the current rules (off) give nothing, the proposed floor(122 x 0.5) = 61
    assert (got["current"]["points"], got["proposed"]["points"], got["difference"]) == (0, 61, 61)


def test_the_api_dry_run_answers_the_same_and_writes_nothing(stage, ws):
    # Given loyalty on at 1 point per unit, and Jane's paid order of 122.00 on 20 November
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    before = every_item(stage)
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}

    def post(body: dict) -> Any:
        return stage.http.http.post("/workspace/loyalty/dry-run", headers=headers, body=json.dumps(body))

    # When 2 points per unit and a first-order bonus of 10 are dry-run from 1 December,
    # and bodies with an unknown field, a zero rate, a bad bonus
    done = post({"points_per_unit": "2", "bonuses": {"first_order": 10}, "at": "2026-12-01T00:00:00Z"})
    bad = [post(b) for b in ({"rate": 2}, {"points_per_unit": "0"}, {"bonuses": {"Bad": 1}})]
    # Then the answer compares the current and proposed points, the bad bodies are 400
    assert done.status_code == 200, done.body
    shown = json.loads(done.body)
    assert (shown["current"]["points"], shown["proposed"]["points"], shown["difference"]) == (122, 254, 132)
    assert [b.status_code for b in bad] == [400, 400, 400]
    # And nothing was written (but the API's own per-minute request counter)
    assert [i for i in every_item(stage) if not i["pk"]["S"].endswith("#RATE")] == before
