"""The points liability on the stage (moto): GET /analytics/loyalty, the report's `loyalty`
section and `patron loyalty liability` agree with the customer's ledger; 409 while off."""

from __future__ import annotations

import json

from chalicelib.domain.workspace_settings import LoyaltyRules
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.conftest import event_bytes
from tests.integration.test_no_scans import recording


def customer_with_points(stage: Harness, ws: Workspace, loyalty: bool = True) -> str:
    # Jane's order arrives while loyalty is off; then loyalty is on and an operator adds 250 points
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = str(found["customer_id"])
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    headers = {
        "Authorization": f"Bearer {ws.api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": "k",
    }
    body = json.dumps({"points": 250, "reason": "welcome"})
    added = stage.http.http.post(f"/customers/{cid}/points/adjustments", headers=headers, body=body)
    assert added.status_code == 200, added.body
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=loyalty))
    return cid


def test_the_liability_is_the_ledger_in_money_by_api_report_and_cli(stage, ws, cli_on):
    # Given a customer with 250 available points (0.01 a point by default)
    cid = customer_with_points(stage, ws)
    ledger = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    # When the liability is asked through the API, the report and the CLI
    alone = stage.get(ws, "/analytics/loyalty")
    report = json.loads(stage.get(ws, "/analytics/report").body)
    printed = run("loyalty", "liability", "-w", ws.workspace_id, "--json")
    # Then all three say 250 points outstanding and available, worth 2.50, as the ledger
    assert alone.status_code == 200, alone.body
    shown = json.loads(alone.body)
    total = shown["liability"]["total"]
    assert total["points"]["outstanding"] == ledger["total"] == 250
    assert (total["points"]["available"], total["money"]["available"]) == (250, "2.50")
    groups = [g for side in shown["by_tier"].values() for g in side.values()]
    assert sum(g["customers"] for g in groups) == 1  # Jane, in one group
    assert report["loyalty"]["liability"] == shown["liability"]
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["liability"] == shown["liability"]


def test_the_liability_is_refused_while_loyalty_is_off(stage, ws):
    # Given a workspace whose points are off
    customer_with_points(stage, ws, loyalty=False)
    # When the liability is asked
    answer = stage.get(ws, "/analytics/loyalty")
    # Then 409 with the reason, and the report has no loyalty section
    assert answer.status_code == 409
    assert json.loads(answer.body)["details"] == {"reason": "loyalty_off"}
    assert "loyalty" not in json.loads(stage.get(ws, "/analytics/report").body)


def test_the_liability_reads_batches_of_its_own_workspace_and_never_scans(stage, ws):
    # Given a customer with points, and the stage's DynamoDB calls recorded
    customer_with_points(stage, ws)
    reads = recording(stage)
    # When the liability is asked
    answer = stage.get(ws, "/analytics/loyalty")
    # Then no Scan: a page of ids, its profiles, its balances and its tiers in one batch each
    assert answer.status_code == 200, answer.body
    assert reads.operations["Scan"] == 0
    assert reads.operations["BatchGetItem"] == 3
    # And every key read or returned is our workspace's (or the API key that names it)
    own = (f"W#{ws.workspace_id}#", f"WS#{ws.workspace_id}", "KEY#")
    assert reads.keys and all(key.startswith(own) for key in reads.keys), reads.keys
