"""Intake on the stage (moto, the API through chalice.test.Client): a guest who writes in
becomes one profile as an order's buyer would, and a public reply goes out once through SES,
its outcome on the ticket (docs/service.md, "Intake")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.profiles import ProfileService
from chalicelib.domain.service.intake import TicketGuests
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketIn
from patron.harness import Harness, Workspace
from tests.integration.test_notifications import sent_emails
from tests.integration.test_tickets_api import get, post

SENDER = "help@demo-brand.example"
GUEST = "new.guest@example.com"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(stage: Harness, ws: Workspace) -> Workspace:
    """The workspace, sending from a verified address (no notification kind switched on)."""
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    return ws


def test_a_guest_becomes_one_profile_from_tickets_without_consent(stage, desk):
    ws = desk
    about = {"subject": "Do you ship to Canada?", "kind": "pre_sale", "channel": "web_form"}
    # When a guest no profile holds writes in twice (any case), with a name the first time
    first = post(stage, ws, "/tickets", about | {"email": " New.Guest@Example.com", "name": "Lea Roy"})
    second = post(stage, ws, "/tickets", about | {"email": GUEST})
    # Then both tickets are the one profile's, keyed as an order's buyer would be
    assert (first[0], second[0]) == (201, 201), first
    settings = stage.container.workspaces.settings(ws.workspace_id)
    cid = customer_id_for(settings.id_salt, "email:" + GUEST)
    assert first[1]["customer_id"] == second[1]["customer_id"] == cid
    # And the profile shows its name, `ticket` among its sources, and no consent
    status, shown = get(stage, ws, f"/customers/{cid}")
    assert status == 200
    assert (shown["email"], shown["first_name"], shown["last_name"]) == (GUEST, "Lea", "Roy")
    assert shown["sources"] == ["ticket"]
    assert shown["email_consent"] is None and shown["sms_consent"] is None
    assert [t["id"] for t in get(stage, ws, f"/customers/{cid}/tickets")[1]["tickets"]] == [
        second[1]["id"], first[1]["id"],
    ]  # fmt: skip


def test_two_tickets_from_a_new_email_at_once_make_one_profile_in_dynamodb(stage, desk):
    ws, store = desk, stage.container.profile_store

    class Interleaved:
        """The profile store, with a second ticket's whole creation run just before the first
        ticket's profile write (both found no profile first)."""

        def __init__(self) -> None:
            self.other: Any = None

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def save(self, *args: Any, **kwargs: Any) -> None:
            other, self.other = self.other, None
            if other is not None:
                other()
            store.save(*args, **kwargs)

    racing = Interleaved()
    guests = TicketGuests(ProfileService(store=racing, workspaces=stage.container.workspaces))
    desk_service = TicketService(
        store=stage.container.ticket_store,
        profiles=store,
        workspaces=stage.container.workspaces,
        guests=guests,
    )
    body = TicketIn(email=GUEST, subject="Hello", kind="pre_sale")
    made: list[str] = []
    racing.other = lambda: made.append(
        stage.container.tickets.create(ws.workspace_id, body, "cli", NOW).customer_id
    )
    # When the first ticket is created while the second makes the profile first
    first = desk_service.create(ws.workspace_id, body, "cli", NOW)
    # Then the first's conditional write lost, its retry found the profile: one customer
    assert made == [first.customer_id]
    settings = stage.container.workspaces.settings(ws.workspace_id)
    found = store.find_profiles(ws.workspace_id, settings.id_salt, ["email:" + GUEST])
    assert [p.customer_id for p in found] == [first.customer_id]


