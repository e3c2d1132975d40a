"""Transactional notifications: sent through SES once per order and kind, whatever is replayed."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from chalicelib.domain.messaging import notifications
from tests.conftest import event_bytes

SENDER = "orders@demo-brand.example"


def sent_emails(stage) -> list:
    """What moto's SES accepted, parsed (the embedded AWS's outbox)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][stage.region]
    return [message_from_bytes(m.raw_data.encode(), policy=policy.default) for m in backend.sent_messages]


@pytest.fixture
def notifying(stage, ws, monkeypatch):
    # the fixtures' orders are from 2026-11-20: widen the freshness window for them
    monkeypatch.setattr(notifications, "FRESH", timedelta(days=3650))
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, ["order_confirmation", "shipped"], SENDER, None)
    return ws


def test_an_order_gets_its_confirmation_and_shipping_notice_once(stage, notifying):
    ws = notifying
    # When Jane orders, the webhook comes twice, and the order is then paid and fulfilled
    created = event_bytes("shopify/orders_create.json")
    stage.send(ws, "shopify", "orders/create", created, delivery_id="n-1")
    stage.send(ws, "shopify", "orders/create", created, delivery_id="n-2")
    stage.drain()
    stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    stage.drain()
    # Then she got one confirmation and one shipping notice, with the tracking number
    emails = sent_emails(stage)
    assert [e["Subject"] for e in emails] == [
        "Thank you for your order #1001",
        "Your order #1001 is on its way",
    ]
    assert all(e["To"] == "jane.doe@example.com" and e["From"] == SENDER for e in emails)
    assert "1Z999AA10123456784" in emails[1].get_body(("plain",)).get_content()
    # When the whole ingest stream is replayed to the ingest consumer
    stage.poller = stage.new_poller()
    stage.drain()
    # Then nothing more is sent
    assert len(sent_emails(stage)) == 2


def test_delivery_reported_by_the_carrier_is_announced_once(stage, notifying):
    ws = notifying
    stage.container.workspaces.set_messaging(ws.workspace_id, ["delivered"], SENDER, None)
    # Given Jane's order, shipped
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    stage.drain()
    assert sent_emails(stage) == []  # only "delivered" is switched on
    # When the carrier reports it delivered, and that update comes twice
    delivered = event_bytes("shopify/orders_updated_delivered.json")
    stage.send(ws, "shopify", "orders/updated", delivered, delivery_id="d-1")
    stage.send(ws, "shopify", "orders/updated", delivered, delivery_id="d-2")
    stage.drain()
    # Then one "delivered" email went out
    assert [e["Subject"] for e in sent_emails(stage)] == ["Your order #1001 was delivered"]


def test_kinds_that_are_switched_off_send_nothing(stage, notifying):
    ws = notifying
    stage.container.workspaces.set_messaging(ws.workspace_id, [], None, None)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    assert sent_emails(stage) == []


def test_a_suppressed_address_gets_no_notification(stage, notifying):
    from chalicelib.adapters.messaging import DynamoLimits

    ws = notifying
    DynamoLimits(stage.container.crm).suppress(ws.workspace_id, "email", "jane.doe@example.com", "bounce")
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    assert sent_emails(stage) == []


def test_a_notification_that_failed_every_retry_is_redriven_once(stage, notifying, monkeypatch):
    from patron import operations

    ws = notifying
    channels = stage.container.messaging.channels
    real = channels.send_email

    def rejected(*args, **kwargs):
        raise RuntimeError("SES unavailable")

    # Given SES failing for longer than the stream retries last
    monkeypatch.setattr(channels, "send_email", rejected)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    sqs, streams = stage.client("sqs"), stage.client("dynamodbstreams")
    queue = stage.info.stream_failure_queue_url
    (failure,) = operations.stream_failures(sqs, queue)
    assert failure["requestContext"]["functionArn"].endswith("ingest_stream")
    assert sent_emails(stage) == []
    # When SES is back and the failure queue is redriven, twice
    monkeypatch.setattr(channels, "send_email", real)
    first = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    second = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    # Then the confirmation went out exactly once and the queue is empty
    assert (first["applied"], first["failed"], second["messages"]) == (1, 0, 0)
    assert [e["Subject"] for e in sent_emails(stage)] == ["Thank you for your order #1001"]


