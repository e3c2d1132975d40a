"""A return's webhook, through the Function URL and the API Gateway route (and an agent's move
through the API), calls only what the webhook functions' roles grant, and sends nothing
itself: the minute job (`flow_tick`, a function that sends) sends the customer's message
(docs/service.md#returns-and-exchanges), within its role (infra/permissions.json), as
tests/integration/test_calls_are_granted.py checks the rest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from chalicelib.domain.workspace_settings import LoyaltyRules
from chalicelib.handlers import jobs, webhooks
from patron.harness import Harness, Workspace
from patron.poller import LambdaContext
from tests.conftest import load_event
from tests.integration.test_calls_are_granted import assert_granted, recording
from tests.integration.test_function_url import signed
from tests.integration.test_notifications import SENDER
from tests.integration.test_tickets_api import post

NOW = datetime(2026, 11, 26, 15, tzinfo=UTC)


@pytest.fixture
def stage(aws: None) -> Iterator[Harness]:
    with time_machine.travel(NOW, tick=False):
        harness = Harness(stage="test")
        yield harness
        harness.close()


def test_a_return_calls_only_what_the_roles_grant_and_the_minute_job_sends(stage: Harness, ws: Workspace):
    # Given Jane's paid order (loyalty on) and the return messages switched on
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True))
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    kinds = ["return_approved", "return_closed"]
    stage.container.workspaces.set_messaging(ws.workspace_id, kinds, SENDER, None)
    assert (
        stage.send(ws, "shopify", "orders/create", load_event("shopify/orders_create.json")).status_code
        == 200
    )
    stage.drain()
    calls = recording(stage)
    # When the approval comes through the Function URL
    calls.now = "WebhookUrl"
    approve = json.dumps(load_event("shopify/returns_approve.json")).encode()
    fresh = {"x-shopify-topic": "returns/approve", "x-shopify-triggered-at": NOW.isoformat()}
    assert (
        webhooks.webhook_url(signed(ws, "shopify_orders_create.json", approve, **fresh), None)["statusCode"]
        == 200
    )
    # and the close through the API Gateway route, and an agent approves a Patron return
    calls.now = "APIHandler"
    assert (
        stage.send(ws, "shopify", "returns/close", load_event("shopify/returns_close.json")).status_code
        == 200
    )
    cid = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"][0][
        "customer_id"
    ]
    order_id = f"{ws.sources['shopify']['source_id']}.5829104638011"
    body = {"customer_id": cid, "subject": "Too big", "kind": "return_request", "order_id": order_id}
    status, made = post(stage, ws, "/tickets", body | {"line_ids": ["OCT-HGR-M"]})
    assert status == 201, made
    status, moved = post(stage, ws, f"/tickets/{made['id']}/events", {"type": "return", "to": "open"})
    assert status == 200, moved
    # and the minute job runs
    calls.now = "FlowTick"
    jobs.flow_tick(load_event("eventbridge/scheduled_event.json"), LambdaContext("FlowTick"))
    # Then only the minute job sent (the approval and the close), and every role grants its calls
    sends = {("ses:SendRawEmail", "*"), ("ses:SendEmail", "*"), ("sns:Publish", "*")}
    assert not sends & (calls.made["WebhookUrl"] | calls.made["APIHandler"])
    assert ("ses:SendRawEmail", "*") in calls.made["FlowTick"]
    assert_granted(stage, calls, "WebhookUrl", "APIHandler", "FlowTick")
