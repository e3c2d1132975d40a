"""`GET /campaigns`: the campaigns page by page, with their state and statistics."""

from __future__ import annotations

import json
from decimal import Decimal

from chalicelib.domain.messaging.campaign_model import campaign_scope
from patron.bench.campaign import prepare
from tests.conftest import load_event


def _create(stage, ws, name):
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    body = {**load_event("campaigns/create_one_variant.json"), "name": name}
    response = stage.http.http.post("/campaigns", headers=headers, body=json.dumps(body))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["campaign_id"]


def test_campaigns_are_listed_by_pages_with_their_state_and_statistics(stage, ws):
    # Given three campaigns, one started, and the first one's statistics
    prepare(stage, ws.workspace_id)
    ids = sorted(_create(stage, ws, name) for name in ("Spring", "Summer", "Autumn"))
    started = stage.http.http.post(
        f"/campaigns/{ids[1]}/start", headers={"Authorization": f"Bearer {ws.api_key}"}
    )
    assert started.status_code == 200, started.body
    counts = {"sent": 3, "revenue": Decimal("12.5")}
    stage.container.stats.add(ws.workspace_id, campaign_scope(ids[0]), counts)
    # When they are listed two at a time
    first = stage.get(ws, "/campaigns?limit=2")
    assert first.status_code == 200, first.body
    page = json.loads(first.body)
    second = json.loads(stage.get(ws, f"/campaigns?limit=2&cursor={page['next_cursor']}").body)
    # Then each comes once, in id order, with its state and its counters
    listed = page["campaigns"] + second["campaigns"]
    assert [c["campaign_id"] for c in listed] == ids and second["next_cursor"] is None
    assert [c["status"] for c in listed] == ["draft", "sending", "draft"]
    assert listed[0]["stats"]["sent"] == 3 and Decimal(str(listed[0]["stats"]["revenue"])) == Decimal("12.5")
    assert listed[2]["stats"]["sent"] == 0 and listed[2]["channel"] == "email"


def test_the_campaign_list_refuses_a_bad_cursor_or_limit_and_needs_a_key(stage, ws):
    # Given a workspace
    # When the list is asked with a cursor it never gave, a limit that is no number, or no key
    bad_cursor = stage.get(ws, "/campaigns?cursor=W%23other")
    bad_limit = stage.get(ws, "/campaigns?limit=many")
    no_key = stage.http.http.get("/campaigns")
    # Then 400s in the error shape, naming the field, and a 401
    assert bad_cursor.status_code == 400 and json.loads(bad_cursor.body)["details"][0]["field"] == "cursor"
    assert bad_limit.status_code == 400 and json.loads(bad_limit.body)["details"][0]["field"] == "limit"
    assert no_key.status_code == 401