def test_a_throttled_confirmation_waits_for_the_minute_job_and_holds_back_no_profile(
    stage, notifying, monkeypatch
):
    from botocore.exceptions import ClientError

    from chalicelib.handlers import jobs
    from patron.poller import LambdaContext
    from tests.conftest import load_event

    ws = notifying
    ses = stage.container.messaging.channels.ses
    real = ses.send_raw_email

    def throttled(**kwargs):
        error = {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}
        raise ClientError(error, "SendRawEmail")

    # Given SES throttling every send
    monkeypatch.setattr(ses, "send_raw_email", throttled)
    # When Jane's order comes, and the stream is drained
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then her profile is there and nothing failed: the confirmation is held, not retried
    (found,) = json.loads(stage.get(ws, "/customers?email=jane.doe@example.com").body)["customers"]
    assert found["orders_count"] == 1
    assert stage.failures == [] and sent_emails(stage) == []
    # When the minute job runs while SES still throttles, then once it takes mail, then again
    tick = load_event("eventbridge/scheduled_event.json")
    still = jobs.flow_tick(tick, LambdaContext("flow_tick"))["held_notifications"]
    monkeypatch.setattr(ses, "send_raw_email", real)
    sent = jobs.flow_tick(tick, LambdaContext("flow_tick"))["held_notifications"]
    after = jobs.flow_tick(tick, LambdaContext("flow_tick"))["held_notifications"]
    # Then the confirmation went out once, on the run after SES came back
    assert (still["still_held"], sent["sent"], after["released"]) == (1, 1, 0)
    assert [e["Subject"] for e in sent_emails(stage)] == ["Thank you for your order #1001"]


def ses_event(fixture: str, workspace_id: str, customer_id: str, key: str, variant: str = "b") -> dict:
    """An SQS batch of one SES event (as the SNS subscription delivers it), from a fixture."""
    from chalicelib.domain.messaging.feedback import key_tag

    body = (
        event_bytes(f"ses/{fixture}")
        .decode()
        .replace("WS_PLACEHOLDER", workspace_id)
        .replace("CUSTOMER_PLACEHOLDER", customer_id)
        .replace("MK_PLACEHOLDER", key_tag(key))
        .replace("V_PLACEHOLDER", variant)
    )
    return {
        "Records": [
            {
                "messageId": "c5d1d0e2-0000-4000-8000-000000000001",
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:patron-test-ses-events",
                "awsRegion": "us-east-1",
            }
        ]
    }


@pytest.mark.parametrize(
    ("fixture", "suppressed"),
    [("bounce_permanent.json", True), ("complaint.json", True), ("bounce_transient.json", False)],
)
def test_hard_bounces_and_complaints_suppress_the_address_for_the_next_message(
    stage, notifying, fixture, suppressed
):
    from chalicelib.domain.identity import customer_id_for
    from chalicelib.handlers import streams
    from patron.poller import LambdaContext

    ws = notifying
    # Given Jane's order confirmation went out
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    ledger = stage.container.messaging.ledger
    settings = stage.container.workspaces.settings(ws.workspace_id)
    customer = customer_id_for(settings.id_salt, "email:jane.doe@example.com")
    (entry,) = ledger.entries(ws.workspace_id, customer)
    # When SES reports a bounce or complaint for it
    result = streams.ses_events(
        ses_event(fixture, ws.workspace_id, customer, entry["sk"]), LambdaContext("ses")
    )
    # Then the batch succeeded, the event is on the claim, and the address is (or is not) suppressed
    assert result == {"batchItemFailures": []}
    (entry,) = ledger.entries(ws.workspace_id, customer)
    assert any(k.startswith("ev_") for k in entry)
    limits = stage.container.messaging.limits
    assert limits.is_suppressed(ws.workspace_id, "email", "Jane.Doe@example.com") is suppressed
    # And the shipping notice that follows is sent only if the address is not suppressed
    stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    stage.drain()
    assert len(sent_emails(stage)) == (1 if suppressed else 2)


def test_a_malformed_ses_event_fails_only_its_record(stage, notifying):
    from chalicelib.handlers import streams
    from patron.poller import LambdaContext

    batch = ses_event("bounce_transient.json", notifying.workspace_id, "c_x", "k")
    bad = dict(batch["Records"][0], messageId="c5d1d0e2-0000-4000-8000-000000000002", body='{"Message": "{"}')
    batch["Records"].append(bad)
    result = streams.ses_events(batch, LambdaContext("ses"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "c5d1d0e2-0000-4000-8000-000000000002"}]}


def sent_sms(stage) -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID][stage.region].sms_messages.values())


def phone_only_order(phone: str) -> bytes:
    """The Shopify fixture with the email taken out: the customer is reachable by SMS only."""
    body = json.loads(event_bytes("shopify/orders_create.json"))
    for holder in (body, body["customer"]):
        for key in ("email", "contact_email"):
            holder.pop(key, None)
        holder["phone"] = phone
    body["billing_address"]["phone"] = phone
    return json.dumps(body).encode()


@pytest.mark.parametrize(("phone", "sent"), [("+12125550147", True), ("+12125550199", False)])
def test_a_customer_without_email_gets_an_sms_unless_the_number_replied_stop(stage, notifying, phone, sent):
    ws = notifying
    # Given a 50-SMS trial balance, an order from a customer known by phone only
    stage.send(ws, "shopify", "orders/create", phone_only_order(phone))
    stage.drain()
    # Then the confirmation went by SMS (moto lists numbers ending in 99 as opted out: STOP)
    messages = sent_sms(stage)
    if sent:
        ((to, text),) = messages
        assert to == phone and text == "Demo Brand: we have your order #1001."
    else:
        assert messages == []
    credits = stage.container.workspaces.workspace(ws.workspace_id)["smsc"]
    assert credits == (49 if sent else 50)
