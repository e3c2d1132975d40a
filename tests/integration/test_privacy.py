"""Shopify's mandatory privacy topics, end to end through the stream."""

from __future__ import annotations

import json

from tests.conftest import event_bytes

JANE = "jane.doe@example.com"


def test_customers_redact_erases_the_profile_and_the_person_on_orders(stage, ws):
    # Given Jane's order, her customer record and a second identity (a POS order by phone)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "customers/create", event_bytes("shopify/customers_create.json"))
    stage.send(ws, "generic", "customer", event_bytes("generic/customer.json"))
    stage.drain()
    (profile,) = json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"]
    # When Shopify asks to redact her
    response = stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    stage.drain()  # the redaction's own stream records (orders without a person) settle
    # Then no profile, pointer or person remains, and the audit holds counts only
    assert json.loads(response.body)["status"] == "stored"
    assert json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"] == []
    assert stage.get(ws, f"/customers/{profile['customer_id']}").status_code == 404
    items = stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]
    orders_and_customers = [i for i in items if i["t"]["S"] in ("order", "customer")]
    assert orders_and_customers and all("p" not in i for i in orders_and_customers)
    crm = json.dumps(stage.client("dynamodb").scan(TableName=stage.info.crm_table)["Items"])
    assert JANE not in crm and "+12125550147" not in crm
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    assert audit["state"] == "erased" and audit["profiles_found"] == 1
    assert audit["records_redacted"] >= 2


def test_data_request_exports_the_profile_and_its_orders(stage, ws):
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    stage.send(ws, "shopify", "customers/data_request", event_bytes("shopify/customers_data_request.json"))
    stage.drain()
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    export = stage.container.privacy_store.export(ws.workspace_id, "3948172")
    assert audit["state"] == "export_ready"
    assert [c["email"] for c in export["customers"]] == [JANE]
    assert export["customers"][0]["timeline"][0]["type"] == "order_placed"
    assert [o["total"] for o in export["orders"]] == ["122.00"]


def test_redelivered_redact_is_harmless_and_a_later_order_starts_afresh(stage, ws):
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    stage.poller = stage.new_poller(duplicate_deliveries=True)
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    assert json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"] == []
    assert stage.failures == []


def test_shop_redact_is_carried_out_and_audited(stage, ws):
    # (what it erases: tests/integration/test_source_erasure.py)
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    assert audit["request"] == "shop_redact" and audit["state"] == "source_erased"


def test_redact_erases_the_older_orders_moved_out_of_the_profile(stage, ws):
    # Given Jane's 12 orders: more than a profile keeps, so the older ones have their own items
    from chalicelib.domain.profiles import RECENT_ORDERS

    template = json.loads(event_bytes("shopify/orders_create.json"))
    for n in range(12):
        placed = f"2026-10-{n + 1:02d}T10:00:00-04:00"
        body = template | {"id": 9_100_000 + n, "created_at": placed, "updated_at": placed}
        stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    (profile,) = json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"]
    detail = json.loads(stage.get(ws, f"/customers/{profile['customer_id']}").body)
    placed_events = [e for e in detail["timeline"] if e["type"] == "order_placed"]
    assert profile["orders_count"] == 12 and len(placed_events) == 12
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-09-01&to=2026-11-01").body)
    assert (report["kpis"]["orders"], report["kpis"]["revenue"]) == (12, "1464.00")  # 12 x 122.00
    dynamodb = stage.client("dynamodb")
    entries = [
        i
        for i in dynamodb.scan(TableName=stage.info.crm_table)["Items"]
        if i.get("t", {}).get("S") == "entry"
    ]
    assert len(entries) == 12 - RECENT_ORDERS
    # When Shopify asks to redact her
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    stage.drain()
    # Then the moved order entries went with the profile, and every order lost the person
    crm = dynamodb.scan(TableName=stage.info.crm_table)["Items"]
    assert [i for i in crm if i.get("t", {}).get("S") in ("entry", "profile")] == []
    orders = [
        i
        for i in dynamodb.scan(TableName=stage.info.ingest_table)["Items"]
        if i.get("t", {}).get("S") == "order"
    ]
    assert len(orders) == 12 and all("p" not in i for i in orders)
