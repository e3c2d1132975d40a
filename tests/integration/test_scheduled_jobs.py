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


def welcome_due(stage, ws) -> None:
    """The welcome flow without its wait, and a subscribed customer's first order, drained:
    a welcome run due now."""
    import json
    from pathlib import Path

    from tests.integration.test_notifications import SENDER

    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    welcome = json.loads((Path(__file__).resolve().parents[2] / "flows" / "welcome.json").read_text())
    welcome["steps"] = welcome["steps"][1:]
    stage.container.flows.apply(ws.workspace_id, welcome)
    body = json.loads(load_event_text("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()


def test_the_flow_tick_job_advances_due_runs(stage, ws):
    from tests.integration.test_notifications import sent_emails

    # Given the welcome flow with no wait, and a subscribed customer's first order
    welcome_due(stage, ws)
    # When the minute job runs on a scheduled event (now: no quiet hours in the job's clock
    # are assumed, so the outcome is either sent now or waiting for the morning)
    result = jobs.flow_tick(load_event("eventbridge/scheduled_event.json"), LambdaContext("job"))
    # Then the run was advanced: the welcome went out, or waits for the end of quiet hours
    assert result["errors"] == []
    assert result.get("done", 0) + result.get("waiting", 0) == 1
    assert len(sent_emails(stage)) == result.get("done", 0)


def load_event_text(name: str) -> str:
    from tests.conftest import event_bytes

    return event_bytes(name).decode()


def test_the_local_scheduler_knows_every_job_and_its_rate():
    from patron.local import scheduled_jobs

    jobs = dict(scheduled_jobs())
    assert jobs["flow_tick"] == 60 and jobs["segment_backfill"] == 60
    assert jobs["segment_recheck"] == 3600 and jobs["quarantine_report"] == 3600
    assert jobs["sms_stop_sync"] == 3600
    assert jobs["csat_tick"] == 300  # satisfaction surveys due: every five minutes
    assert jobs["tiers_evaluate"] == 3600  # the tiers' daily evaluation: resumes hourly until done
    assert jobs["points_expire"] == 86400  # the points' daily expiry
    assert jobs["nightly_scores"] == 3600  # a day's run resumes hourly until done
    assert jobs["recommend_train"] == 3600  # the recommender's daily training, resumed hourly
