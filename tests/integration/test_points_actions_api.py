"""Bonus points for custom actions through the Admin API and the CLI, on the stage (moto):
the workspace's bonuses round-trip through its item, an action's entry is written once per
id, refusals answer 409 with their reason (unknown action, loyalty off), 404, 400."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.workspace_settings import ActionCap, LoyaltyRules
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.conftest import event_bytes


def act(stage: Harness, ws: Workspace, cid: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    return stage.http.http.post(f"/customers/{cid}/points/actions", headers=headers, body=json.dumps(body))


def customer(stage: Harness, ws: Workspace, rules: LoyaltyRules) -> str:
    # Jane's order arrives while loyalty is off (it earns nothing), then the rules are set
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    stage.container.workspaces.set_loyalty(ws.workspace_id, rules)
    return str(found["customer_id"])


def refusal(answer: Any) -> tuple[int, str, Any]:
    body = json.loads(answer.body)
    return answer.status_code, body["error"], (body.get("details") or {}).get("reason")


def test_an_action_credits_its_bonus_once_and_the_rules_round_trip(stage, ws):
    # Given a workspace whose reviews earn 50 points
    rules = LoyaltyRules(
        enabled=True, bonuses={"review": 50, "referral": 200}, caps={"referral": ActionCap(1, "year")}
    )
    cid = customer(stage, ws, rules)
    # When review r-1 is posted three times, referral f-1 twice, and referral f-2 (over its cap)
    answers = [act(stage, ws, cid, {"action": "review", "id": "r-1"}) for _ in range(3)]
    referrals = [act(stage, ws, cid, {"action": "referral", "id": f}) for f in ("f-1", "f-1", "f-2")]
    # Then the rules read back as set, one entry per action and id, available at once;
    # the replayed referral answers its entry, the one over the cap is 409 cap_reached
    assert [r.status_code for r in referrals[:2]] == [200, 200]
    assert refusal(referrals[2]) == (409, "points_refused", "cap_reached")
    assert stage.container.workspaces.settings(ws.workspace_id).loyalty == rules
    assert answers[0].status_code == 200, answers[0].body
    assert all(json.loads(a.body) == json.loads(answers[0].body) for a in answers)
    shown = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    assert (shown["total"], shown["available"], shown["pending"]) == (250, 250, 0)
    keys = sorted((e["source"], e["external_id"], e["kind"], e["points"]) for e in shown["entries"])
    assert keys == [("referral", "f-1", "bonus", 200), ("review", "r-1", "bonus", 50)]


def test_unknown_actions_loyalty_off_unknown_customers_and_bad_bodies_are_refused(stage, ws):
    # Given a workspace with a review bonus but loyalty off
    cid = customer(stage, ws, LoyaltyRules(enabled=False, bonuses={"review": 50}))
    off = act(stage, ws, cid, {"action": "review", "id": "r-1"})
    # When loyalty is on: an action without a bonus, an unknown customer, bad bodies
    stage.container.workspaces.set_loyalty(
        ws.workspace_id, LoyaltyRules(enabled=True, bonuses={"review": 50})
    )
    unknown = act(stage, ws, cid, {"action": "quiz", "id": "q-1"})
    nobody = act(stage, ws, "c_nobody", {"action": "review", "id": "r-1"})
    bad = [act(stage, ws, cid, b) for b in ({"action": "review"}, {"action": "review", "id": "x", "n": 1})]
    # Then 409 with the reason, 404, 400, and no points
    assert refusal(off) == (409, "points_refused", "loyalty_off")
    assert refusal(unknown) == (409, "points_refused", "unknown_action")
    assert nobody.status_code == 404
    assert [b.status_code for b in bad] == [400, 400]
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["total"] == 0


def test_the_cli_sets_bonuses_and_awards_an_action(stage, ws, cli_on):
    # Given a customer in a workspace with loyalty on and no bonuses
    cid = customer(stage, ws, LoyaltyRules(enabled=True))
    # When the CLI sets a review bonus (and a bad one), then awards review r-9 twice
    set_ = run(
        "workspace",
        "loyalty-rules",
        "-w",
        ws.workspace_id,
        "--bonus",
        "review=40",
        "--cap",
        "review=5/month",
    )
    bad = run("workspace", "loyalty-rules", "-w", ws.workspace_id, "--bonus", "review=-4")
    awards = [
        run("customers", "award", cid, "-w", ws.workspace_id, "--action", "review", "--id", "r-9")
        for _ in range(2)
    ]
    refused = run("customers", "award", cid, "-w", ws.workspace_id, "--action", "quiz", "--id", "q")
    # Then the bonus is stored, the bad one refused, one entry of 40 points, the quiz refused
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.output) == {
        "earn_on": "total",
        "bonuses": {"review": 40},
        "caps": {"review": {"max": 5, "period": "month"}},
    }
    assert bad.exit_code == 2
    assert stage.container.workspaces.settings(ws.workspace_id).loyalty == replace(
        LoyaltyRules(enabled=True), bonuses={"review": 40}, caps={"review": ActionCap(5, "month")}
    )
    assert [a.exit_code for a in awards] == [0, 0], awards[0].output
    assert json.loads(awards[0].output)["points"] == 40
    assert refused.exit_code == 2 and "unknown_action" in refused.output
    assert json.loads(stage.get(ws, f"/customers/{cid}/points").body)["total"] == 40


def test_a_first_paid_order_through_the_webhook_credits_the_first_order_bonus_once(stage, ws):
    # Given a workspace with a first-order bonus of 30 points, 1 point per unit
    rules = LoyaltyRules(enabled=True, bonuses={"first_order": 30})
    stage.container.workspaces.set_loyalty(ws.workspace_id, rules)
    # When Jane's paid order of 122.00 is delivered three times
    for n in range(3):
        sent = stage.send(
            ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"), delivery_id=f"o-{n}"
        )
        assert sent.status_code == 200
    stage.drain()
    # Then her ledger holds the order's 122 points and the bonus once, available at once
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    shown = json.loads(stage.get(ws, f"/customers/{found['customer_id']}/points").body)
    kinds = sorted((e["source"], e["kind"], e["points"]) for e in shown["entries"])
    assert kinds == [("bonus", "bonus", 30), ("order", "earn", 122)]
    assert shown["total"] == 152


def test_an_enrolment_credits_the_enrolment_bonus_once_ever(stage, ws):
    # Given Jane, a storefront member numbered while loyalty was off (no bonus then), in a
    # workspace with an enrolment bonus of 100 points
    cid = customer(stage, ws, LoyaltyRules(enabled=True, bonuses={"enrolment": 100}))
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    # When she leaves, is enrolled, leaves and is enrolled again
    answers = [
        stage.http.http.delete(f"/customers/{cid}/membership", headers=headers),
        stage.http.http.post(f"/customers/{cid}/membership", headers=headers),
        stage.http.http.delete(f"/customers/{cid}/membership", headers=headers),
        stage.http.http.post(f"/customers/{cid}/membership", headers=headers),
    ]
    # Then the bonus ("bonus", "enrolment", "bonus") was credited once, available at once
    assert [a.status_code for a in answers] == [200, 200, 200, 200], answers[0].body
    shown = json.loads(stage.get(ws, f"/customers/{cid}/points").body)
    (entry,) = shown["entries"]
    assert (entry["source"], entry["external_id"], entry["kind"], entry["points"]) == (
        "bonus",
        "enrolment",
        "bonus",
        100,
    )
    assert (shown["total"], shown["available"]) == (100, 100)


def test_the_nightly_job_credits_the_birthday_bonus_once_on_the_day(stage, ws):
    # Given a customer born on 6 December in Sydney (UTC+11), and a birthday bonus of 40
    body = json.loads(event_bytes("generic/order.json"))
    body["customer"] |= {"email": "bday@example.com", "birthday": "12-06", "timezone": "Australia/Sydney"}
    assert stage.send(ws, "generic", "order", body).status_code == 200
    stage.drain()
    stage.container.workspaces.set_loyalty(
        ws.workspace_id, LoyaltyRules(enabled=True, bonuses={"birthday": 40})
    )
    (found,) = json.loads(stage.get(ws, "/customers?email=bday@example.com").body)["customers"]
    # When the nightly job runs at 15:00 UTC on 5 December (the 6th in Sydney), twice
    at = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    runs = [stage.container.scoring.nightly(at), stage.container.scoring.nightly(at)]
    # Then her ledger holds the bonus ("bonus", "birthday:2026", "bonus") once
    assert runs[0]["profiles_read"] >= 1
    shown = json.loads(stage.get(ws, f"/customers/{found['customer_id']}/points").body)
    keys = [(e["source"], e["external_id"], e["kind"], e["points"]) for e in shown["entries"]]
    assert keys == [("bonus", "birthday:2026", "bonus", 40)]
