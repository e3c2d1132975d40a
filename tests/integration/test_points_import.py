"""A history import's points on the stage (moto), by the workspace's import policy:
"historical" writes one dated, available entry per customer at the import's end, once
across re-runs, moved when a later import brings more; an imported order's later webhook
earns nothing more; a new live order earns as usual; "none" writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.cli_runs import run

ADA = {"id": "c-1", "email": "ada.lovelace@example.com", "first_name": "Ada"}
BOB = {"email": "bob@example.net"}


def _order(oid: str, total: str, status: str, day: str, who: dict[str, Any], refunds=()) -> dict[str, Any]:
    return {
        "type": "order",
        "id": oid,
        "number": oid,
        "currency": "USD",
        "total": total,
        "status": status,
        "created_at": f"{day}T10:00:00+00:00",
        "updated_at": f"{day}T10:05:00+00:00",
        "customer": who,
        "line_items": [],
        "refunds": [
            {"id": f"rf-{oid}", "amount": amount, "created_at": f"{day}T12:00:00+00:00"} for amount in refunds
        ],
    }


HISTORY = [
    _order("o-1", "30.00", "paid", "2024-03-02", ADA),
    _order("o-2", "56.00", "partially_refunded", "2024-11-28", ADA, refunds=["20.00"]),
    _order("o-3", "19.00", "cancelled", "2025-01-05", ADA),
    _order("o-4", "10.50", "paid", "2025-02-01", BOB),
]


def _import(stage, ws, tmp_path: Path, orders: list[dict[str, Any]], name: str) -> dict[str, Any]:
    path = tmp_path / name
    path.write_text("".join(json.dumps(o) + "\n" for o in orders))
    source = ws.sources["generic"]["source_id"]
    result = run("import", "orders", str(path), "-w", ws.workspace_id, "--source", source, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["recomputed"]


def _points(stage, ws, email: str) -> dict[str, Any]:
    (found,) = json.loads(stage.get(ws, f"/customers?email={email}").body)["customers"]
    return json.loads(stage.get(ws, f"/customers/{found['customer_id']}/points").body)


def _historical(policy: str) -> LoyaltyRules:
    return LoyaltyRules(enabled=True, points_per_unit=Decimal(2), import_policy=policy)


def test_historical_orders_earn_one_dated_available_entry_per_customer_once(cli_on, ws, tmp_path):
    # Given loyalty on at 2 points per dollar, with the "historical" import policy
    cli_on.container.workspaces.set_loyalty(ws.workspace_id, _historical("historical"))
    # When a store's history is imported (Ada: 30 paid, 56 with 20 refunded, 19 cancelled)
    first = _import(cli_on, ws, tmp_path, HISTORY, "history.jsonl")
    cli_on.drain()
    # Then Ada has one entry of floor((30 + 36) x 2) = 132 points, dated at her latest paid
    # order, all available; Bob 21 (10.50 x 2)
    assert first["points"] == {"policy": "historical", "entries_written": 2}
    ada = _points(cli_on, ws, ADA["email"])
    assert (ada["total"], ada["available"], ada["pending"]) == (132, 132, 0)
    (entry,) = ada["entries"]
    assert (entry["source"], entry["external_id"], entry["kind"]) == ("import", "historical", "earn")
    assert entry["at"].startswith("2024-11-28") and entry["available_on"] is None
    assert _points(cli_on, ws, BOB["email"])["total"] == 21
    # When the same file is imported again
    again = _import(cli_on, ws, tmp_path, HISTORY, "history.jsonl")
    # Then nothing is written: still one entry of 132
    assert again["points"]["entries_written"] == 0
    assert [e["points"] for e in _points(cli_on, ws, ADA["email"])["entries"]] == [132]
    # When a later import brings one more of Ada's orders (10.00, in 2025)
    later = _import(cli_on, ws, tmp_path, [_order("o-5", "10.00", "paid", "2025-03-10", ADA)], "more.jsonl")
    cli_on.drain()
    # Then her one entry moves to the new sum (76 x 2 = 152) and date; the balance follows
    assert later["points"]["entries_written"] == 1
    ada = _points(cli_on, ws, ADA["email"])
    (entry,) = ada["entries"]
    assert (entry["points"], ada["total"]) == (152, 152) and entry["at"].startswith("2025-03-10")


def test_an_imported_orders_webhook_earns_nothing_more_and_new_orders_earn_live(cli_on, ws, tmp_path):
    # Given Ada's imported history under the "historical" policy (132 points)
    cli_on.container.workspaces.set_loyalty(ws.workspace_id, _historical("historical"))
    _import(cli_on, ws, tmp_path, HISTORY, "history.jsonl")
    # When a webhook of an imported order arrives (o-1, fulfilled later: now a live state)
    fulfilled = _order("o-1", "30.00", "fulfilled", "2024-03-05", ADA)
    assert cli_on.send(ws, "generic", "order", fulfilled).status_code == 200
    cli_on.drain()
    # Then it earns nothing: its points are in the historical entry
    ada = _points(cli_on, ws, ADA["email"])
    assert [(e["source"], e["points"]) for e in ada["entries"]] == [("import", 132)]
    # When a new order arrives live (12.00)
    assert (
        cli_on.send(ws, "generic", "order", _order("o-9", "12.00", "paid", "2026-11-20", ADA)).status_code
        == 200
    )
    cli_on.drain()
    # Then it earns as usual: 24 points, pending until the return window ends
    ada = _points(cli_on, ws, ADA["email"])
    live = [e for e in ada["entries"] if e["source"] == "order"]
    assert [(e["points"], e["available_on"] is not None) for e in live] == [(24, True)]
    assert ada["total"] == 156


def test_the_none_policy_imports_no_points_and_their_webhooks_earn_none(cli_on, ws, tmp_path):
    # Given loyalty on with the default policy ("none")
    cli_on.container.workspaces.set_loyalty(ws.workspace_id, _historical("none"))
    # When the history is imported, and a webhook of an imported order follows
    result = _import(cli_on, ws, tmp_path, HISTORY, "history.jsonl")
    cli_on.send(ws, "generic", "order", _order("o-1", "30.00", "fulfilled", "2024-03-05", ADA))
    cli_on.drain()
    # Then no points at all
    assert result["points"] == {"policy": "none", "entries_written": 0}
    assert _points(cli_on, ws, ADA["email"])["entries"] == []


def test_the_cli_sets_the_import_policy(cli_on, ws):
    # Given a workspace with the default rules
    # When the import policy is set to "historical", and to something unknown
    done = run("workspace", "loyalty", "-w", ws.workspace_id, "--on", "--import-policy", "historical")
    bad = run("workspace", "loyalty", "-w", ws.workspace_id, "--import-policy", "some")
    # Then it is shown and stored; the unknown one is refused and changes nothing
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["import_policy"] == "historical"
    assert bad.exit_code == 2
    assert cli_on.container.workspaces.settings(ws.workspace_id).loyalty.import_policy == "historical"
