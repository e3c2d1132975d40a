"""One person through every feature, then erased: no table, index, bucket or queue of the
embedded AWS holds their email, phone, name or address afterwards, and the anonymous totals
still add up."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.identity import customer_id_for
from tests.conftest import event_bytes, load_event
from tests.integration.test_engagement import NO_QUIET_HOURS, deliver
from tests.integration.test_flows import CHECKOUT_AT, flows_ws  # noqa: F401 (a fixture)
from tests.integration.test_notifications import SENDER

SPRING = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
EMAIL = "jane.doe@example.com"
PHONE = "+12125550147"
JANES = Decimal("122.00") + Decimal("64.00")  # her Shopify and point-of-sale orders


def _digits(number: str) -> str:
    """The phone's national digits with any separators between them: `212-555-0147`,
    `(212) 555 0147`, `2125550147`."""
    return r"[\s\-().]*".join(number)


FORBIDDEN = {
    "email": re.compile(re.escape(EMAIL), re.I),
    "phone": re.compile(_digits("2125550147")),
    "first name": re.compile(r"\bJane\b"),
    "last name": re.compile(r"\bDoe\b"),
    "address": re.compile(r"418 Maple Ridge|Apt 3B|Ann Arbor|(?<![0-9A-Za-z])48104(?![0-9A-Za-z])", re.I),
    "email hash": re.compile(hashlib.sha256(EMAIL.encode()).hexdigest()),
    "phone hash": re.compile(hashlib.sha256(PHONE.encode()).hexdigest()),
}


def _text(value: Any) -> str:
    """Everything an item or object holds, as text: binary values gunzipped when they are gzip."""
    if isinstance(value, bytes):
        if value[:2] == b"\x1f\x8b":
            value = gzip.decompress(value)
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return " ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return " ".join(_text(v) for v in value)
    return str(value)


def _scan_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def everything_stored(stage) -> dict[str, str]:
    """Every item of every table and index, every object of every bucket (gunzipped), every
    message left on every queue of the embedded AWS: where -> text."""
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    found: dict[str, str] = {}
    ddb = stage.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        described = ddb.describe_table(TableName=table)["Table"]
        indexes = [i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])]
        for index in [None, *indexes]:
            kwargs = {"TableName": table} | ({"IndexName": index} if index else {})
            for n, item in enumerate(_scan_all(ddb, **kwargs)):
                value = {k: plain.deserialize(v) for k, v in item.items()}
                place = f"{table}/{index}" if index else table
                where = f"dynamodb {place} {value.get('pk')} {value.get('sk', '')} #{n}"
                found[where] = _text({k: v.value if hasattr(v, "value") else v for k, v in value.items()})
    s3 = stage.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
            found[f"s3 {bucket['Name']}/{obj['Key']}"] = obj["Key"] + " " + _text(body)
    sqs = stage.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        handles = []
        while True:  # each message once: received ones stay invisible until the queue is read
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            if not messages.get("Messages"):
                break
            for m in messages["Messages"]:
                found[f"sqs {url} {m['MessageId']}"] = m["Body"]
                handles.append(m["ReceiptHandle"])
        for handle in handles:  # then visible again, for the next scan
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return found


def leaks(stage) -> list[str]:
    return [
        f"{what} in {where}"
        for where, text in everything_stored(stage).items()
        for what, pattern in FORBIDDEN.items()
        if pattern.search(text)
    ]


def _post(stage, ws, path: str, body: dict[str, Any]) -> Any:
    return stage.http.http.post(
        path,
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )


def jane_everywhere(stage, ws) -> str:
    """Jane: an abandoned checkout (a guest flow run, its reminder and coupon), an order on the
    Shopify store, a rejected delivery kept in the quarantine, a campaign email and its click,
    an attributed order on the point of sale (the generic source), segments, an audience
    export and a data-request export. Lena, on the WooCommerce store, stays. Returns Jane's id."""
    settings = stage.container.workspaces.settings(ws.workspace_id)
    jane = customer_id_for(settings.id_salt, f"email:{EMAIL}")
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.send(ws, "shopify", "checkouts/create", event_bytes("shopify/checkouts_create.json"))
    stage.drain()
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=5))  # the reminder, with a coupon
    order = load_event("shopify/orders_create.json")
    order["customer"]["email_marketing_consent"] = {
        "state": "subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": "2026-11-20T10:06:51-05:00",
    }
    stage.send(ws, "shopify", "orders/create", json.dumps(order).encode())
    rejected = load_event("shopify/orders_create.json") | {"id": 5829104638999, "total_price": "twelve"}
    assert stage.send(ws, "shopify", "orders/create", json.dumps(rejected).encode()).status_code == 400
    stage.drain()
    stage.http.http.put(
        "/templates/news",
        body=json.dumps({"name": "News", "subject": "News", "text": "Hello {{ first_name }}"}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    from chalicelib.domain.messaging.model import Channel, Outgoing, Purpose

    message = Outgoing(ws.workspace_id, jane, "camp:spring", Channel.EMAIL, Purpose.MARKETING, "news")
    profile = stage.container.profile_store.load(ws.workspace_id, jane)
    uncapped = replace(NO_QUIET_HOURS, daily_caps={"high": 9, "medium": 9, "low": 9}, low_every_days=0)
    assert stage.container.messaging.send(message, profile, uncapped, SPRING).status == "sent"
    deliver(stage, ws, jane, "delivery.json", "open.json", "click.json")
    stage.send(ws, "generic", "order", event_bytes("generic/order.json"))  # the next day: attributed
    stage.drain()
    everyone = {"name": "All", "definition": "orders_count >= 0"}
    segment = json.loads(_post(stage, ws, "/segments", everyone).body)
    stage.drain()
    export = stage.container.audience.export(ws.workspace_id, segment["segment_id"])
    assert export.rows == 1  # Jane: Lena gave no consent
    stage.send(ws, "shopify", "customers/data_request", event_bytes("shopify/customers_data_request.json"))
    stage.drain()
    return jane


def jane_ids(stage, ws) -> set[str]:
    """Every customer id Jane's identities give (her profile's, a guest's, a merged one's)."""
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    keys = [
        f"email:{EMAIL}",
        f"phone:{PHONE}",
        "ext:shopify:{shopify}:7204518390331",
        "ext:generic:{generic}:loyalty-88121",
    ]
    keys = [
        k.format(shopify=ws.sources["shopify"]["source_id"], generic=ws.sources["generic"]["source_id"])
        for k in keys
    ]
    return {customer_id_for(salt, k) for k in keys}


# What may still name an erased customer id (pseudonymous, no personal data): the membership
# bookkeeping item, the segment.exited events the erasure published for consumers, and the
# erasure marks (`X`, a time only) that keep data made before the erasure from coming back.
BOOKKEEPING = re.compile(r"#PM#c_\w+ M #|/patron-test-segment-events |#P#c_\w+ X #")


def linked(stage, ws) -> list[str]:
    """Where Jane's customer ids still are: claims, coupons, attributions, flow runs..."""
    ids = jane_ids(stage, ws)
    return [
        where
        for where, text in everything_stored(stage).items()
        if any(i in text or i in where for i in ids) and not BOOKKEEPING.search(where)
    ]


def totals(stage, ws) -> dict[str, Any]:
    stats = stage.container.messaging_stats.report(ws.workspace_id).scopes
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-11-01&to=2026-12-01").body)
    return {
        "stats": sorted((s.model_dump()["scope"], s.sent, s.clicked, s.orders, s.revenue) for s in stats),
        "orders": report["kpis"]["orders"],
        "revenue": report["kpis"]["revenue"],
    }


def assert_gone_and_totals_add_up(stage, ws, before) -> None:
    """No store holds Jane, nothing links to her ids, and the anonymous totals add up: the
    report without her two orders (Lena's is in euros, without a rate), the statistics
    (sent, clicked, attributed revenue) unchanged."""
    left = leaks(stage)
    assert not left, "\n" + "\n".join(left)
    assert linked(stage, ws) == []
    after = totals(stage, ws)
    assert (after["orders"], Decimal(after["revenue"])) == (
        before["orders"] - 2,
        Decimal(before["revenue"]) - JANES,
    )
    assert after["stats"] == before["stats"]


@pytest.fixture
def journey(stage, flows_ws):  # noqa: F811
    ws = flows_ws
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    jane = jane_everywhere(stage, ws)
    before = totals(stage, ws)
    # (the journey reached every kind: otherwise the scan below proves nothing)
    assert len(leaks(stage)) > 10 and before["orders"] == 3
    places = {where.split(" ", 1)[0] for where in everything_stored(stage)}
    assert places == {"dynamodb", "s3", "sqs"}  # the scan reads every kind of store there is
    reached = " ".join(linked(stage, ws))
    assert all(f"#{kind}" in reached for kind in ("MSG#", "CPN", "ATTR", "FR#", "ENG#", "SEGM#"))
    assert [s[2:] for s in before["stats"] if s[0] == "camp#spring"] == [(1, 1, "64.00")]
    return ws, jane, before


def test_erase_on_demand_leaves_no_trace_of_the_person_anywhere(stage, journey):
    ws, jane, before = journey
    # When the operator erases Jane through the API
    response = stage.http.http.delete(f"/customers/{jane}", headers={"Authorization": f"Bearer {ws.api_key}"})
    stage.drain()
    stage.drain()
    # Then it was accepted as a request, nothing anywhere holds her, and the totals add up
    assert response.status_code == 202
    request_id = json.loads(response.body)["request_id"]
    assert_gone_and_totals_add_up(stage, ws, before)
    # And the audit counts what went, kind by kind, with no personal data
    (audit,) = [r for r in stage.container.privacy_store.requests(ws.workspace_id) if r["rid"] == request_id]
    assert audit["state"] == "erased" and not [w for w, p in FORBIDDEN.items() if p.search(json.dumps(audit))]


def test_customers_redact_leaves_no_trace_of_the_person_anywhere(stage, journey):
    ws, _, before = journey
    # When Shopify asks to redact Jane
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    stage.drain()
    # Then nothing anywhere holds her, and the totals add up
    assert_gone_and_totals_add_up(stage, ws, before)
