"""Tiers on moto, through the webhook, the Admin API, the CLI and the daily job: the tier
rules set from a file, Jane's order upgrades her at once, her next order earns at the
tier's multiplier, a manual move is audited, the preview writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

from chalicelib.domain.loyalty.tiers import rules_from_json
from chalicelib.domain.workspace_settings import LoyaltyRules
from chalicelib.handlers import jobs
from patron.poller import LambdaContext
from tests.cli_runs import run
from tests.conftest import load_event

RULES = {
    "measure": "net_spend",
    "window": "lifetime",
    "grace_days": 30,
    "tiers": [
        {"name": "silver", "enter": 100, "keep": 80, "multiplier": 2},
        {
            "name": "gold",
            "enter": 500,
            "keep": 400,
            "multiplier": 3,
            "free_shipping": True,
            "discount_percent": 10,
        },
    ],
}


def _post(stage, ws, path, body):
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    return stage.http.http.post(path, headers=headers, body=json.dumps(body))


def _customer_id(stage, ws) -> str:
    found = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    return found[0]["customer_id"]


def test_tiers_from_the_cli_upgrade_at_once_and_move_by_hand_with_an_audit(stage, ws, cli_on, tmp_path):
    # Given loyalty on (1 point per dollar) and tier rules set from a file with the CLI
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    path = tmp_path / "tiers.json"
    path.write_text(json.dumps(RULES))
    done = run("workspace", "tiers", "-w", ws.workspace_id, "--set", str(path))
    assert done.exit_code == 0, done.stderr
    assert [t["name"] for t in json.loads(done.stdout)["tiers"]] == ["silver", "gold"]
    settings = stage.container.workspaces.settings(ws.workspace_id)
    assert settings.tiers.tiers[1].discount_percent == 10 and settings.loyalty.rate("gold") == 3
    # When Jane's paid order of 122.00 arrives (twice)
    order = load_event("shopify/orders_create.json")
    for n in range(2):
        assert stage.send(ws, "shopify", "orders/create", order, delivery_id=f"o-{n}").status_code == 200
    stage.drain()
    cid = _customer_id(stage, ws)
    # Then she is silver at once, with its benefits and what gold still needs
    seen = stage.get(ws, f"/customers/{cid}/tier")
    assert seen.status_code == 200, seen.body
    body = json.loads(seen.body)
    assert (body["tier"], body["benefits"]["points_multiplier"], body["progress"]["needed"]) == (
        "silver",
        "2",
        "378.00",
    )
    # When her second order arrives, it earns at silver's multiplier (2 points per dollar)
    second = dict(order, id=order["id"] + 1, name="#9999", order_number=9999)
    assert stage.send(ws, "shopify", "orders/create", second, delivery_id="o-2").status_code == 200
    stage.drain()
    points = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    assert sorted(e["rate"] for e in points["entries"]) == ["1", "2"]

    # When an operator moves her to gold through the API, and to an unknown tier
    moved = _post(stage, ws, f"/customers/{cid}/tier", {"tier": "gold", "reason": "launch guest"})
    unknown = _post(stage, ws, f"/customers/{cid}/tier", {"tier": "platinum", "reason": "x"})
    bad = _post(stage, ws, f"/customers/{cid}/tier", {"tier": "gold"})
    # Then she is gold, the move is audited with its actor and reason; the others are refused
    assert moved.status_code == 200, moved.body
    assert json.loads(moved.body)["benefits"]["free_shipping"] is True
    kinds = [(c.kind, c.after, c.reason) for c in stage.container.tier_store.changes(ws.workspace_id, cid)]
    assert kinds == [("upgrade", "silver", None), ("manual", "gold", "launch guest")]
    assert stage.container.tier_store.changes(ws.workspace_id, cid)[-1].actor.startswith("key:")
    assert unknown.status_code == 409 and json.loads(unknown.body)["details"] == {"reason": "unknown_tier"}
    assert bad.status_code == 400

    # When the CLI moves her back to silver, and the daily job runs
    back = run(
        "customers", "set-tier", "-w", ws.workspace_id, cid, "--tier", "silver", "--reason", "test over"
    )
    result = jobs.tiers_evaluate(load_event("eventbridge/scheduled_event.json"), LambdaContext("tiers"))
    # Then she is silver, audited as the CLI's, and the job skipped her without reading her
    # ledger (lifetime window, above silver's keep: nothing but an order or a refund moves her)
    assert back.exit_code == 0, back.stderr
    assert json.loads(run("customers", "tier", "-w", ws.workspace_id, cid).stdout)["tier"] == "silver"
    assert stage.container.tier_store.changes(ws.workspace_id, cid)[-1].actor == "cli"
    assert (result["evaluated"], result["skipped"], result["downgraded"]) == (0, 1, 0)


def test_the_preview_shows_who_would_move_and_changes_nothing(stage, ws, cli_on, tmp_path):
    # Given a silver customer (an order of 122.00 under the rules above)
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.workspaces.set_tiers(ws.workspace_id, rules_from_json(RULES))
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    cid = _customer_id(stage, ws)
    state = stage.container.tier_store.get(ws.workspace_id, cid)
    # When gold's threshold is previewed at 120 through the API and the CLI, and bad rules
    lower = dict(RULES, tiers=[RULES["tiers"][0], dict(RULES["tiers"][1], enter=120, keep=110)])
    answer = _post(stage, ws, "/tiers/preview", lower)
    path = tmp_path / "lower.json"
    path.write_text(json.dumps(lower))
    shown = run("workspace", "tiers", "-w", ws.workspace_id, "--preview", str(path))
    refused = _post(stage, ws, "/tiers/preview", {"tiers": [{"name": "a", "enter": 5, "keep": 9}]})
    # Then she would move up, in both, and nothing was written
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["up"] == {"count": 1, "sample": [cid]}
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(answer.body)
    assert refused.status_code == 400
    assert stage.container.tier_store.get(ws.workspace_id, cid) == state
    assert stage.container.workspaces.settings(ws.workspace_id).tiers.tiers[1].enter == Decimal(500)
    assert state is not None and state.tier == "silver"


def test_erasing_a_customer_deletes_their_tier_state_and_its_audit(stage, ws):
    # Given Jane, silver from her order, then moved to gold by hand with a reason naming her
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.container.workspaces.set_tiers(ws.workspace_id, rules_from_json(RULES))
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    cid = _customer_id(stage, ws)
    moved = _post(stage, ws, f"/customers/{cid}/tier", {"tier": "gold", "reason": "Jane's complaint call"})
    assert moved.status_code == 200, moved.body
    tiers = stage.container.tier_store
    assert len(tiers.changes(ws.workspace_id, cid)) == 2
    # When the customer is erased
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    assert stage.http.http.delete(f"/customers/{cid}", headers=headers).status_code == 202
    stage.drain()
    # Then her tier state and every audit entry (with the reason) are gone
    assert tiers.get(ws.workspace_id, cid) is None
    assert tiers.changes(ws.workspace_id, cid) == []
