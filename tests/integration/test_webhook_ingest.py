"""Webhook ingest through the real Chalice app on moto: signatures, duplicates, staleness,
quarantine."""

from __future__ import annotations

import json

from chalicelib.domain.signatures import sign
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes, load_event
from tests.integration.conftest import SHOP


def scan(stage: Harness, table: str) -> list[dict]:
    return stage.client("dynamodb").scan(TableName=table)["Items"]


def customers(stage: Harness, ws: Workspace, email: str) -> list[dict]:
    response = stage.get(ws, f"/customers?email={email}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)["customers"]


def test_signed_shopify_order_becomes_a_profile_with_the_right_totals(stage, ws):
    # Given a real Shopify orders/create body signed with the shop's secret
    body = event_bytes("shopify/orders_create.json")
    # When it is delivered and the stream is processed
    response = stage.send(ws, "shopify", "orders/create", body)
    stage.drain()
    # Then the order is stored and the customer is found by normalized email
    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "stored"
    (profile,) = customers(stage, ws, "JANE.DOE@example.com")
    assert profile["orders_count"] == 1
    assert profile["total_spent"] == "122.00"
    assert profile["total_refunded"] == "0.00"
    assert profile["currency"] == "USD"
    assert profile["is_member"] is True
    assert profile["first_order_at"] == "2026-11-20T15:15:30.000000Z"
    assert profile["email_consent"]["state"] == "subscribed"
    assert profile["phone"] == "+12125550147"
    assert profile["sources"] == [ws.sources["shopify"]["source_id"]]


def test_duplicate_delivery_changes_nothing(stage, ws):
    # Given an order delivered once
    body = event_bytes("shopify/orders_create.json")
    from patron.storefront import shopify_headers

    headers = shopify_headers(
        SHOP, "orders/create", ws.sources["shopify"]["secret"], body, webhook_id="dup-1"
    )
    first = stage.http.http.post("/webhooks/shopify", headers=headers, body=body)
    stage.drain()
    before = scan(stage, stage.info.ingest_table)
    # When Shopify retries the very same delivery, and sends the same state as orders/paid
    again = stage.http.http.post("/webhooks/shopify", headers=headers, body=body)
    paid = stage.send(ws, "shopify", "orders/paid", body)
    stage.drain()
    # Then both are acknowledged and nothing changed
    assert json.loads(first.body)["status"] == "stored"
    assert json.loads(again.body)["status"] == "duplicate"
    assert json.loads(paid.body)["status"] == "duplicate"
    assert scan(stage, stage.info.ingest_table) == before
    assert customers(stage, ws, "jane.doe@example.com")[0]["orders_count"] == 1


def test_an_older_update_never_overwrites_newer_state(stage, ws):
    # Given the fulfilled version of the order arrived first (out of order)
    newer = stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    # When the older orders/create arrives a day late
    older = stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then the late one is reported stale and the order stays fulfilled
    assert json.loads(newer.body)["status"] == "stored"
    assert json.loads(older.body)["status"] == "stale"
    order_id = ws.sources["shopify"]["source_id"] + ".5829104638011"
    order = json.loads(stage.get(ws, f"/orders/{order_id}").body)
    assert order["status"] == "fulfilled"
    assert order["tracking"] == ["1Z999AA10123456784"]


def test_tampered_or_missing_signature_is_401_and_stores_nothing(stage, ws):
    body = event_bytes("shopify/orders_create.json")
    from patron.storefront import shopify_headers

    headers = shopify_headers(SHOP, "orders/create", ws.sources["shopify"]["secret"], body)
    tampered = body.replace(b'"122.00"', b'"1.00"')
    # When the body is altered after signing, the signature is missing, or the secret is wrong
    r1 = stage.http.http.post("/webhooks/shopify", headers=headers, body=tampered)
    r2 = stage.http.http.post(
        "/webhooks/shopify", body=body, headers={k: v for k, v in headers.items() if "Hmac" not in k}
    )
    r3 = stage.http.http.post(
        "/webhooks/shopify", body=body, headers={**headers, "X-Shopify-Hmac-Sha256": sign("wrong" * 8, body)}
    )
    unknown = stage.http.http.post(
        "/webhooks/shopify", body=body, headers={**headers, "X-Shopify-Shop-Domain": "evil.myshopify.com"}
    )
    # Then every one is 401 and neither the order nor a quarantine entry exists
    assert [r.status_code for r in (r1, r2, r3, unknown)] == [401, 401, 401, 401]
    assert json.loads(r1.body)["details"]["reason"] == "bad_signature"
    assert json.loads(r2.body)["details"]["reason"] == "missing_signature"
    assert json.loads(unknown.body)["details"]["reason"] == "unknown_source"
    assert scan(stage, stage.info.ingest_table) == []
    assert stage.container.quarantine.page(ws.workspace_id)[0] == []


def test_malformed_body_is_400_quarantined_and_replayable(stage, ws):
    # Given a well-signed order whose total is not money
    order = load_event("shopify/orders_create.json")
    order["total_price"] = "twelve"
    del order["created_at"]
    response = stage.send(ws, "shopify", "orders/create", json.dumps(order).encode())
    # Then the caller gets the field errors and the body is kept
    assert response.status_code == 400
    body = json.loads(response.body)
    fields = {e["field"] for e in body["details"]}
    assert {"total_price", "created_at"} <= fields
    assert "twelve" not in response.body.decode()  # values are not echoed back
    (entry,) = stage.container.quarantine.page(ws.workspace_id)[0]
    assert entry["quarantine_id"] == body["quarantine_id"]
    assert entry["headers"]["x-shopify-topic"] == "orders/create"
    assert not any("hmac" in k for k in entry["headers"])
    # When it is replayed with a fixed body
    from patron import operations

    fixed = event_bytes("shopify/orders_create.json")
    result = operations.replay_quarantined(stage.container, ws.workspace_id, body["quarantine_id"], fixed)
    stage.drain()
    # Then the order is in and the entry is marked replayed
    assert result.status == "stored"
    assert customers(stage, ws, "jane.doe@example.com")[0]["total_spent"] == "122.00"
    assert stage.container.quarantine.page(ws.workspace_id)[0][0]["state"] == "replayed"


def test_unknown_topic_is_quarantined(stage, ws):
    response = stage.send(ws, "shopify", "collections/create", b'{"id": 1}')
    assert response.status_code == 400
    assert json.loads(response.body)["details"][0]["field"] == "topic"
    assert len(stage.container.quarantine.page(ws.workspace_id)[0]) == 1


def test_woocommerce_ping_is_acknowledged_and_nothing_stored(stage, ws):
    response = stage.http.http.post(
        "/webhooks/woocommerce",
        body=b"webhook_id=7",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "ping"
    assert scan(stage, stage.info.ingest_table) == []


def test_body_over_the_limit_is_413(stage, ws):
    response = stage.send(ws, "shopify", "orders/create", b"{" + b" " * (300 * 1024) + b"}")
    assert response.status_code == 413


def test_generic_money_must_be_a_string(stage, ws):
    order = load_event("generic/order.json")
    order["total"] = 64.0
    response = stage.send(ws, "generic", "order", json.dumps(order).encode())
    assert response.status_code == 400
    assert json.loads(response.body)["details"][0]["field"] == "total"


def test_two_woocommerce_changes_within_one_second_are_both_kept(stage, ws):
    # Given an order created, then completed within the same second (Woo stamps seconds)
    created = load_event("woocommerce/order_created.json")
    completed = dict(created, status="completed")
    first = stage.send(ws, "woocommerce", "order.created", created)
    second = stage.send(ws, "woocommerce", "order.updated", completed)
    # When the first is redelivered afterwards
    again = stage.send(ws, "woocommerce", "order.created", created)
    # Then the later change is kept, and the late redelivery of the earlier one is stale
    assert [json.loads(r.body)["status"] for r in (first, second, again)] == ["stored", "stored", "stale"]
    order = json.loads(stage.get(ws, f"/orders/{ws.sources['woocommerce']['source_id']}.5127").body)
    assert order["status"] == "fulfilled"


def test_secret_rotation_accepts_both_secrets_until_finished(stage, ws):
    from patron.operations import source_by_id

    source = source_by_id(stage.container, ws.workspace_id, ws.sources["shopify"]["source_id"])
    old = ws.sources["shopify"]["secret"]
    new = "shpss_rotated_secret_000000000001"
    body = event_bytes("shopify/orders_create.json")
    # When a rotation starts, both secrets verify
    stage.container.tenancy.rotate_secret(source, new)
    ws.sources["shopify"]["secret"] = old
    assert stage.send(ws, "shopify", "orders/create", body).status_code == 200
    ws.sources["shopify"]["secret"] = new
    assert stage.send(ws, "shopify", "orders/updated", body).status_code == 200
    # When it is finished, only the new one does
    stage.container.tenancy.finish_rotation(source)
    assert stage.send(ws, "shopify", "orders/paid", body).status_code == 200
    ws.sources["shopify"]["secret"] = old
    assert stage.send(ws, "shopify", "orders/paid", body).status_code == 401
