"""The analytics the console reads, through the API (docs/analytics.md#trends): the report's
trends, RFM grid and lifecycle funnel, the ops health."""

from __future__ import annotations

import json
from datetime import UTC

from chalicelib.domain.scoring import RfmEdges
from chalicelib.handlers import jobs
from patron.poller import LambdaContext
from tests.conftest import event_bytes, load_event


def test_the_report_carries_trends_the_rfm_grid_and_the_lifecycle_funnel(stage, ws):
    # Given a workspace with one order in November 2026, refunded in part
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"))
    stage.drain()
    # When the report of November is read (30 days: weeks)
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-11-01&to=2026-12-01").body)
    # Then its trends are weekly and hold the order, as the KPIs do
    trends = report["trends"]
    assert trends["grain"] == "week"
    assert trends["buckets"][0]["start"] == "2026-11-01T00:00:00Z"
    assert trends["buckets"][-1]["end"] == "2026-12-01T00:00:00Z"
    assert sum(b["orders"] for b in trends["buckets"]) == report["kpis"]["orders"] == 1
    (week,) = [b for b in trends["buckets"] if b["orders"]]
    assert (week["revenue"], week["net_revenue"], week["new_buyers"]) == ("122.00", "79.07", 1)
    # And the funnel counts the buyer, each step with the definition that opens it
    steps = {s["step"]: s for s in report["lifecycle_funnel"]["steps"]}
    assert (steps["customers"]["customers"], steps["buyers"]["customers"]) == (1, 1)
    assert steps["repeat_buyers"]["customers"] == 0 and steps["buyers"]["conversion"] == 1.0
    assert sum(s["customers"] for s in report["lifecycle_funnel"]["stages"]) == 1
    # And the grid waits for the nightly job's edges
    assert report["rfm_grid"]["scored"] is False and report["rfm_grid"]["cells"] == []
    # When the nightly job has stored the workspace's RFM edges
    edges = RfmEdges((10.0, 30.0, 60.0, 120.0), (1.0, 1.0, 2.0, 4.0), (20.0, 50.0, 100.0, 200.0))
    stage.container.workspaces.save_scores(ws.workspace_id, edges, 30.0)
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-11-01&to=2026-12-01").body)
    # Then the buyer is in one cell of frequency 1 with her net spend, as the KPIs have it
    grid = report["rfm_grid"]
    (cell,) = [c for c in grid["cells"] if c["customers"]]
    assert grid["scored"] is True and len(grid["cells"]) == 25 and grid["customers"] == 1
    assert (cell["f_score"], cell["revenue"]) == (1, report["kpis"]["net_revenue"])
    assert cell["definition"] == f"r_score = {cell['r_score']} AND f_score = 1"


def test_ops_health_shows_what_the_operator_commands_show(stage, ws):
    # Given an order in a currency without a rate, a delivery kept in quarantine and a
    # campaign batch on the dead-letter queue
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["currency"] = body["presentment_currency"] = "CHF"
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    broken = json.loads(event_bytes("shopify/orders_create.json"))
    broken["line_items"][0]["quantity"] = "many"
    assert stage.send(ws, "shopify", "orders/create", json.dumps(broken).encode()).status_code == 400
    stage.drain()
    sqs = stage.client("sqs")
    sqs.send_message(QueueUrl=stage.info.campaign_dlq_url, MessageBody="{}")
    # When the console reads the ops health
    response = stage.get(ws, "/ops/health")
    # Then it has the open quarantine entry, each dead-letter queue's depth, and the currency
    assert response.status_code == 200, response.body
    health = json.loads(response.body)
    assert health["quarantine_open"] == 1
    assert {q["queue"]: q["messages"] for q in health["dead_letters"]} == {
        "stream_failures": 0,
        "campaign_batches": 1,
    }
    (chf,) = health["unconverted_currencies"]
    assert (chf["currency"], chf["orders"]) == ("CHF", 1)
    assert chf["command"] == f"patron workspace set-rate -w {ws.workspace_id} CHF RATE"
    # And the figures are the ones the CLI's own reads give
    assert stage.container.quarantine.count_open(ws.workspace_id) == 1
    assert stage.container.analytics.unconverted(ws.workspace_id)["CHF"].orders == 1
    # And another key's caller is refused before anything is read
    assert stage.http.http.get("/ops/health", headers={"Authorization": "Bearer pk_nope"}).status_code == 401


def test_the_hourly_job_keeps_a_daily_size_per_segment_that_the_api_reads(frozen_now, stage, ws):
    # Given a segment, and a customer who enters it with her first order
    created = stage.http.http.post(
        "/segments",
        body=json.dumps({"name": "Buyers", "definition": "orders_count >= 1"}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    segment_id = json.loads(created.body)["segment_id"]
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    assert json.loads(stage.get(ws, f"/segments/{segment_id}").body)["size"] == 1
    # When the hourly segment_recheck job runs, twice
    event = load_event("eventbridge/scheduled_event.json")
    first = jobs.segment_recheck(event, LambdaContext("segment_recheck"))
    second = jobs.segment_recheck(event, LambdaContext("segment_recheck"))
    # Then the day's points were written by the first run only
    assert first["size_points"] >= 20 and second["size_points"] == 0
    # And the API gives today's point for the segment and for the built-ins
    today = frozen_now.astimezone(UTC).date().isoformat()
    shown = json.loads(stage.get(ws, f"/segments/{segment_id}/sizes?from={today}&to={today}").body)
    assert shown == {"segment_id": segment_id, "points": [{"day": today, "size": 1}]}
    guests = json.loads(stage.get(ws, f"/segments/account:guest/sizes?to={today}").body)
    members = json.loads(stage.get(ws, f"/segments/account:member/sizes?to={today}").body)
    assert [p["size"] for p in guests["points"] + members["points"]] in ([1, 0], [0, 1])
    # And an unknown segment is a 404, a bad range a 400
    assert stage.get(ws, "/segments/seg_nope/sizes").status_code == 404
    assert stage.get(ws, f"/segments/{segment_id}/sizes?from=2026-03-02&to=2026-03-01").status_code == 400
