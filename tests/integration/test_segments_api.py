"""Segments through the admin API: definitions, errors at the token, evaluation per customer."""

from __future__ import annotations

import json

from tests.conftest import event_bytes, fresh_events


def post(stage, ws, path, body):
    return stage.http.http.post(
        path,
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )


def test_segment_lifecycle_through_the_api(stage, ws):
    # Given a definition written loosely
    created = post(
        stage,
        ws,
        "/segments",
        {"name": "Big spenders", "definition": "total_spent > 100 and NOT is_member = false"},
    )
    # Then it is stored in canonical form, with what it reads
    assert created.status_code == 201, created.body
    segment = json.loads(created.body)
    assert segment["definition"] == "total_spent > 100 AND NOT is_member = false"
    assert segment["fields"] == ["is_member", "total_spent"] and segment["time_based"] is False
    listed = json.loads(stage.get(ws, "/segments").body)["segments"]
    assert [s["segment_id"] for s in listed] == [segment["segment_id"]]
    assert json.loads(stage.get(ws, f"/segments/{segment['segment_id']}").body)["name"] == "Big spenders"
    # And another workspace cannot see it
    other = stage.create_workspace("Other")
    assert stage.get(other, f"/segments/{segment['segment_id']}").status_code == 404
    # When it is deleted, it is gone
    deleted = stage.http.http.delete(
        f"/segments/{segment['segment_id']}", headers={"Authorization": f"Bearer {ws.api_key}"}
    )
    assert deleted.status_code == 204
    assert stage.get(ws, f"/segments/{segment['segment_id']}").status_code == 404


def test_a_bad_definition_is_a_400_that_points_at_the_token(stage, ws):
    response = post(
        stage, ws, "/segments", {"name": "Oops", "definition": "orders_count >= 3 AND rfm_group = 'champs'"}
    )
    assert response.status_code == 400
    body = json.loads(response.body)
    assert body["details"]["position"] == 34 and body["details"]["token"] == "'champs'"
    assert "champions" in body["details"]["expected"]
    missing = post(stage, ws, "/segments", {"name": "No definition"})
    assert missing.status_code == 400 and json.loads(missing.body)["details"][0]["field"] == "definition"
    assert json.loads(stage.get(ws, "/segments").body)["segments"] == []


def test_a_customers_segments_are_evaluated_on_read(frozen_now, stage, ws):
    # Given Jane's order of today (a member, 122.00, bought three products) and three segments
    (created,) = fresh_events(frozen_now, "shopify/orders_create.json")
    stage.send(ws, "shopify", "orders/create", created)
    stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    yes = json.loads(
        post(
            stage,
            ws,
            "/segments",
            {"name": "Members over 100", "definition": "is_member = true AND total_spent > 100"},
        ).body
    )
    no = json.loads(post(stage, ws, "/segments", {"name": "Repeat", "definition": "orders_count >= 2"}).body)
    recent = json.loads(
        post(
            stage, ws, "/segments", {"name": "Ordered this year", "definition": "last_order_days <= 365"}
        ).body
    )
    # When her segments are read
    response = stage.get(ws, f"/customers/{jane['customer_id']}/segments")
    result = json.loads(response.body)
    # Then each is evaluated now, with when a time-based one can next change
    members = {m["segment_id"]: m for m in result["segments"]}
    assert members[yes["segment_id"]]["member"] is True
    assert members[no["segment_id"]]["member"] is False
    assert members[recent["segment_id"]]["next_check"] is not None
    assert members[yes["segment_id"]]["next_check"] is None
    assert result["lifecycle"] in ("new", "at_risk", "lapsed", "churned")


def test_analytics_report_over_the_api(stage, ws):
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"))
    stage.drain()
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-11-01&to=2026-12-01").body)
    assert (report["kpis"]["orders"], report["kpis"]["revenue"], report["kpis"]["refunds"]) == (
        1,
        "122.00",
        "42.93",
    )
    assert report["members_vs_guests"]["members"]["buyers"] == 1
    assert stage.get(ws, "/analytics/report?from=soon").status_code == 400
