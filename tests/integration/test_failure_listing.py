"""Nothing hidden: every failed stream record is listed with why it failed, and the
quarantine is paged, counted and filtered (`patron dlq list`, `patron quarantine list`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalicelib.adapters import quarantine_store
from chalicelib.adapters.quarantine import QuarantineFilter
from patron.failures import dlq_page, quarantine_page
from tests.integration.conftest import put_order_of_unknown_workspace

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_every_failed_stream_record_is_listed_with_its_reason_page_by_page(stage, ws, caplog):
    # Given twelve orders of workspaces that do not exist, each failing every retry in its own
    # batch (more failure messages than one receive returns)
    keys = []
    for n in range(12):
        keys.append(put_order_of_unknown_workspace(stage, f"ws_gone{n:02d}"))
        stage.drain()
    sqs, streams = stage.client("sqs"), stage.client("dynamodbstreams")
    queue = stage.info.stream_failure_queue_url
    # When the failures are listed five at a time
    pages = [dlq_page(stage.container, sqs, streams, queue, page, limit=5) for page in (1, 2, 3)]
    # Then the total counts all twelve, the pages hold 5, 5 and 2, and together every record
    assert [(p["total"], p["pages"], len(p["records"])) for p in pages] == [
        (12, 3, 5),
        (12, 3, 5),
        (12, 3, 2),
    ]
    records = [r for p in pages for r in p["records"]]
    assert sorted(r["item_key"] for r in records) == sorted(keys)
    # and each says why it failed (the consumer recorded it on each of its 1 + 5 attempts)
    assert {r["reason"] for r in records} == {
        f"LookupError: workspace ws_gone{n:02d} not found" for n in range(12)
    }
    assert {r["attempts"] for r in records} == {1 + 5}
    assert {r["table"] for r in records} == {stage.info.ingest_table}
    # And listing consumed nothing: the queue still holds every batch, visible
    assert dlq_page(stage.container, sqs, streams, queue, 1, limit=50)["batches"] == 12
    text = json.dumps(records)
    assert "@" not in text
    # And the consumer logged each reason, naming the item by workspace and kind only
    logged = [r for r in caplog.records if r.getMessage() == "stream record failed" and hasattr(r, "reason")]
    assert {(r.item, r.reason) for r in logged} == {
        (f"W#ws_gone{n:02d}#O", f"LookupError: workspace ws_gone{n:02d} not found") for n in range(12)
    }


def quarantine_at(monkeypatch, stage, ws, at: datetime, source: str, field: str) -> str:
    monkeypatch.setattr(quarantine_store, "now_utc", lambda: at)
    errors = [{"field": field, "error": "Input should be a valid integer", "type": "int_parsing"}]
    return str(stage.container.quarantine.put(ws.workspace_id, source, "shopify", {}, b"{}", errors))


def test_the_quarantine_is_paged_counted_and_filtered(stage, ws, monkeypatch):
    # Given 60 entries over three days from two sources, and 3 of another workspace
    shopify, woo = ws.sources["shopify"]["source_id"], ws.sources["woocommerce"]["source_id"]
    kept = {}
    for n in range(60):
        at = START + timedelta(hours=n * 1.2)
        source, field = (shopify, "line_items.0.quantity") if n % 3 else (woo, "total")
        kept[quarantine_at(monkeypatch, stage, ws, at, source, field)] = (at, source, field)
    other = stage.create_workspace("Other Brand")
    for n in range(3):
        quarantine_at(monkeypatch, stage, other, START + timedelta(minutes=n), "src_other", "id")
    everything = QuarantineFilter()
    # When the workspace's quarantine is read 25 at a time, following the cursor
    seen, cursor, totals = [], None, set()
    for _ in range(5):
        page = quarantine_page(stage.container, [ws.workspace_id], everything, limit=25, cursor=cursor)
        seen.append(page["shown"])
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then the pages hold 25, 25 and 10 of a total of 60, and the last page says so
    assert seen == [25, 25, 10] and totals == {60}
    # When filtered by source, by reason and by date
    by_source = quarantine_page(stage.container, [ws.workspace_id], QuarantineFilter(source_id=woo), 100)
    by_reason = quarantine_page(stage.container, [ws.workspace_id], QuarantineFilter(reason="quantity"), 7)
    day = QuarantineFilter(since=START + timedelta(days=1), until=START + timedelta(days=2))
    by_day = quarantine_page(stage.container, [ws.workspace_id], day, 100)
    # Then each counts and shows exactly what matches, newest first
    assert by_source["total"] == 20 and {e["source_id"] for e in by_source["quarantine"]} == {woo}
    assert (by_reason["total"], by_reason["shown"]) == (40, 7) and by_reason["next_cursor"]
    assert all(e["errors"][0]["field"] == "line_items.0.quantity" for e in by_reason["quarantine"])
    in_day = sorted((q for q, (at, _, _) in kept.items() if day.since <= at < day.until), reverse=True)
    assert by_day["total"] == len(in_day) == 20
    assert [e["quarantine_id"] for e in by_day["quarantine"]] == in_day
    # And across workspaces the cursor carries from one workspace to the next
    both = [ws.workspace_id, other.workspace_id]
    first = quarantine_page(stage.container, both, everything, limit=50)
    rest = quarantine_page(stage.container, both, everything, limit=50, cursor=first["next_cursor"])
    assert (first["total"], first["shown"], rest["shown"], rest["next_cursor"]) == (63, 50, 13, None)
    ids = [e["quarantine_id"] for e in first["quarantine"] + rest["quarantine"]]
    assert len(set(ids)) == 63
