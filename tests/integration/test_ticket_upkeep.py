"""The service desk's small gaps on the stage (moto, the API through chalice.test.Client):
`POST /tickets` and `POST /tickets/{id}/events` answer the ticket's SLA as `GET` does, a
failed reply delivery is retried through the API, and the `csat_tick` job sends the replies
a dead process left `queued` (docs/service.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketEventIn
from patron.harness import Harness, Workspace
from patron.poller import LambdaContext
from tests.conftest import load_event
from tests.integration.test_consent import jane
from tests.integration.test_notifications import sent_emails
from tests.integration.test_sla_api import next_monday
from tests.integration.test_ticket_intake import GUEST, desk
from tests.integration.test_tickets_api import get, post

__all__ = ["desk", "jane"]
SENDER = "help@demo-brand.example"


def test_a_ticket_created_and_changed_answers_its_sla_as_a_read_does(stage, ws, jane):
    # Given the default settings (UTC weekdays 09:00-17:00) and a Monday 10:00
    monday = next_monday(10)
    with time_machine.travel(monday, tick=False):
        # When a ticket is opened, then raised to urgent
        status, made = post(
            stage, ws, "/tickets", {"customer_id": jane["cid"], "subject": "Late", "kind": "order_issue"}
        )
        changed = post(stage, ws, f"/tickets/{made['id']}/events", {"type": "priority", "to": "urgent"})[1]
        shown = get(stage, ws, f"/tickets/{made['id']}")[1]
    # Then both answers carry the SLA the read computes at the same instant
    assert status == 201 and made["sla"] is not None
    first = {t["target"]: t for t in made["sla"]["targets"]}["first_reply"]
    assert (made["sla"]["policy_id"], first["status"], first["remaining_seconds"]) == (
        "default",
        "running",
        8 * 3600,
    )
    assert changed["sla"] == shown["sla"]
    assert made["sla"]["at"] == shown["sla"]["at"]


def test_a_failed_reply_is_retried_through_the_api_and_sent_once(stage, desk):
    ws = desk
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Size?", "kind": "pre_sale"})[1]["id"]
    # Given a reply whose delivery failed (the sender not verified any more)
    stage.client("ses").delete_identity(Identity=SENDER)
    failed = post(stage, ws, f"/tickets/{tid}/events", {"type": "reply", "body": "Take an M"})[1]
    assert failed["events"][-1]["data"]["delivery"] == "failed" and sent_emails(stage) == []
    # When the sender is verified again and the route retries the delivery twice
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    answers = [post(stage, ws, f"/tickets/{tid}/events/2/deliver", {}) for _ in range(2)]
    # Then it went out once; the ticket shows failed, sent, sent and its SLA
    assert [a[0] for a in answers] == [200, 200], answers[0]
    assert len(sent_emails(stage)) == 1
    shown = answers[-1][1]
    assert [e["data"]["delivery"] for e in shown["events"] if e["kind"] == "reply_delivery"] == [
        "failed", "sent", "sent",
    ]  # fmt: skip
    assert shown["sla"] is not None


def test_the_retry_route_authenticates_first_and_refuses_what_is_not_a_reply(stage, desk):
    ws = desk
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Size?", "kind": "pre_sale"})[1]["id"]
    # When the route is called without a key, with a bad seq, on the `created` event, on no ticket
    anonymous = stage.http.http.post(f"/tickets/{tid}/events/x/deliver", body=b"{}")
    bad_seq = post(stage, ws, f"/tickets/{tid}/events/x/deliver", {})
    not_reply = post(stage, ws, f"/tickets/{tid}/events/1/deliver", {})
    no_ticket = post(stage, ws, "/tickets/tk_none/events/2/deliver", {})
    # Then 401 before anything is read, 400, 404, 404, in the one error shape
    assert anonymous.status_code == 401
    assert (bad_seq[0], bad_seq[1]["error"]) == (400, "bad_request")
    assert (not_reply[0], no_ticket[0]) == (404, 404)
    assert sent_emails(stage) == []


def test_the_job_sends_a_reply_left_queued_once(stage: Harness, desk: Workspace):
    ws = desk
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Gift wrap?", "kind": "pre_sale"})[1]["id"]
    # Given a reply recorded by a process that died before sending it (no delivery wired)
    dying = TicketService(
        store=stage.container.ticket_store,
        profiles=stage.container.profile_store,
        workspaces=stage.container.workspaces,
    )
    recorded_at = datetime.now(UTC)
    dying.record(ws.workspace_id, tid, TicketEventIn(type="reply", body="Yes"), "key:abc", recorded_at)
    assert [q.reply_seq for q in stage.container.ticket_store.queued_replies(ws.workspace_id)] == [2]
    # When the scheduled job runs right away, then 6 minutes later, twice
    from chalicelib.handlers import jobs

    scheduled = load_event("eventbridge/scheduled_event.json")
    first = jobs.csat_tick(scheduled, LambdaContext("CsatTick"))
    later = []
    with time_machine.travel(recorded_at + timedelta(minutes=6), tick=False):
        for _ in range(2):
            later.append(jobs.csat_tick(scheduled, LambdaContext("CsatTick")))
    # Then the first run waited, the second sent it, the third found nothing
    assert first["queued_replies"]["waiting"] == 1 and first["queued_replies"]["delivered"] == 0
    assert [r["queued_replies"]["delivered"] for r in later] == [1, 0]
    (email,) = sent_emails(stage)
    assert (email["To"], email["Subject"]) == (GUEST, "Re: Gift wrap?")
    shown = get(stage, ws, f"/tickets/{tid}")[1]
    (outcome,) = [e for e in shown["events"] if e["kind"] == "reply_delivery"]
    assert outcome["data"]["reply_seq"] == 2 and outcome["data"]["delivery"] == "sent"
    assert stage.container.ticket_store.queued_replies(ws.workspace_id) == []
    assert json.dumps(later[0]).count(GUEST) == 0  # no personal data in the job's result


def test_an_idle_sweep_costs_one_query_per_workspace(stage: Harness, ws: Workspace):
    # Given a workspace with no reply in flight, and the CRM table's requests counted
    calls: list[str] = []

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append(f"{model.name} {params.get('ExpressionAttributeValues', {}).get(':pk', {}).get('S')}")

    stage.container.crm.client.meta.events.register("provide-client-params.dynamodb.*", seen)
    # When the sweep runs
    result = stage.container.reply_sweep.run(datetime.now(UTC))
    # Then it read the workspace list and the workspace's queued replies, nothing else
    assert calls == ["Query WSLIST", f"Query W#{ws.workspace_id}#TRQ"]
    assert (result.delivered, result.waiting, result.settled) == (0, 0, 0)


def test_the_cli_twins_answer_the_sla_too(stage, ws, jane, cli_on):
    from tests.cli_runs import run

    w = ws.workspace_id
    # When the CLI opens a complaint for Jane and sets it pending
    made = run("tickets", "create", jane["cid"], "Broken zip", "--kind", "complaint", "--json", "-w", w)
    assert made.exit_code == 0, made.output
    tid = json.loads(made.output)["id"]
    raised = run("tickets", "status", tid, "pending", "--json", "-w", w)
    # Then both answers carry the SLA: running from creation, paused while pending
    assert raised.exit_code == 0, raised.output
    first = {t["target"]: t for t in json.loads(made.output)["sla"]["targets"]}["first_reply"]
    paused = {t["target"]: t for t in json.loads(raised.output)["sla"]["targets"]}["first_reply"]
    assert (first["status"], paused["status"], paused["due_at"]) == ("running", "paused", None)
