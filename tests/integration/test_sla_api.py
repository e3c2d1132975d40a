"""SLA operations on the stage (moto) through the Admin API, the CLI and the scheduled job:
the settings (versioned, If-Match), a ticket's computed SLA, the report, and the check's
alerts on the ServiceAlerts topic (read back through an SQS subscription) and the ticket's
and the customer's timeline (docs/service.md, "SLA operations")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from chalicelib.domain.timemath import iso
from patron.harness import Harness, Workspace
from tests.integration.test_consent import jane
from tests.integration.test_tickets_api import get, post
from tests.unit.sla_world import FIXTURE

__all__ = ["jane"]
SETTINGS = json.loads(FIXTURE.read_text())


def put(stage: Harness, ws: Workspace, path: str, body: Any, match: str | None) -> tuple[int, Any, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ws.api_key}"}
    if match is not None:
        headers["If-Match"] = match
    answer = stage.http.http.put(path, headers=headers, body=json.dumps(body))
    return answer.status_code, json.loads(answer.body), answer.headers


def next_monday(hour: int) -> datetime:
    """A Monday at `hour` UTC, a week or two after the wall clock (no test needs a date)."""
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    days = 7 + (7 - today.weekday()) % 7
    return (today + timedelta(days=days)).replace(hour=hour)


def test_the_settings_start_at_the_default_and_change_at_their_version(stage, ws):
    # Given a workspace that never wrote SLA settings
    answer = stage.get(ws, "/service/sla")
    shown = json.loads(answer.body)
    # Then the default: weekdays 09:00-17:00 in the workspace's zone, version 0 (the ETag)
    assert (answer.status_code, answer.headers["ETag"], shown["default"]) == (200, '"0"', True)
    assert (shown["calendar"]["zone"], shown["policies"][0]["targets"]["first_reply"]) == ("UTC", 480)
    # When they are written without If-Match, with a calendar whose interval ends before it starts
    missing = put(stage, ws, "/service/sla", SETTINGS, None)
    bad = json.loads(json.dumps(SETTINGS))
    bad["calendar"]["week"]["mon"] = [{"start": "18:00", "end": "09:00"}]
    refused = put(stage, ws, "/service/sla", bad, '"0"')
    # Then 400 each, the second naming the calendar's field and why
    assert (missing[0], missing[1]["error"]) == (400, "bad_request")
    assert refused[0] == 400 and "calendar" in json.dumps(refused[1]["details"])
    assert "ends after it starts" in json.dumps(refused[1]["details"])
    # When written at version 0, then again at version 0
    status, written, headers = put(stage, ws, "/service/sla", SETTINGS, '"0"')
    stale = put(stage, ws, "/service/sla", SETTINGS, '"0"')
    # Then version 1 (the ETag), and the stale write is 409 stale_version
    assert (status, written["version"], written["default"], headers["ETag"]) == (200, 1, False, '"1"')
    assert [p["id"] for p in written["policies"]] == ["urgent", "high", "standard"]
    assert (stale[0], stale[1]["details"]) == (409, {"reason": "stale_version"})
    assert get(stage, ws, "/service/sla")[1]["calendar"]["zone"] == "Europe/Paris"


def test_a_ticket_shows_its_sla_computed_on_each_read(stage, ws, jane):
    # Given the default settings (UTC weekdays 09:00-17:00) and a ticket opened on a Monday 09:00
    monday = next_monday(9)
    with time_machine.travel(monday, tick=False):
        status, made = post(
            stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "Late", "kind": "order_issue"}
        )
        assert status == 201, made
    # When it is read at 10:00, then at 16:00
    with time_machine.travel(monday + timedelta(hours=1), tick=False):
        early = get(stage, ws, f"/tickets/{made['id']}")[1]["sla"]
    with time_machine.travel(monday + timedelta(hours=7), tick=False):
        late = get(stage, ws, f"/tickets/{made['id']}")[1]["sla"]
    # Then the first reply (8 business hours) runs, due at 17:00, its time left shrinking
    first = {t["target"]: t for t in early["targets"]}["first_reply"]
    assert (early["policy_id"], first["status"], first["due_at"]) == (
        "default",
        "running",
        iso(monday.replace(hour=17)),
    )
    assert (first["used_seconds"], first["remaining_seconds"], first["near_breach"]) == (
        3600,
        7 * 3600,
        False,
    )
    later = {t["target"]: t for t in late["targets"]}["first_reply"]
    assert (later["remaining_seconds"], later["near_breach"]) == (3600, True)


def test_the_check_publishes_a_breach_once_on_the_topic_and_the_timeline(stage, ws, jane):
    # Given an SQS queue subscribed to the ServiceAlerts topic
    sqs, sns = stage.client("sqs"), stage.client("sns")
    queue = sqs.create_queue(QueueName="alerts-reader")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stage.info.service_alerts_topic_arn, Protocol="sqs", Endpoint=arn)
    # And a ticket opened on a Monday 09:00 (UTC calendar), its first reply due at 17:00
    monday = next_monday(9)
    with time_machine.travel(monday, tick=False):
        made = post(
            stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "Late", "kind": "complaint"}
        )[1]
    # When the check runs at 18:00 (closed), at 02:00 (closed), twice at Tuesday 09:00
    runs = [
        stage.container.sla_check.run(at) for at in (monday.replace(hour=18), monday + timedelta(hours=17))
    ]
    tuesday = monday + timedelta(days=1)
    runs += [
        stage.container.sla_check.run(tuesday),
        stage.container.sla_check.run(tuesday + timedelta(minutes=5)),
    ]
    # Then one message: the breach, no personal data
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    bodies = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    assert [r["alerts"] for r in runs] == [0, 0, 1, 0] and [r["closed"] for r in runs][:2] == [1, 1]
    assert bodies == [
        {
            "type": "sla_alert",
            "workspace_id": ws.workspace_id,
            "ticket_id": made["id"],
            "target": "first_reply",
            "level": "breach",
            "due_at": iso(monday.replace(hour=17)),
            "policy_id": "default",
        }
    ]
    # And the ticket's log and the customer's timeline show the alert
    with time_machine.travel(tuesday + timedelta(minutes=6), tick=False):
        shown = get(stage, ws, f"/tickets/{made['id']}")[1]
        timeline = get(stage, ws, f"/customers/{jane['cid']}")[1]["timeline"]
    (alert,) = [e for e in shown["events"] if e["kind"] == "sla_alert"]
    assert alert["data"] == {
        "target": "first_reply",
        "level": "breach",
        "policy_id": "default",
        "due_at": bodies[0]["due_at"],
    }
    assert "ticket_sla_alert" in [e["type"] for e in timeline]


def test_the_report_gives_the_share_met_per_policy_and_target(stage, ws, jane):
    # Given two tickets on a Monday: one answered at 10:00, one never answered
    monday = next_monday(9)
    with time_machine.travel(monday, tick=False):
        answered = post(
            stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "A", "kind": "pre_sale"}
        )[1]
        post(stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "B", "kind": "pre_sale"})
    with time_machine.travel(monday + timedelta(hours=1), tick=False):
        post(stage, ws, f"/tickets/{answered['id']}/events", {"type": "reply", "body": "Yes, in blue"})
    # When the report of that Monday is read on Tuesday at 12:00
    day = monday.date().isoformat()
    with time_machine.travel(monday + timedelta(days=1, hours=3), tick=False):
        status, report = get(stage, ws, f"/service/reports/sla?from={day}&to={day}")
        bad = get(stage, ws, f"/service/reports/sla?from={day}")
    # Then the first reply was met once and breached once: half
    assert status == 200, report
    rows = {(r["policy_id"], r["target"]): (r["met"], r["breached"], r["share_met"]) for r in report["rows"]}
    assert (report["tickets"], rows) == (2, {("default", "first_reply"): (1, 1, "0.5000")})
    assert bad[0] == 400


def test_the_cli_shows_and_sets_the_settings_and_reads_the_report(stage, ws, cli_on, tmp_path):
    from tests.cli_runs import run

    w = ws.workspace_id
    # When the CLI shows the settings, sets them from a file, and shows them again
    before = json.loads(run("service", "sla", "show", "--json", "-w", w).output)
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(SETTINGS))
    written = run("service", "sla", "set", str(path), "--json", "-w", w)
    after = json.loads(run("service", "sla", "show", "--json", "-w", w).output)
    # Then the default (version 0), then the file's at version 1
    assert written.exit_code == 0, written.output
    assert (before["version"], after["version"], after["calendar"]["zone"]) == (0, 1, "Europe/Paris")
    # And a file with a bad calendar exits non-zero naming the problem, writing nothing
    bad = json.loads(json.dumps(SETTINGS))
    bad["calendar"]["zone"] = "Mars/Olympus"
    path.write_text(json.dumps(bad))
    refused = run("service", "sla", "set", str(path), "-w", w)
    assert refused.exit_code != 0 and "unknown time zone" in refused.output
    # And the report of an empty week is empty
    report = run("service", "report", "sla", "--from", "2026-11-02", "--to", "2026-11-08", "--json", "-w", w)
    assert report.exit_code == 0, report.output
    assert (json.loads(report.output)["tickets"], json.loads(report.output)["rows"]) == (0, [])
