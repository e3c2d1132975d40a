"""Satisfaction surveys on the stage (moto): the settings through the API, a solved ticket's
survey sent by the job through SES (v1) once, its one-tap links answered through the public
routes, withdrawn on reopen, the report, the timeline and the erasure
(docs/service.md#csat-satisfaction-surveys)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.models import now_utc
from patron.harness import Harness, Workspace
from tests.conftest import load_event
from tests.integration.test_consent import jane
from tests.integration.test_notifications import SENDER, sent_emails
from tests.integration.test_tickets_api import get, post

__all__ = ["jane"]


def put(stage: Harness, ws: Workspace, path: str, body: Any) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ws.api_key}"}
    answer = stage.http.http.put(path, headers=headers, body=json.dumps(body))
    return answer.status_code, json.loads(answer.body)


def surveys_on(stage: Harness, ws: Workspace, **settings: Any) -> dict[str, Any]:
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    body = load_event("service/csat_settings.json") | settings
    status, saved = put(stage, ws, "/service/csat", body)
    assert status == 200, saved
    return dict(saved)


def solved_ticket(stage: Harness, ws: Workspace, cid: str) -> str:
    made = post(stage, ws, "/tickets", {"customer_id": cid, "subject": "Late", "kind": "order_issue"})[1]
    tid = str(made["id"])
    for change in ({"type": "assign", "to": "ana"}, {"type": "status", "to": "solved"}):
        assert post(stage, ws, f"/tickets/{tid}/events", change)[0] == 200
    return tid


def run_job(stage: Harness) -> dict[str, int]:
    result: dict[str, int] = stage.container.csat.run(now_utc() + timedelta(minutes=1))
    return result


def links(email: Any) -> dict[int, str]:
    """The survey email's one-tap links by score: their paths on the API."""
    text = email.get_body(("plain",)).get_content()
    found = re.findall(r"^([1-5]) http://127\.0\.0\.1:8000(/csat/\S+)$", text, re.M)
    return {int(s): path for s, path in found}


def days_around_now() -> tuple[str, str]:
    """The report's range: yesterday to tomorrow, so a run across midnight still holds the
    surveys it just sent (they are sent a minute after the clock)."""
    today = now_utc().date()
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()


def test_a_solved_ticket_gets_one_survey_answered_by_one_tap_and_reported(stage, ws, jane):
    cid = jane["cid"]
    # Given surveys on (the defaults otherwise) and Jane's ticket solved by ana
    assert get(stage, ws, "/service/csat")[1]["enabled"] is False  # off until switched on
    saved = surveys_on(stage, ws)
    assert saved["expiry_days"] == 7 and "slow_response" in saved["reasons"]
    tid = solved_ticket(stage, ws, cid)
    # When the job runs, then runs again (a replay)
    assert run_job(stage).get("sent") == 1
    run_job(stage)
    # Then Jane got one email with five signed links, and the ticket one `csat_sent`
    (email,) = [e for e in sent_emails(stage) if e["Subject"] == "How did we do? Demo Brand"]
    assert email["To"] == "jane.doe@example.com" and email["From"] == SENDER
    taps = links(email)
    assert sorted(taps) == [1, 2, 3, 4, 5]
    # When she taps 2: the page thanks her and offers the reasons; then she says why
    page = stage.http.http.get(taps[2])
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'value="slow_response"' in page.body.decode() and "<textarea" in page.body.decode()
    form = urlencode({"reason": "slow_response", "comment": "Took a week, Jane"})
    answer = stage.http.http.post(
        taps[2], headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form
    )
    assert answer.status_code == 200, answer.body
    # Then the ticket holds her score, its events the answers
    status, shown = get(stage, ws, f"/tickets/{tid}")
    kinds = [e["kind"] for e in shown["events"] if e["kind"].startswith("csat_")]
    assert kinds == ["csat_sent", "csat_answered", "csat_answered"]
    last = shown["events"][-1]["data"]
    assert (last["score"], last["reason"], last["comment"]) == (2, "slow_response", "Took a week, Jane")
    head = stage.container.ticket_store.load(ws.workspace_id, tid)[0]
    assert head.csat_score == 2 and head.csat_answered_at is not None
    # And the report counts one survey sent, answered, not satisfied, per agent
    first, last = days_around_now()
    status, report = get(stage, ws, f"/service/reports/csat?from={first}&to={last}&by=agent")
    assert status == 200, report
    (ana,) = report["groups"]
    assert (ana["group"], ana["sent"], ana["answered"], ana["satisfied"]) == ("ana", 1, 1, 0)
    assert (ana["csat"], ana["response_rate"], ana["reasons"]) == ("0.0000", "1.0000", {"slow_response": 1})
    # And her timeline shows the survey's events (no text)
    timeline = [e["type"] for e in get(stage, ws, f"/customers/{cid}")[1]["timeline"] if e.get("ticket_id")]
    assert {"ticket_csat_sent", "ticket_csat_answered"} <= set(timeline)
    # When she changes her mind: a 5
    assert stage.http.http.get(taps[5]).status_code == 200
    # Then the report counts her once, satisfied
    ana = get(stage, ws, f"/service/reports/csat?from={first}&to={last}")[1]["groups"][0]
    assert (ana["sent"], ana["answered"], ana["satisfied"], ana["csat"]) == (1, 1, 1, "1.0000")
    # When she is erased, her comment goes with her ticket's other texts
    erased = stage.http.http.delete(f"/customers/{cid}", headers={"Authorization": f"Bearer {ws.api_key}"})
    assert erased.status_code == 202
    stage.drain()
    shown = get(stage, ws, f"/tickets/{tid}")[1]
    assert "Took a week" not in json.dumps(shown)
    assert [e["data"]["score"] for e in shown["events"] if e["kind"] == "csat_answered"] == [2, 2, 5]


