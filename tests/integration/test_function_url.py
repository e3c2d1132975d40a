"""The default webhook front door: a Lambda Function URL event (payload format 2.0) through
the real `webhook_url` handler to moto, answering as the API Gateway route does."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.domain.signatures import sign
from chalicelib.handlers import webhooks
from patron.harness import Harness, Workspace
from tests.conftest import load_event


def signed(ws: Workspace, relative: str, body: bytes | None = None, **headers: str) -> dict[str, Any]:
    """A Function URL fixture, its body replaced if given, signed now with the source's secret."""
    event = load_event(f"function_url/{relative}")
    if body is not None:
        event["body"], event["isBase64Encoded"] = body.decode(), False
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    event["headers"]["x-shopify-hmac-sha256"] = sign(ws.sources["shopify"]["secret"], raw)
    event["headers"].update(headers)
    return event


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = webhooks.webhook_url(event, None)
    assert set(response) == {"statusCode", "headers", "body"}  # a Function URL response
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def ingest_items(stage: Harness) -> list[dict[str, Any]]:
    return list(stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"])


def test_an_order_through_the_function_url_is_stored_once_and_becomes_a_profile(stage, ws):
    # Given the Function URL event of a Shopify orders/create, signed with the shop's secret
    event = signed(ws, "shopify_orders_create.json")
    # When it is delivered, then delivered again (Shopify's retry of the same webhook id)
    first_status, first, headers = invoke(event)
    again_status, again, _ = invoke(event)
    stage.drain()
    # Then the first is stored, the retry is a duplicate, and one order item exists
    assert (first_status, first["status"]) == (200, "stored")
    assert (again_status, again["status"]) == (200, "duplicate")
    assert headers["Content-Type"] == "application/json"
    orders = [i for i in ingest_items(stage) if i.get("t", {}).get("S") == "order"]
    assert len(orders) == 1
    # and the customer's profile has the order, as through the API Gateway route
    found = stage.get(ws, "/customers?email=jane.doe@example.com")
    (profile,) = json.loads(found.body)["customers"]
    assert profile["orders_count"] == 1 and profile["total_spent"] == "122.00"


def test_the_same_delivery_answers_the_same_through_either_front_door(stage, ws):
    # Given one signed delivery, first through the Function URL
    event = signed(ws, "shopify_orders_create.json")
    _, through_url, _ = invoke(event)
    # When the very same bytes and headers come through the API Gateway route
    body = event["body"].encode()
    response = stage.http.http.post("/webhooks/shopify", headers=event["headers"], body=body)
    # Then the route sees the delivery the URL stored: one service, one idempotency key
    assert through_url["status"] == "stored"
    assert response.status_code == 200 and json.loads(response.body)["status"] == "duplicate"
    assert json.loads(response.body)["webhook_id"] == through_url["webhook_id"]


def test_a_bad_signature_is_401_with_its_reason_and_stores_nothing(stage, ws):
    # Given the fixture signed, then its body altered after signing
    event = signed(ws, "shopify_orders_create.json")
    event["body"] = event["body"].replace('"122.00"', '"1.00"')
    unknown = signed(ws, "shopify_orders_create.json", **{"x-shopify-shop-domain": "evil.myshopify.com"})
    # When both are delivered
    status, body, _ = invoke(event)
    unknown_status, unknown_body, _ = invoke(unknown)
    # Then both are 401 with the reason, and nothing is stored or quarantined
    assert (status, body["details"]["reason"]) == (401, "bad_signature")
    assert (unknown_status, unknown_body["details"]["reason"]) == (401, "unknown_source")
    assert ingest_items(stage) == []
    assert stage.container.quarantine.page(ws.workspace_id)[0] == []


def test_a_body_over_the_cap_is_413(stage, ws):
    # Given a signed body one byte over the cap
    cap = stage.container.settings.max_body_bytes
    event = signed(ws, "shopify_orders_create.json", body=b"{" + b" " * cap + b"}")
    # When it is delivered, then it is refused as too large and not stored
    status, body, _ = invoke(event)
    assert (status, body["error"]) == (413, "payload_too_large")
    assert ingest_items(stage) == []


def test_a_malformed_order_is_400_and_quarantined(stage, ws):
    # Given a well-signed order whose total is not money
    order = json.loads(load_event("function_url/shopify_orders_create.json")["body"])
    order["total_price"] = "twelve"
    event = signed(ws, "shopify_orders_create.json", body=json.dumps(order).encode())
    # When it is delivered
    status, body, _ = invoke(event)
    # Then it is 400 with the field named, and kept in quarantine
    assert status == 400 and "total_price" in {e["field"] for e in body["details"]}
    (entry,) = stage.container.quarantine.page(ws.workspace_id)[0]
    assert entry["quarantine_id"] == body["quarantine_id"]


def test_the_woocommerce_ping_is_acknowledged_and_nothing_stored(stage, ws):
    # Given WooCommerce's form-encoded ping, base64-encoded as a Function URL may pass it
    event = load_event("function_url/woocommerce_ping.json")
    # When it is delivered
    status, body, _ = invoke(event)
    # Then it is acknowledged and nothing is stored
    assert (status, body["status"]) == (200, "ping")
    assert ingest_items(stage) == []


def test_other_paths_methods_and_content_types_are_refused_before_any_work(stage, ws):
    # Given the order event sent to an unknown path, with GET, and as XML
    elsewhere = signed(ws, "shopify_orders_create.json")
    elsewhere["rawPath"] = "/admin/customers"
    get = signed(ws, "shopify_orders_create.json")
    get["requestContext"]["http"]["method"] = "GET"
    xml = signed(ws, "shopify_orders_create.json", **{"content-type": "application/xml"})
    # Then they get 404, 405 and 415, as the API Gateway routes would, and nothing is stored
    assert [invoke(e)[0] for e in (elsewhere, get, xml)] == [404, 405, 415]
    assert ingest_items(stage) == []


def test_an_aws_failure_is_raised_so_the_function_url_answers_5xx(stage, ws):
    # Given the ingest table is gone (an AWS failure on the one write)
    stage.client("dynamodb").delete_table(TableName=stage.info.ingest_table)
    event = signed(ws, "shopify_orders_create.json")
    # When the order is delivered, then the failure is raised, not acknowledged: Lambda
    # reports it and the Function URL answers 502, so the storefront retries
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        webhooks.webhook_url(event, None)
    # and the API Gateway route answers the same failure with a 5xx too
    response = stage.http.http.post(
        "/webhooks/shopify", headers=event["headers"], body=event["body"].encode()
    )
    assert response.status_code >= 500
