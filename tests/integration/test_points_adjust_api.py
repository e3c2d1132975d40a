"""Manual points adjustments through the Admin API and the CLI, on the stage (moto): the
entry with its reason, actor and time in GET /customers/{id}/points, replays, a reused key,
insufficient points, loyalty off, an unknown customer, a missing Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.domain.workspace_settings import LoyaltyRules
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.conftest import event_bytes


def adjust(stage: Harness, ws: Workspace, cid: str, body: dict[str, Any], key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return stage.http.http.post(
        f"/customers/{cid}/points/adjustments", headers=headers, body=json.dumps(body)
    )


def customer(stage: Harness, ws: Workspace, loyalty: bool = True) -> str:
    # Jane's order arrives while loyalty is off (it earns nothing), then loyalty is switched on
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=loyalty))
    return str(found["customer_id"])


def refusal(answer: Any) -> tuple[int, str, Any]:
    body = json.loads(answer.body)
    return answer.status_code, body["error"], (body.get("details") or {}).get("reason")


def test_an_operator_adjusts_points_once_per_key_with_an_audit_trail(stage, ws):
    # Given a customer with no points in a workspace with loyalty on
    cid = customer(stage, ws)
    # When an operator adds 50 points, and the request is replayed with the same key
    first = adjust(stage, ws, cid, {"points": 50, "reason": "late delivery"}, "k-1")
    again = adjust(stage, ws, cid, {"points": 50, "reason": "late delivery"}, "k-1")
    # Then one entry answers both, with the reason, the API key's hash prefix and the time
    assert first.status_code == 200, first.body
    assert json.loads(again.body) == json.loads(first.body)
    by = "key:" + hashlib.sha256(ws.api_key.encode()).hexdigest()[:12]
    shown = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    assert (shown["total"], shown["available"]) == (50, 50)
    (entry,) = shown["entries"]
    assert (entry["source"], entry["external_id"], entry["kind"]) == ("manual", "k-1", "adjustment")
    assert (entry["points"], entry["reason"], entry["by"]) == (50, "late delivery", by)
    assert entry["at"] == json.loads(first.body)["at"]
    # When the key is reused for another body, 51 points are deducted, or no key is given
    reused = adjust(stage, ws, cid, {"points": 60, "reason": "late delivery"}, "k-1")
    short = adjust(stage, ws, cid, {"points": -51, "reason": "correction"}, "k-2")
    keyless = adjust(stage, ws, cid, {"points": 5, "reason": "x"}, None)
    zero = adjust(stage, ws, cid, {"points": 0, "reason": "x"}, "k-3")
    # Then 409 (reused key, insufficient points), 400 (no key, zero points), and 50 points still
    assert refusal(reused) == (409, "points_refused", "idempotency_key_reused")
    assert refusal(short) == (409, "points_refused", "insufficient_points")
    assert keyless.status_code == 400 and json.loads(keyless.body)["details"] == [
        {"field": "Idempotency-Key", "error": "missing"}
    ]
    assert zero.status_code == 400
    # When all 50 are deducted
    spent = adjust(stage, ws, cid, {"points": -50, "reason": "correction"}, "k-4")
    # Then none are left
    assert spent.status_code == 200
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["total"] == 0


def test_loyalty_off_and_unknown_customers_are_refused(stage, ws):
    # Given a workspace whose loyalty is off
    cid = customer(stage, ws, loyalty=False)
    # When an operator adjusts a customer's points, and an unknown customer's
    off = adjust(stage, ws, cid, {"points": 5, "reason": "x"}, "k-1")
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    unknown = adjust(stage, ws, "c_nobody", {"points": 5, "reason": "x"}, "k-2")
    # Then 409 loyalty_off, and 404
    assert refusal(off) == (409, "points_refused", "loyalty_off")
    assert unknown.status_code == 404


def test_the_cli_adjusts_points_and_makes_a_key_when_none_is_given(stage, ws, cli_on):
    # Given a customer with no points in a workspace with loyalty on
    cid = customer(stage, ws)
    # When the CLI adds 20 points without a key, then deducts 25 with one
    added = run(
        "customers", "adjust-points", cid, "-w", ws.workspace_id, "--points", "20", "--reason", "gift"
    )
    refused = run(
        "customers",
        "adjust-points",
        cid,
        "-w",
        ws.workspace_id,
        "--points",
        "-25",
        "--reason",
        "x",
        "--key",
        "k",
    )
    # Then the entry is written by `cli` under the key it made and printed; the deduction is refused
    assert added.exit_code == 0, added.output
    shown = json.loads(added.output)
    assert shown["idempotency_key"] and shown["entry"]["external_id"] == shown["idempotency_key"]
    assert (shown["entry"]["points"], shown["entry"]["by"], shown["entry"]["reason"]) == (20, "cli", "gift")
    assert refused.exit_code == 2 and "insufficient_points" in refused.output
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["total"] == 20


def test_erasing_a_customer_folds_their_points_into_the_anonymous_tally(stage, ws):
    # Given an earning customer with an adjustment whose reason (free text) names the person
    cid = customer(stage, ws)
    assert (
        adjust(stage, ws, cid, {"points": 30, "reason": "Jane's birthday call"}, "k-erase").status_code == 200
    )
    ledger = stage.container.points_ledger
    assert [e.reason for e in ledger.entries(ws.workspace_id, cid, 50, None)[0]] == ["Jane's birthday call"]
    # When the customer is erased, and the erasure request is delivered again
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    assert stage.http.http.delete(f"/customers/{cid}", headers=headers).status_code == 202
    stage.drain()
    assert stage.http.http.delete(f"/customers/{cid}", headers=headers).status_code in (202, 404)
    stage.drain()
    # Then the profile and its ledger are gone (no entry, no reason, no balance), and the
    # workspace's anonymous tally holds its points once
    assert stage.get(ws, f"/customers/{cid}").status_code == 404
    assert ledger.entries(ws.workspace_id, cid, 50, None)[0] == []
    assert ledger.balance(ws.workspace_id, cid).total == 0
    tally = stage.container.points_tally.tally(ws.workspace_id)
    assert (tally.total, tally.by_kind, tally.entries, tally.customers) == (30, {"adjustment": 30}, 1, 1)
