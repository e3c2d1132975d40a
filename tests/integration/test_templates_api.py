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
