"""Every AWS call a function makes is in its role: the calls are recorded while the real
handlers run against moto (which does not enforce IAM), then read against the function's
grants in infra/permissions.json (what `patron.iam` turns into its role)."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from chalicelib.container import Container, set_container
from chalicelib.handlers import streams, webhooks
from patron import iam
from patron.bench.campaign import START, bulk_destinations, customer, prepare, put_customers
from patron.harness import Harness, Workspace
from patron.poller import LambdaContext
from tests.cli_runs import run
from tests.conftest import event_bytes, load_event, relative_to
from tests.integration.test_campaigns import create, post
from tests.integration.test_consent import stop_list
from tests.integration.test_function_url import signed
from tests.integration.test_notifications import SENDER, ses_event
from tests.integration.test_scheduled_jobs import welcome_due

PERMISSIONS = json.loads(iam.PERMISSIONS.read_text())


TABLES = {"IngestTable": "ingest", "CrmTable": "crm"}  # logical name -> the stage's table, below


def granted(function: str, tables: dict[str, str]) -> set[tuple[str, str]]:
    """What a function's role allows (its named grants): (IAM action, table) for DynamoDB,
    (IAM action, "*") for the rest (those resources are checked by test_least_privilege)."""
    allowed = set()
    for grant in PERMISSIONS["functions"][function]["grants"]:
        spec = PERMISSIONS["grants"][grant]
        for action in spec["Action"]:
            if not action.startswith("dynamodb:"):
                allowed.add((action, "*"))
                continue
            for resource in spec["Resource"]:
                logical = resource.split("}")[0].removeprefix("${").removesuffix(".Arn")
                suffix = resource.split("}", 1)[1]
                if not suffix.startswith("/stream"):  # stream reads name the stream, not the table
                    allowed.add((action, tables[logical]))
    return allowed


# SQS authorizes a batch call as its single-message action
BATCHES = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# TransactWriteItems is authorized item by item, as the item's own action
TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


class Calls:
    """AWS calls by the function they were made for (`now`), as (IAM action, table)."""

    def __init__(self) -> None:
        self.now = ""
        self.made: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def install(self, session: Any) -> None:
        session.events.register("before-parameter-build", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model
        prefix = service.signing_name or service.endpoint_prefix
        made = self.made[self.now]
        if model.name in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
            return  # the local poller's: in a region the event source mapping reads the stream
        if prefix != "dynamodb":
            action = f"{prefix}:{model.name}"
            made.add((BATCHES.get(action, action), "*"))
        elif model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, body),) = action.items()
                made.add((f"dynamodb:{TRANSACT[kind]}", body["TableName"]))
        elif model.name in ("BatchGetItem", "BatchWriteItem"):
            made.update((f"dynamodb:{model.name}", table) for table in params["RequestItems"])
        else:
            made.add((f"dynamodb:{model.name}", params["TableName"]))


def recording(stage: Harness) -> Calls:
    """A recorder on the stage's session, and the stage's clients made again after it."""
    calls = Calls()
    calls.install(stage.session)
    stage.container = Container(stage.settings, session=stage.session)
    set_container(stage.container)
    stage.poller = stage.new_poller()
    stage.profile_poller = stage.new_profile_poller()
    stage.campaign_poller = stage.new_campaign_poller()
    return calls


def assert_granted(stage: Harness, calls: Calls, *functions: str) -> None:
    tables = {logical: getattr(stage.settings, f"{name}_table") for logical, name in TABLES.items()}
    for function in functions:
        allowed = granted(function, tables)
        assert calls.made[function], function
        assert calls.made[function] <= allowed, (function, calls.made[function] - allowed)


def fresh_order(now: datetime) -> tuple[bytes, bytes]:
    """The Function URL fixture's order and its payment, placed minutes before `now`
    (notifications are for orders under 48 hours old)."""
    event = load_event("function_url/shopify_orders_create.json")
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    created, paid = relative_to(now, json.loads(raw), load_event("shopify/orders_updated_paid.json"))
    return json.dumps(created).encode(), json.dumps(paid).encode()


def test_the_webhook_and_ingest_functions_call_only_what_their_roles_grant(
    frozen_now: datetime, stage: Harness, ws: Workspace
):
    # Given an order placed minutes ago, and its payment
    created, paid = fresh_order(frozen_now)
    # and notifications on (so the ingest consumer sends), and every call recorded from
    # clients made after the recorder is in place
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, ["order_confirmation", "shipped"], SENDER, None)
    calls = recording(stage)
    # When an order comes through the Function URL twice (new, then a repeat)
    calls.now = "WebhookUrl"
    event = signed(ws, "shopify_orders_create.json", created)
    for _ in range(2):
        assert webhooks.webhook_url(event, None)["statusCode"] == 200
    # and its fulfilment through the API Gateway route
    calls.now = "APIHandler"
    stage.send(ws, "shopify", "orders/updated", paid)
    # and the ingest stream's consumer takes both
    calls.now = "IngestStream"
    assert stage.poller.drain() >= 2
    # and the CRM stream's consumer takes the profile the order made
    calls.now = "ProfileStream"
    assert stage.profile_poller is not None and stage.profile_poller.drain() >= 1
    # Then each function made calls, and its role grants every one of them, on that table
    ingest = stage.settings.ingest_table
    assert {("dynamodb:GetItem", ingest), ("dynamodb:UpdateItem", ingest)} <= calls.made["WebhookUrl"]
    assert {a for a, _ in calls.made["IngestStream"]} & {"ses:SendEmail", "ses:SendRawEmail"}
    assert_granted(stage, calls, "WebhookUrl", "APIHandler", "IngestStream", "ProfileStream")


def test_the_campaign_and_ses_event_functions_call_only_what_their_roles_grant(stage: Harness, ws: Workspace):
    # Given subscribed customers and a started campaign, every call recorded
    stage.container.settings.public_url = "https://patron.example/api"
    prepare(stage, ws.workspace_id)
    people = [customer(n) for n in range(3)]
    put_customers(stage, ws.workspace_id, people)
    calls = recording(stage)
    campaigns = stage.container.campaigns
    campaigns.clock = lambda: START
    campaigns.rate = lambda: 100.0
    calls.now = "APIHandler"
    campaign_id = create(stage, ws)
    assert post(stage, ws, f"/campaigns/{campaign_id}/start").status_code == 200
    assert stage.get(ws, "/ops/health").status_code == 200  # the dead-letter queues' depths
    # When the minute dispatcher runs, the sender takes the queue, and SES reports a delivery
    calls.now = "CampaignDispatch"
    campaigns.dispatch()
    calls.now = "CampaignSender"
    assert stage.drain_campaigns() >= 1
    sent = bulk_destinations(stage)
    assert sorted(d["to"] for d in sent) == sorted(p["e"] for p in people)
    calls.now = "SesEvents"
    first = people[0]
    batch = ses_event("delivery.json", ws.workspace_id, first["cid"], f"camp:{campaign_id}", "a")
    assert streams.ses_events(batch, LambdaContext("ses_events")) == {"batchItemFailures": []}
    # Then each function's calls are all in its role
    assert {a for a, _ in calls.made["CampaignSender"]} & {"ses:SendBulkTemplatedEmail", "ses:SendBulkEmail"}
    assert_granted(stage, calls, "APIHandler", "CampaignDispatch", "CampaignSender", "SesEvents")


def test_the_scheduled_jobs_call_only_what_their_roles_grant(stage: Harness, ws: Workspace):
    from chalicelib.handlers import jobs

    # Given a subscribed customer's first order, the welcome flow without its wait, a
    # quarantined delivery and a new segment to fill
    welcome_due(stage, ws)
    stage.send(ws, "shopify", "orders/create", b'{"id": "not an order"}')
    segment = {"name": "Big spenders", "definition": "total_spent >= 100"}
    assert post(stage, ws, "/segments", segment).status_code == 201
    calls = recording(stage)
    # (and a notification held while SES throttled: the flow tick sends those too)
    stage.container.ingest_pipeline.later.hold(ws.workspace_id, f"W#{ws.workspace_id}#O#held", START)
    # (and the customer's number on SNS's STOP list: the STOP sync opts her out)
    stop_list(stage).append("+12125550147")
    scheduled = load_event("eventbridge/scheduled_event.json")
    # When each job runs on its scheduled event
    for function, job in (
        ("FlowTick", jobs.flow_tick),
        ("QuarantineReport", jobs.quarantine_report),
        ("SegmentBackfill", jobs.segment_backfill),
        ("SegmentRecheck", jobs.segment_recheck),
        ("NightlyScores", jobs.nightly_scores),
        ("SmsStopSync", jobs.sms_stop_sync),
        ("CsatTick", jobs.csat_tick),
        ("TiersEvaluate", jobs.tiers_evaluate),
        ("PointsExpire", jobs.points_expire),
    ):
        calls.now = function
        job(scheduled, LambdaContext(function))
    # Then each one's calls are all in its role (the flow tick read the held order's item)
    # and the STOP sync read the list and withdrew her consent
    assert ("dynamodb:BatchGetItem", stage.settings.ingest_table) in calls.made["FlowTick"]
    crm = stage.settings.crm_table
    assert {("sns:ListPhoneNumbersOptedOut", "*"), ("dynamodb:UpdateItem", crm)} <= calls.made["SmsStopSync"]
    assert_granted(
        stage,
        calls,
        "FlowTick",
        "QuarantineReport",
        "SegmentBackfill",
        "SegmentRecheck",
        "NightlyScores",
        "SmsStopSync",
        "CsatTick",
        "TiersEvaluate",
        "PointsExpire",
    )


def test_an_erasure_calls_only_what_the_roles_grant(stage: Harness, ws: Workspace):
    # Given Jane's order with email consent, so that an audience export holds her
    order = load_event("shopify/orders_create.json")
    order["customer"]["email_marketing_consent"] = {
        "state": "subscribed",
        "consent_updated_at": "2026-11-20T10:06:51-05:00",
    }
    stage.send(ws, "shopify", "orders/create", json.dumps(order).encode())
    stage.drain()
    segment = json.loads(
        post(stage, ws, "/segments", {"name": "All", "definition": "orders_count >= 0"}).body
    )
    assert stage.container.audience.export(ws.workspace_id, segment["segment_id"]).rows == 1
    customer = stage.container.profile_store.find(
        ws.workspace_id,
        stage.container.workspaces.settings(ws.workspace_id).id_salt,
        ["email:jane.doe@example.com"],
    )[0]["cid"]
    calls = recording(stage)
    # When a delivery naming her is quarantined through the Function URL (the person index)
    calls.now = "WebhookUrl"
    rejected = json.dumps(order | {"id": 1, "total_price": "twelve"}).encode()
    assert webhooks.webhook_url(signed(ws, "shopify_orders_create.json", rejected), None)["statusCode"] == 400
    # and she is erased through the API, and the ingest stream carries it out
    calls.now = "APIHandler"
    auth = {"Authorization": f"Bearer {ws.api_key}"}
    assert stage.http.http.delete(f"/customers/{customer}", headers=auth).status_code == 202
    calls.now = "IngestStream"
    assert stage.poller.drain() >= 1
    # Then the export was rewritten by the stream, and every call is in its function's role
    assert {("s3:GetObject", "*"), ("s3:PutObject", "*")} <= calls.made["IngestStream"]
    assert ("dynamodb:BatchWriteItem", stage.settings.crm_table) in calls.made["WebhookUrl"]
    assert_granted(stage, calls, "WebhookUrl", "APIHandler", "IngestStream")


def test_a_source_erasure_calls_only_what_the_roles_grant(stage: Harness, ws: Workspace, cli_on: Harness):
    # Given a Shopify source connected to its store's Admin API, with a product and an order
    source_id = ws.sources["shopify"]["source_id"]
    connected = run(
        "source", "connect", "-w", ws.workspace_id, source_id, "--access-token", "shpat_grant_0123"
    )
    assert connected.exit_code == 0, connected.stderr
    stage.send(ws, "shopify", "products/update", event_bytes("shopify/products_update.json"))
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    calls = recording(stage)
    # When the shop sends shop/redact through the API Gateway route, and the ingest stream
    # carries the erasure out (catalogue and Admin API secret included)
    calls.now = "APIHandler"
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    calls.now = "IngestStream"
    while stage.poller.drain():
        pass
    # Then the stream deleted the secret and the products, and every call is in its role
    assert ("secretsmanager:DeleteSecret", "*") in calls.made["IngestStream"]
    assert stage.container.source_erasure.status(ws.workspace_id, source_id)["removed"]["products"] == 1
    assert_granted(stage, calls, "APIHandler", "IngestStream")


def test_the_sla_check_calls_only_what_its_role_grants(stage: Harness, ws: Workspace):
    from datetime import UTC, timedelta

    from chalicelib.domain.service.calendar import BusinessCalendar, Interval
    from chalicelib.domain.service.sla import SlaTargets
    from chalicelib.domain.service.sla_settings import SlaPolicyIn, SlaSettingsIn
    from chalicelib.domain.service.views import TicketIn
    from chalicelib.handlers import jobs
    from tests.integration.test_consent import jane_order

    # Given a desk open around the clock whose tickets are answered within a minute, and a
    # ticket opened two hours ago (so the check finds a breach whenever it runs)
    stage.send(ws, "shopify", "orders/create", jane_order())
    stage.drain()
    always = {
        day: [Interval(start="00:00", end="24:00")]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    fast = SlaSettingsIn(
        calendar=BusinessCalendar(zone="UTC", week=always),
        policies=[SlaPolicyIn(id="fast", targets=SlaTargets(first_reply=1))],
    )
    stage.container.sla_settings.replace(ws.workspace_id, fast, 0, "cli")
    body = TicketIn(email="jane.doe@example.com", subject="Late", kind="order_issue")
    stage.container.tickets.create(ws.workspace_id, body, "cli", datetime.now(UTC) - timedelta(hours=2))
    calls = recording(stage)
    # When the check runs on its scheduled event
    calls.now = "SlaCheck"
    result = jobs.sla_check(load_event("eventbridge/scheduled_event.json"), LambdaContext("SlaCheck"))
    # Then it published the breach, and every call it made is in its role
    assert result["alerts"] == 1
    assert ("sns:Publish", "*") in calls.made["SlaCheck"]
    assert_granted(stage, calls, "SlaCheck")