def test_a_public_reply_is_emailed_once_and_its_outcome_recorded(stage, desk):
    ws = desk
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Gift wrap?", "kind": "pre_sale"})[1]["id"]
    # When an agent replies
    status, after = post(stage, ws, f"/tickets/{tid}/events", {"type": "reply", "body": "Yes, <free>!"})
    # Then the reply is kept and SES sent it once, from the workspace's sender, to the guest
    assert status == 200, after
    reply, delivery = after["events"][-2:]
    assert (reply["kind"], reply["data"]["body"]) == ("public_reply", "Yes, <free>!")
    assert delivery["kind"] == "reply_delivery" and delivery["by"] == "patron"
    assert {k: delivery["data"][k] for k in ("reply_seq", "delivery", "channel")} == {
        "reply_seq": 2, "delivery": "sent", "channel": "email",
    }  # fmt: skip
    (email,) = sent_emails(stage)
    assert (email["To"], email["From"], email["Subject"]) == (GUEST, SENDER, "Re: Gift wrap?")
    assert "Yes, &lt;free&gt;!" in email.get_body(("html",)).get_content()
    # When the same reply's delivery is run again (a retry)
    stage.container.tickets.deliver(ws.workspace_id, tid, 2, NOW)
    # Then nothing more is sent, and the ticket's events are on the customer's timeline
    assert len(sent_emails(stage)) == 1
    shown = get(stage, ws, f"/customers/{after['customer_id']}")[1]
    kinds = [e["type"] for e in shown["timeline"] if e.get("ticket_id") == tid]
    assert "ticket_reply_delivery" in kinds and "ticket_public_reply" in kinds


def test_a_reply_to_a_bounced_address_is_recorded_suppressed(stage, desk):
    ws = desk
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Where?", "kind": "order_issue"})[1]["id"]
    stage.container.limits.suppress(ws.workspace_id, "email", GUEST, "hard bounce")
    status, after = post(stage, ws, f"/tickets/{tid}/events", {"type": "reply", "body": "Here"})
    assert status == 200
    assert after["events"][-1]["data"]["delivery"] == "suppressed"
    assert sent_emails(stage) == []


def test_the_cli_opens_a_ticket_for_a_guest_by_email_or_phone(stage, desk, cli_on):
    import json

    from tests.cli_runs import run

    w = desk.workspace_id
    # When the CLI opens tickets for a new email (named) and then a new phone
    by_email = run(
        "tickets", "create", GUEST, "Hello", "--kind", "pre_sale", "--name", "Lea", "--json", "-w", w
    )
    by_phone = run("tickets", "create", "+12125550199", "Hi", "--kind", "suggestion", "--json", "-w", w)
    assert by_email.exit_code == 0 and by_phone.exit_code == 0, by_email.output + by_phone.output
    # Then each is a new profile's, keyed by the email, then by the phone
    settings = stage.container.workspaces.settings(w)
    assert json.loads(by_email.output)["customer_id"] == customer_id_for(settings.id_salt, "email:" + GUEST)
    assert json.loads(by_phone.output)["customer_id"] == customer_id_for(
        settings.id_salt, "phone:+12125550199"
    )
    shown = stage.container.profile_store.load(w, json.loads(by_email.output)["customer_id"])
    assert shown is not None and shown.first_name == "Lea"


def test_the_cli_retries_a_failed_reply_delivery_once(stage, desk, cli_on):
    import json

    from tests.cli_runs import run

    ws, w = desk, desk.workspace_id
    tid = post(stage, ws, "/tickets", {"email": GUEST, "subject": "Size?", "kind": "pre_sale"})[1]["id"]
    # Given a reply whose delivery failed (the sender not verified any more)
    stage.client("ses").delete_identity(Identity=SENDER)
    failed = post(stage, ws, f"/tickets/{tid}/events", {"type": "reply", "body": "Take an M"})[1]
    assert failed["events"][-1]["data"]["delivery"] == "failed" and sent_emails(stage) == []
    # When the sender is verified again and the CLI retries the delivery, twice
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    runs = [run("tickets", "deliver", tid, "2", "--json", "-w", w) for _ in range(2)]
    # Then the reply went out once, and the ticket shows failed, then sent
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output
    assert len(sent_emails(stage)) == 1
    shown = json.loads(runs[-1].output)
    assert [e["data"]["delivery"] for e in shown["events"] if e["kind"] == "reply_delivery"] == [
        "failed", "sent", "sent",
    ]  # fmt: skip
