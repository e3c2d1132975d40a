"""Scheduled jobs, invoked as EventBridge does in a region and as the local stack does."""

from __future__ import annotations

from chalicelib.handlers import jobs
from patron.local import LocalStack
from patron.poller import LambdaContext
from tests.conftest import load_event


def test_quarantine_report_counts_open_entries_per_workspace(stage, ws):
    # Given one quarantined delivery in this workspace and an empty second workspace
    stage.send(ws, "shopify", "orders/create", b'{"id": "not an order"}')
    stage.create_workspace("Quiet Brand")
    # When the hourly job runs on an EventBridge scheduled event
    report = jobs.quarantine_report(load_event("eventbridge/scheduled_event.json"), LambdaContext("job"))
    # Then it counts the open entry against its workspace only
    assert report == {"workspaces": 2, "open_entries": 1, "by_workspace": {ws.workspace_id: 1}}


def test_the_local_scheduler_finds_and_runs_the_apps_schedules(stage, ws):
    report = LocalStack().run_schedule("quarantine_report")
    assert report["workspaces"] == 1 and report["open_entries"] == 0
