"""The storefront contact form through the real generic webhook handler, on the stage (moto):
signed like any generic record, one ticket per form id whatever is redelivered, a guest made
a profile, bad input 400 and quarantined for a replay (docs/service.md, docs/webhooks.md)."""

from __future__ import annotations

import json

from chalicelib.domain.identity import customer_id_for
from patron import operations
from tests.conftest import event_bytes, load_event
from tests.integration.test_tickets_api import get

FORM = load_event("generic/contact_form.json")


def tickets_of(stage, ws, email: str) -> list[dict]:
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    cid = customer_id_for(salt, "email:" + email)
    return get(stage, ws, f"/customers/{cid}/tickets")[1]["tickets"]


def test_a_contact_form_opens_one_ticket_for_a_new_guest_whatever_is_redelivered(stage, ws):
    # When the storefront sends the form, then redelivers it (another delivery id)
    first = stage.send(ws, "generic", "contact_form", event_bytes("generic/contact_form.json"), "d-1")
    again = stage.send(ws, "generic", "contact_form", event_bytes("generic/contact_form.json"), "d-2")
    # Then the first is stored, the second a duplicate
    assert (first.status_code, again.status_code) == (200, 200), first.body
    assert [json.loads(r.body)["status"] for r in (first, again)] == ["stored", "duplicate"]
    # And the guest has one profile (from `ticket`, no consent) and one open web-form ticket
    (ticket,) = tickets_of(stage, ws, "lea.roy@example.com")
    assert (ticket["channel"], ticket["kind"], ticket["status"]) == ("web_form", "pre_sale", "open")
    shown = get(stage, ws, f"/customers/{ticket['customer_id']}")[1]
    assert (shown["first_name"], shown["sources"], shown["email_consent"]) == ("Léa", ["ticket"], None)
    queue = get(stage, ws, "/tickets?status=open")[1]["tickets"]
    assert [t["id"] for t in queue] == [ticket["id"]]
    events = get(stage, ws, f"/tickets/{ticket['id']}")[1]["events"]
    assert [(e["kind"], e["by"], e["at"]) for e in events] == [
        ("created", "customer", "2026-11-21T17:30:00.000000Z")
    ]


def test_a_form_about_the_customers_order_links_it(stage, ws):
    # Given Jane's order from the generic source (she is known by her phone)
    stage.send(ws, "generic", "order", event_bytes("generic/order.json"))
    stage.drain()
    # When she writes through the form with that phone and the order's id
    form = FORM | {"id": "f-9", "email": None, "phone": "+1 212 555 0147", "order_id": "POS-20261121-0042"}
    form = {k: v for k, v in form.items() if v is not None} | {"kind": "order_issue"}
    answer = stage.send(ws, "generic", "contact_form", json.dumps(form).encode())
    assert answer.status_code == 200, answer.body
    # Then the ticket is hers, about that order
    queue = get(stage, ws, "/tickets?status=open&kind=order_issue")[1]["tickets"]
    (ticket,) = queue
    assert ticket["order_id"].endswith(".POS-20261121-0042")
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    assert ticket["customer_id"] == customer_id_for(salt, "phone:+12125550147")


def test_a_form_naming_nobody_is_400_quarantined_and_replayable(stage, ws):
    # When a form comes with neither email nor phone
    bad = {k: v for k, v in FORM.items() if k not in ("email", "phone")}
    answer = stage.send(ws, "generic", "contact_form", json.dumps(bad).encode())
    # Then 400 with the field, the body kept in the quarantine, no ticket
    assert answer.status_code == 400
    body = json.loads(answer.body)
    assert "email" in {e["field"] for e in body["details"]}
    (entry,) = stage.container.quarantine.page(ws.workspace_id)[0]
    assert entry["quarantine_id"] == body["quarantine_id"]
    assert get(stage, ws, "/tickets?status=open")[1]["tickets"] == []
    # When it is replayed with the email added
    fixed = event_bytes("generic/contact_form.json")
    result = operations.replay_quarantined(stage.container, ws.workspace_id, body["quarantine_id"], fixed)
    # Then the ticket opens
    assert result.status == "stored"
    assert len(tickets_of(stage, ws, "lea.roy@example.com")) == 1


def test_a_contact_form_and_a_reply_call_only_what_the_roles_grant(stage, ws):
    from chalicelib.handlers import webhooks
    from patron.storefront import headers_for
    from tests.integration.test_calls_are_granted import assert_granted, recording
    from tests.integration.test_tickets_api import post

    stage.client("ses").verify_email_identity(EmailAddress="help@demo-brand.example")
    stage.container.workspaces.set_messaging(ws.workspace_id, [], "help@demo-brand.example", None)
    calls = recording(stage)
    # When a contact form comes through the Function URL (a Function URL event, signed)
    calls.now = "WebhookUrl"
    raw = event_bytes("generic/contact_form.json")
    src = ws.sources["generic"]
    event = load_event("function_url/shopify_orders_create.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/webhooks/generic"
    event["headers"] = {
        k.lower(): v
        for k, v in headers_for("generic", src["shop"], "contact_form", src["secret"], raw).items()
    }
    event["body"], event["isBase64Encoded"] = raw.decode(), False
    assert webhooks.webhook_url(event, None)["statusCode"] == 200
    # and an agent replies to it through the API (the reply emailed)
    calls.now = "APIHandler"
    (ticket,) = tickets_of(stage, ws, "lea.roy@example.com")
    status, after = post(stage, ws, f"/tickets/{ticket['id']}/events", {"type": "reply", "body": "Take an S"})
    assert status == 200 and after["events"][-1]["data"]["delivery"] == "sent"
    # Then each function's role grants every call it made
    assert {a for a, _ in calls.made["APIHandler"]} & {"ses:SendEmail", "ses:SendRawEmail"}
    assert_granted(stage, calls, "WebhookUrl", "APIHandler")
