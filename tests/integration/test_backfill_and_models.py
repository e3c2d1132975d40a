"""A new segment fills from the existing customers; the nightly fit puts model scores on
every profile's segments, moving only the customers whose answer changes."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.analytics import btyd
from chalicelib.domain import backfill, predict
from chalicelib.domain.models import now_utc
from chalicelib.handlers import jobs
from patron import synthetic
from patron.poller import LambdaContext
from tests.conftest import load_event
from tests.integration.test_membership import create_segment, events

NIGHTLY_MS = 900_000  # the nightly function's timeout (chalice.json): its time budget


def seed_profiles(stage, ws, count: int, seed: int) -> dict[str, dict]:
    """Customers with order histories over two years, saved through the profile store as the
    order pipeline saves them."""
    rng = random.Random(seed)
    settings = stage.container.workspaces.settings(ws.workspace_id)
    now = now_utc()
    saved = {}
    for n in range(count):
        customer_id = f"c_{n:04d}{rng.randrange(16**4):04x}"
        stage.container.profile_store.save(
            profile_of(synthetic.profile_item(settings, customer_id, rng, now)), None, [], []
        )
        saved[customer_id] = stage.container.profile_store.get(ws.workspace_id, customer_id)
    stage.drain()
    return saved


def all_members(stage, ws, segment_id: str) -> set[str]:
    found, cursor = set(), None
    while True:
        query = f"?limit=50&cursor={cursor}" if cursor else "?limit=50"
        page = json.loads(stage.get(ws, f"/segments/{segment_id}/members{query}").body)
        found |= set(page["customers"])
        cursor = page["cursor"]
        if not cursor:
            return found


@pytest.fixture
def immediate_backfill(monkeypatch):
    monkeypatch.setattr(backfill, "START_DELAY", timedelta(0))
    monkeypatch.setattr(backfill, "PAGE", 7)


def test_a_new_segment_is_filled_from_the_existing_customers(stage, immediate_backfill):
    # Given 40 customers who ordered before the segment existed
    ws = stage.create_workspace("Backfilled")
    profiles = seed_profiles(stage, ws, 40, seed=1)
    events(stage)
    expected = {cid for cid, item in profiles.items() if int(item["n"]) >= 2}
    assert 0 < len(expected) < 40
    # When a segment of repeat buyers is created
    segment_id = create_segment(stage, ws, "Repeat buyers", "orders_count >= 2")
    shown = json.loads(stage.get(ws, f"/segments/{segment_id}").body)
    # Then it is empty and its backfill is queued
    assert shown["size"] == 0 and shown["backfill"] == {"state": "queued", "processed": 0}
    # When the minute job runs with time for two pages only, then again with time to finish
    budget = iter([60.0] * 3 + [0.0] * 1000)
    first = stage.container.backfill.run(lambda: next(budget))
    running = json.loads(stage.get(ws, f"/segments/{segment_id}").body)["backfill"]
    result = jobs.segment_backfill(load_event("eventbridge/scheduled_event.json"), LambdaContext("backfill"))
    # Then the first stopped part way and said so, and the second finished the walk
    assert first["sweeps_finished"] == 0 and 0 < first["customers_evaluated"] < 40
    assert running["state"] == "running" and running["processed"] == first["customers_evaluated"]
    assert result["sweeps_finished"] == 1
    assert first["customers_evaluated"] + result["customers_evaluated"] == 40
    # And the segment holds exactly the repeat buyers, each entered once, with events
    shown = json.loads(stage.get(ws, f"/segments/{segment_id}").body)
    assert shown["size"] == len(expected) and shown["backfill"] == {"state": "complete"}
    assert all_members(stage, ws, segment_id) == expected
    entered = [e["customer_id"] for e in events(stage) if e["segment_id"] == segment_id]
    assert sorted(entered) == sorted(expected)
    # And a further run finds nothing to do
    again = jobs.segment_backfill(load_event("eventbridge/scheduled_event.json"), LambdaContext("backfill"))
    assert again == {"sweeps_finished": 0, "customers_evaluated": 0}


def test_a_deleted_segment_stops_its_backfill(stage, immediate_backfill):
    ws = stage.create_workspace("Deleted")
    seed_profiles(stage, ws, 10, seed=2)
    segment_id = create_segment(stage, ws, "Any", "orders_count >= 1")
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    assert stage.http.http.delete(f"/segments/{segment_id}", headers=headers).status_code == 204
    result = jobs.segment_backfill(load_event("eventbridge/scheduled_event.json"), LambdaContext("backfill"))
    assert result == {"sweeps_finished": 0, "customers_evaluated": 0}


def test_the_nightly_fit_scores_every_profile_and_moves_only_changed_answers(stage, monkeypatch):
    # (moto copies the whole table on every transaction: a smaller store keeps this quick,
    # so the models' minimum data is lowered for the test)
    monkeypatch.setattr(btyd, "MIN_CUSTOMERS", 40)
    monkeypatch.setattr(btyd, "MIN_REPEATERS", 10)
    # Given a segment on the model's p_alive, created before any model exists
    ws = stage.create_workspace("Predicted")
    segment_id = create_segment(stage, ws, "Slipping away", "p_alive < 0.5 AND orders_count >= 2")
    profiles = seed_profiles(stage, ws, 60, seed=3)
    assert json.loads(stage.get(ws, f"/segments/{segment_id}").body)["size"] == 0  # no p_alive yet
    event = load_event("eventbridge/scheduled_event.json")
    # When the nightly job runs
    result = jobs.nightly_scores(event, LambdaContext("nightly", timeout_ms=NIGHTLY_MS))
    # Then the workspace has fitted models
    model = stage.container.workspaces.settings(ws.workspace_id).model
    assert model is not None and model.method == "bgnbd+gamma_gamma" and model.customers == 60
    # And the segment holds exactly the repeat buyers whose p_alive is now below 0.5
    now = datetime.now(UTC)
    expected = {
        cid
        for cid, item in profiles.items()
        if int(item["n"]) >= 2
        and predict.values(model, predict.summary(profile_of(item), now))["p_alive"] < Decimal("0.5")
    }
    assert 0 < len(expected) < 60
    assert all_members(stage, ws, segment_id) == expected
    assert json.loads(stage.get(ws, f"/segments/{segment_id}").body)["size"] == len(expected)
    # And only customers whose answers moved were handed on (no model before: all with orders)
    assert 0 < result["profiles_reevaluated"] <= 60
    # And a customer's scores show through the API
    some = sorted(expected)[0]
    shown = json.loads(stage.get(ws, f"/customers/{some}/segments").body)
    assert shown["scores"]["method"] == "bgnbd+gamma_gamma" and Decimal(shown["scores"]["p_alive"]) < 0.5
    assert {s["segment_id"]: s["member"] for s in shown["segments"]} == {segment_id: True}
    # When the job runs again the same day, nothing has moved and nothing is written
    again = jobs.nightly_scores(event, LambdaContext("nightly", timeout_ms=NIGHTLY_MS))
    assert again["workspaces_updated"] == 0 and again["profiles_reevaluated"] == 0