def test_a_reopened_ticket_withdraws_its_survey_and_tampered_links_are_refused(stage, ws, jane):
    # Given a survey sent for Jane's solved ticket
    surveys_on(stage, ws)
    tid = solved_ticket(stage, ws, jane["cid"])
    run_job(stage)
    (email,) = [e for e in sent_emails(stage) if e["Subject"].startswith("How did we do?")]
    taps = links(email)
    # When a link is tampered with (the score changed in the payload)
    token = taps[1].rsplit("/", 1)[1]
    payload, signature = token.split(".")
    forged = stage.http.http.get(f"/csat/{payload[:-3]}AAA.{signature}")
    # Then 400 in the error shape, nothing recorded
    assert forged.status_code == 400 and json.loads(forged.body)["error"] == "bad_request"
    # When the ticket is reopened, then her tap comes
    assert post(stage, ws, f"/tickets/{tid}/events", {"type": "status", "to": "open"})[0] == 200
    late = stage.http.http.get(taps[4])
    # Then the survey is withdrawn: the link answers it is no longer open, nothing counts
    assert late.status_code == 410 and "no longer open" in late.body.decode()
    events = get(stage, ws, f"/tickets/{tid}")[1]["events"]
    kinds = [e["kind"] for e in events if e["kind"].startswith("csat")]
    assert kinds == ["csat_sent", "csat_withdrawn"]
    first, last = days_around_now()
    report = get(stage, ws, f"/service/reports/csat?from={first}&to={last}&by=kind")[1]
    assert report["groups"] == [] and report["total"]["sent"] == 0
    # And a report range that is not one is a 400
    assert get(stage, ws, "/service/reports/csat?from=2026-02-01&to=2026-01-01")[0] == 400


def test_the_cli_sets_the_survey_runs_the_job_and_reports(stage, ws, jane, cli_on):
    from tests.cli_runs import run

    w = ws.workspace_id
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(w, [], SENDER, None)
    # When surveys are switched on from the CLI with no delay and two reasons
    done = run(
        "service", "csat", "set", "--on", "--delay", "0", "--reason", "Late", "--reason", "rude", "-w", w
    )
    assert done.exit_code == 0, done.output
    # Then the API reads them back, the other settings as they were
    shown = get(stage, ws, "/service/csat")[1]
    assert (shown["enabled"], shown["delay_minutes"], shown["reasons"], shown["expiry_days"]) == (
        True, 0, ["late", "rude"], 7,
    )  # fmt: skip
    assert run("service", "csat", "set", "--delay", "-5", "-w", w).exit_code == 2
    # When a ticket is solved, the job run from the CLI (a minute on), and Jane taps 4
    solved_ticket(stage, ws, jane["cid"])
    assert run_job(stage).get("sent") == 1
    (email,) = [e for e in sent_emails(stage) if e["Subject"].startswith("How did we do?")]
    assert stage.http.http.get(links(email)[4]).status_code == 200
    assert json.loads(run("service", "csat", "tick", "--json").output) == {}
    # Then the CLI's report says one survey, answered, satisfied, by kind
    first, last = days_around_now()
    args = ("--from", first, "--to", last, "--by", "kind", "--json", "-w", w)
    report = json.loads(run("service", "report", "csat", *args).output)
    assert [(g["group"], g["sent"], g["answered"], g["csat"]) for g in report["groups"]] == [
        ("order_issue", 1, 1, "1.0000")
    ]
