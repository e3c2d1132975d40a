"""No table scans: the report and the export read only the asking workspace's items, at a
cost that does not grow with the other workspaces; the nightly job works to a time budget
and resumes where it stopped."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from chalicelib.analytics import btyd
from chalicelib.container import Container, set_container
from chalicelib.domain import nightly
from chalicelib.domain.models import now_utc
from chalicelib.handlers import jobs
from patron.bench import report as report_bench
from patron.harness import Harness
from patron.poller import LambdaContext
from tests.conftest import event_bytes, load_event
from tests.integration.test_backfill_and_models import all_members, seed_profiles
from tests.integration.test_membership import create_segment


class Reads:
    """DynamoDB calls by operation, and the partition key of every item read or returned."""

    def __init__(self, session: Any) -> None:
        self.operations: Counter[str] = Counter()
        self.keys: set[str] = set()
        session.events.register("before-parameter-build.dynamodb", self._request)
        session.events.register("after-call.dynamodb", self._response)

    def _request(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.operations[model.name] += 1
        if model.name == "Query":
            self.keys.update(v["S"] for v in params["ExpressionAttributeValues"].values() if "S" in v)
        for request in params.get("RequestItems", {}).values():
            self.keys.update(k["pk"]["S"] for k in request.get("Keys", []))

    def _response(self, parsed: dict[str, Any], **_: Any) -> None:
        items = [*parsed.get("Items", []), *([parsed["Item"]] if "Item" in parsed else [])]
        items += [i for found in parsed.get("Responses", {}).values() for i in found]
        self.keys.update(i["pk"]["S"] for i in items if "pk" in i)


def recording(stage: Harness) -> Reads:
    reads = Reads(stage.session)
    stage.container = Container(stage.settings, session=stage.session)  # clients made after the hooks
    set_container(stage.container)
    return reads


def test_the_report_and_the_export_read_only_the_workspaces_own_items(stage, ws):
    # Given two workspaces with customers: ours, and another one with the same orders
    other = stage.create_workspace("Other Brand")
    stage.add_source(other, "shopify", "other-store.myshopify.com", "shpss_" + "0f1e2d3c" * 4)
    for workspace in (ws, other):
        stage.send(workspace, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
    stage.drain()
    segment_id = create_segment(stage, ws, "Everyone", "orders_count >= 0")
    reads = recording(stage)
    # When our workspace asks for its report and exports a segment
    response = stage.get(ws, "/analytics/report")
    exported = stage.container.audience.export(ws.workspace_id, segment_id)
    # Then both are complete, and no Scan was made
    assert response.status_code == 200
    assert json.loads(response.body)["kpis"]["customers"] == 2
    assert exported.profiles_scanned == 2 and exported.members == 2
    assert reads.operations["Scan"] == 0
    assert reads.operations["Query"] > 0 and reads.operations["BatchGetItem"] > 0
    # And every key read or returned is our workspace's (or the API key that names it)
    own = (f"W#{ws.workspace_id}#", f"WS#{ws.workspace_id}", "KEY#")
    assert reads.keys and all(key.startswith(own) for key in reads.keys), reads.keys
    assert not any(other.workspace_id in key for key in reads.keys)


def test_the_report_reads_the_same_units_whatever_other_workspaces_hold():
    # When the report bench builds a report of 200 customers, alone and among 3 other
    # workspaces of the same size (read units counted from the bytes returned)
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    result = report_bench.run(profiles=200, other_workspaces=3, now=now)
    # Then it read every customer, and the other workspaces added no read at all
    assert result["report_customers"] == 200 and result["report_read_units_alone"] > 0
    assert result["other_workspaces_read_ratio"] < 1.1
    assert result["report_requests"] == result["report_requests_alone"]
    # And moto's plain-JSON answers (the bench's speed-up) gave the client the same bytes as
    # moto's own serializer: the same report, the same read units
    slow = report_bench.run(profiles=200, other_workspaces=3, fast_reads=False, now=now)
    assert slow["report_digest"] == result["report_digest"]
    assert slow["report_read_units"] == result["report_read_units"]


def pages_of_time(pages: int) -> Any:
    """A time budget that lasts for the workspace's start and `pages` pages, then runs out."""
    left = iter([60.0] * (pages + 1))
    return lambda: next(left, 0.0)


def test_the_nightly_job_stops_at_its_time_budget_and_resumes_to_the_same_result(stage, monkeypatch):
    # (the models' minimum data lowered, as in test_backfill_and_models; pages of 7)
    monkeypatch.setattr(btyd, "MIN_CUSTOMERS", 40)
    monkeypatch.setattr(btyd, "MIN_REPEATERS", 10)
    monkeypatch.setattr(nightly, "PAGE", 7)
    definition = "p_alive < 0.5 AND orders_count >= 2"
    # Given a workspace of 60 customers with a segment on the model's p_alive
    first = stage.create_workspace("Interrupted")
    first_segment = create_segment(stage, first, "Slipping away", definition)
    seed_profiles(stage, first, 60, seed=3)
    now = now_utc()
    # When the nightly job gets time for two pages per invocation, until nothing is pending
    runs: list[dict[str, Any]] = []
    while not runs or runs[-1]["workspaces_pending"]:
        assert len(runs) < 60, runs[-1]
        runs.append(stage.container.scoring.nightly(now, pages_of_time(2)))
    # Then the first invocation stopped part way and said so, and later ones resumed
    assert runs[0]["workspaces_pending"] == 1 and runs[0]["workspaces_updated"] == 0
    assert 0 < runs[0]["profiles_read"] < 60 and len(runs) > 3
    # And every profile was gathered once, and the scores saved once
    assert sum(r["profiles_read"] for r in runs) == 60
    assert sum(r["workspaces_updated"] for r in runs) == 1
    # When an identical workspace, created afterwards, is scored in one uninterrupted run
    second = stage.create_workspace("Uninterrupted")
    second_segment = create_segment(stage, second, "Slipping away", definition)
    seed_profiles(stage, second, 60, seed=3)
    whole = stage.container.scoring.nightly(now)
    assert (whole["workspaces_updated"], whole["profiles_read"], whole["workspaces_pending"]) == (1, 60, 0)
    # Then both hold the same edges, rhythm and model, and the same members, moved as often
    a = stage.container.workspaces.settings(first.workspace_id)
    b = stage.container.workspaces.settings(second.workspace_id)
    assert a.model is not None and a.model.method == "bgnbd+gamma_gamma"
    assert (a.rfm_edges, a.rhythm_days, a.model) == (b.rfm_edges, b.rhythm_days, b.model)
    members = all_members(stage, first, first_segment)
    assert members and members == all_members(stage, second, second_segment)
    assert sum(r["profiles_reevaluated"] for r in runs) == whole["profiles_reevaluated"] > 0
    # And a later invocation the same day finds both done and reads nothing
    again = stage.container.scoring.nightly(now)
    assert again == {
        "profiles_read": 0,
        "workspaces_updated": 0,
        "profiles_reevaluated": 0,
        "workspaces_pending": 0,
    }


def test_the_scheduled_nightly_job_takes_its_budget_from_the_lambda_context(stage, ws):
    # Given a workspace with a customer
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # When the scheduled job runs with less time left than its reserve
    result = jobs.nightly_scores(
        load_event("eventbridge/scheduled_event.json"), LambdaContext("n", timeout_ms=0)
    )
    # Then it starts nothing and leaves the workspace pending for the next invocation
    assert result["workspaces_pending"] == 1 and result["profiles_read"] == 0
