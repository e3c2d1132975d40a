"""`patron import orders` on an in-process stage (moto): the real ingest table and stream."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runs import run

FILE = Path(__file__).resolve().parents[2] / "events" / "import" / "generic_orders.jsonl"
ADA = "ada.lovelace@example.com"


def test_an_export_file_imports_into_profiles_once(cli_on, ws):
    source = ws.sources["generic"]["source_id"]
    args = ("import", "orders", str(FILE), "-w", ws.workspace_id, "--source", source)
    # When the store's export is imported, and the stream handled
    first = run(*args, "--json")
    cli_on.drain()
    # Then the summary counts it, with the two bad rows and why
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["rows"], summary["orders"], summary["stored"], summary["cursor"]) == (10, 5, 8, 10)
    assert [r["row"] for r in summary["rejected"]] == [6, 8]
    # And Ada's profile holds her imported orders
    found = run("customers", "show", "-w", ws.workspace_id, "--email", ADA, "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    shown = json.loads(
        run("customers", "show", "-w", ws.workspace_id, profile["customer_id"], "--json").stdout
    )
    assert shown["orders_count"] == 2
    # And a second run writes nothing, in the plain summary too
    again = run(*args)
    assert again.exit_code == 0 and "0 written, 8 already there" in again.stdout
    assert "row 8: total:" in again.stdout and "cursor: 10" in again.stdout


def test_an_unknown_source_or_missing_file_is_one_line(cli_on, ws):
    # When the source or the file does not exist
    unknown = run("import", "orders", str(FILE), "-w", ws.workspace_id, "--source", "src_nope")
    missing = run("import", "orders", "/nonexistent.jsonl", "-w", ws.workspace_id, "--source", "src_x")
    # Then each is an error of one line
    assert unknown.exit_code == 1 and "source src_nope not found" in unknown.output
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_a_shopify_orders_export_imports_on_moto(cli_on, ws):
    # Given a Shopify source and its orders export
    source = ws.sources["shopify"]["source_id"]
    export = FILE.with_name("shopify_orders_export.csv")
    # When it is imported with --format shopify-csv, and the stream handled
    result = run("import", "orders", str(export), "-w", ws.workspace_id, "--source", source,
                 "--format", "shopify-csv", "--json")  # fmt: skip
    cli_on.drain()
    # Then four orders are written and the bad row is named; Lena's profile has her two orders
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["orders"], summary["stored"], summary["rejected"][0]["row"]) == (4, 4, 7)
    found = run("customers", "show", "-w", ws.workspace_id, "--email", "lena.hofer@example.org", "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    shown = run("customers", "show", "-w", ws.workspace_id, profile["customer_id"], "--json")
    assert json.loads(shown.stdout)["orders_count"] == 2


def test_the_import_builds_profiles_memberships_and_scores_itself_and_the_streams_add_nothing(cli_on, ws):
    source = ws.sources["generic"]["source_id"]
    # When the export is imported (the streams not handled yet)
    result = run("import", "orders", str(FILE), "-w", ws.workspace_id, "--source", source, "--json")
    assert result.exit_code == 0, result.output
    recomputed = json.loads(result.stdout)["recomputed"]
    # Then the three customers' profiles and memberships are there, and the scores computed once
    assert recomputed["customers"] == 3 and recomputed["memberships_written"] == 3
    assert recomputed["scores"]["done"] is True and recomputed["scores"]["profiles_read"] == 3
    assert recomputed["scores"]["profiles_reevaluated"] == 0  # scores first: each membership written once
    found = run("customers", "show", "-w", ws.workspace_id, "--email", ADA, "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    members = cli_on.container.membership_store
    before = members.get_record(ws.workspace_id, profile["customer_id"])
    assert before is not None and any(s.startswith("lifecycle:") for s in before.segments)
    settings = cli_on.container.workspaces.settings(ws.workspace_id)
    assert settings is not None and settings.rfm_edges is not None
    # When the streams are handled
    cli_on.drain()
    # Then the memberships are as the recompute left them (the streams skipped the import)
    assert members.get_record(ws.workspace_id, profile["customer_id"]) == before
