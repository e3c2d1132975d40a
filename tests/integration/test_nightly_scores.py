"""Nightly scores: RFM edges and store rhythm per workspace, used by segments on read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.domain import profile_facts
from chalicelib.handlers import jobs
from patron import demo
from patron.poller import LambdaContext
from tests.conftest import load_event

NIGHTLY_MS = 900_000  # the nightly function's timeout (chalice.json): its time budget


def test_nightly_scores_feed_rfm_segments_and_write_only_on_change(stage):
    # Given a store of 30 simulated customers
    people, _, deliveries = demo.simulate(seed=8, customers=30, now=datetime.now(UTC))
    ws = stage.create_workspace("Scored Brand")
    stage.container.tenancy.set_rate(ws.workspace_id, "EUR", "1.08")
    stage.add_source(ws, "shopify", demo.SHOP, "shpss_scores_secret_001")
    stage.add_source(ws, "woocommerce", demo.SITE, "wc_scores_secret_000001")
    for platform, topic, body, delivery_id in deliveries:
        assert stage.send(ws, platform, topic, body, delivery_id=delivery_id).status_code == 200
    stage.drain()
    event = load_event("eventbridge/scheduled_event.json")
    # When the nightly job runs twice
    first = jobs.nightly_scores(event, LambdaContext("nightly", timeout_ms=NIGHTLY_MS))
    second = jobs.nightly_scores(event, LambdaContext("nightly", timeout_ms=NIGHTLY_MS))
    # Then the first stores the edges, the second finds nothing moved and writes nothing
    assert first["workspaces_updated"] == 1 and first["profiles_read"] == 30
    assert second["workspaces_updated"] == 0
    settings = stage.container.workspaces.settings(ws.workspace_id)
    assert settings.rfm_edges is not None and settings.rhythm_days is not None
    # And an RFM segment evaluates on read with those edges
    body = json.dumps({"name": "Champions", "definition": "rfm_group = 'champions' OR r_score >= 1"})
    created = stage.http.http.post(
        "/segments",
        body=body,
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    segment_id = json.loads(created.body)["segment_id"]
    (customer,) = json.loads(stage.get(ws, f"/customers?email={people[0].email}").body)["customers"]
    result = json.loads(stage.get(ws, f"/customers/{customer['customer_id']}/segments").body)
    (membership,) = result["segments"]
    assert membership["segment_id"] == segment_id and membership["member"] is True  # r_score exists
    profile = stage.container.profile_store.load(ws.workspace_id, customer["customer_id"])
    assert profile is not None
    rfm, stage_now = profile_facts.score_profile(
        profile, settings.rfm_edges, settings.rhythm_days, datetime.now(UTC)
    )
    assert rfm is not None and result["lifecycle"] == stage_now.stage
