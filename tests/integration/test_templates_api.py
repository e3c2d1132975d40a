"""Templates through the admin API: versions, validation that points at the error, preview."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.errors import BadRequest
from tests.conftest import event_bytes


def put(stage, ws, template_id: str, body: dict):
    return stage.http.http.put(
        f"/templates/{template_id}",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )


def test_templates_are_versioned_validated_and_previewed_for_a_customer(stage, ws):
    # Given Jane, a customer
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    # When a template is saved, then saved again
    first = put(stage, ws, "welcome", {"name": "Welcome", "subject": "Hi", "text": "Hello"})
    second = put(
        stage,
        ws,
        "welcome",
        {
            "name": "Welcome",
            "subject": "Welcome, {{ first_name | default: 'friend' }}",
            "html": "<p>Your code: {{ coupon_code }}</p>",
            "sms": "Hi {{ first_name }}, code {{ coupon_code }}",
        },
    )
    # Then the second is version 2, and lists the variables it uses
    assert (first.status_code, second.status_code) == (201, 200)
    shown = json.loads(stage.get(ws, "/templates/welcome").body)
    assert shown["version"] == 2 and shown["variables"] == ["coupon_code", "first_name"]
    # When it is previewed for Jane
    preview = stage.http.http.post(
        "/templates/welcome/preview",
        body=json.dumps({"customer_id": jane["customer_id"], "values": {"coupon_code": "<WELCOME10>"}}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    # Then it is rendered with her name, escaped in HTML, with the SMS length counted
    answer = json.loads(preview.body)
    assert answer["subject"] == "Welcome, Jane"
    assert answer["html"] == "<p>Your code: &lt;WELCOME10&gt;</p>"
    assert answer["sms"] == "Hi Jane, code <WELCOME10>" and (answer["sms_encoding"], answer["sms_parts"]) == (
        "GSM-7",
        1,
    )


def test_a_bad_template_is_refused_with_the_position_of_the_error(stage, ws):
    bad = put(stage, ws, "broken", {"name": "Broken", "text": "Hi {{ first_name }} {{ user.password }}"})
    assert bad.status_code == 400
    details = json.loads(bad.body)["details"]
    assert details["field"] == "text" and details["position"] == 20
    missing = put(stage, ws, "empty", {"name": "Empty", "subject": "Only a subject"})
    assert missing.status_code == 400
    too_long = put(stage, ws, "long", {"name": "x" * 200, "text": "Hi"})
    assert too_long.status_code == 400 and json.loads(too_long.body)["details"][0]["field"] == "name"
    assert stage.get(ws, "/templates/broken").status_code == 404


def test_a_test_send_goes_to_the_operator_not_the_customer(stage, ws):
    from tests.integration.test_notifications import sent_emails

    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    put(stage, ws, "welcome", {"name": "Welcome", "subject": "Hi {{ first_name }}", "text": "Hello"})
    service = stage.container.template_service
    # Without a sender, a test send says what to do
    with pytest.raises(BadRequest, match="sender"):
        service.test_send(ws.workspace_id, "welcome", jane["customer_id"], "me@brand.example")
    stage.client("ses").verify_email_identity(EmailAddress="orders@brand.example")
    stage.container.workspaces.set_messaging(ws.workspace_id, [], "orders@brand.example", None)
    result = service.test_send(ws.workspace_id, "welcome", jane["customer_id"], "me@brand.example")
    (email,) = sent_emails(stage)
    assert result["channel"] == "email" and email["To"] == "me@brand.example"
    assert email["Subject"] == "[test] Hi Jane"


def test_a_marketing_email_from_a_template_without_the_link_still_carries_it(stage, ws):
    from chalicelib.domain.messaging.model import Channel, Outgoing, Policy, Purpose
    from chalicelib.domain.models import now_utc
    from patron.bench.campaign import bulk_destinations
    from tests.integration.test_notifications import SENDER, sent_emails

    # Given Jane, subscribed, and a marketing template that does not show {{ unsubscribe_url }}
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    (jane,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    cid = jane["customer_id"]
    saved = put(
        stage,
        ws,
        "news",
        {"name": "News", "subject": "News", "html": "<html><body><p>Hi</p></body></html>", "text": "Hi"},
    )
    assert saved.status_code == 201
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    service = stage.container.messaging
    profile = stage.container.profile_store.load(ws.workspace_id, cid)
    policy = Policy(sender_email=SENDER, quiet_start=0, quiet_end=0)

    def news(key: str) -> Outgoing:
        return Outgoing(ws.workspace_id, cid, key, Channel.EMAIL, Purpose.MARKETING, "news")

    # When it goes out on the single path (a flow's send)
    assert service.send(news("flow:news:first:1"), profile, policy, now_utc(), tier="high").status == "sent"
    # Then the email has the signed link in both bodies and the one-click headers
    (email,) = sent_emails(stage)
    link = email["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/unsubscribe/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert text.startswith("Hi") and f"Unsubscribe: {link}" in text
    assert f'<a href="{link}">Unsubscribe</a>' in html and html.rstrip().endswith("</body></html>")
    # When it goes out on the bulk path (a campaign)
    (bulk,) = service.send_bulk([news("camp:news")], {cid: profile}, policy, now_utc(), {cid: "high"})
    assert bulk.status == "sent"
    # Then the bulk email (SES v2 bulk, as a regional stage sends it) has its own link in both
    # bodies and in its one-click headers
    (destination,) = bulk_destinations(stage)
    bulk_link = destination["data"]["text"].rsplit("Unsubscribe: ", 1)[1].strip()
    assert bulk_link.startswith("http://127.0.0.1:8000/unsubscribe/") and bulk_link != link
    assert f'<a href="{bulk_link}">Unsubscribe</a>' in destination["data"]["html"]
    assert destination["headers"] == {
        "List-Unsubscribe": f"<{bulk_link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    # And transactional templates are left as written
    receipt = Outgoing(ws.workspace_id, cid, "txn:x", Channel.EMAIL, Purpose.TRANSACTIONAL, "news")
    template = stage.container.templates.latest(ws.workspace_id, "news")
    assert service._bodies(receipt, template, {"unsubscribe_url": link}) == (template.html, "Hi")
