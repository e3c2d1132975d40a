"""Shopify's mandatory privacy topics, end to end through the stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chalicelib.adapters import records
from chalicelib.adapters.codec import from_item
from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain import timemath
from tests.conftest import event_bytes, load_event, relative_to

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


LENA = "lena.hofer@example.org"  # the WooCommerce order's customer


def _lena(stage, ws) -> str:
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    (profile,) = json.loads(stage.get(ws, f"/customers?email={LENA}").body)["customers"]
    return profile["customer_id"]


def test_a_woocommerce_customer_is_exported_and_erased_on_demand(stage, ws):
    # Given Lena, who ordered on the WooCommerce store only
    lena = _lena(stage, ws)
    auth = {"Authorization": f"Bearer {ws.api_key}"}
    # When her data is asked for: accepted, and fetched once the stream has made it
    asked = stage.http.http.post(f"/customers/{lena}/export", headers=auth)
    request_id = json.loads(asked.body)["request_id"]
    not_yet = stage.get(ws, f"/exports/{request_id}")
    stage.drain()
    export = json.loads(stage.get(ws, f"/exports/{request_id}").body)
    # Then it holds her profile and her order
    assert asked.status_code == 202 and not_yet.status_code == 404
    assert [c["email"] for c in export["customers"]] == [LENA]
    assert [o["total"] for o in export["orders"]] == ["104.88"]
    # When she is erased
    erased = stage.http.http.delete(f"/customers/{lena}", headers=auth)
    stage.drain()
    stage.drain()
    # Then she, her order's person and the export are gone, and the audit counts it all
    assert erased.status_code == 202
    assert stage.get(ws, f"/customers/{lena}").status_code == 404
    assert stage.get(ws, f"/exports/{request_id}").status_code == 404
    orders = [
        i
        for i in stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]
        if i["t"]["S"] == "order"
    ]
    assert orders and all("p" not in i for i in orders)
    audits = {a["rid"]: a for a in stage.container.privacy_store.requests(ws.workspace_id)}
    audit = audits[json.loads(erased.body)["request_id"]]
    assert (audit["request"], audit["state"], audit["source_id"]) == ("customers_redact", "erased", "api")
    assert audit["records_redacted"] == 1 and audit["data_exports_deleted"] == 1
    assert LENA not in json.dumps(audit, default=str)


def test_unknown_customers_and_other_workspaces_get_404(stage, ws):
    lena = _lena(stage, ws)
    other = stage.create_workspace("Other Brand", "USD")
    auth = {"Authorization": f"Bearer {other.api_key}"}
    assert stage.http.http.delete(f"/customers/{lena}", headers=auth).status_code == 404
    assert stage.http.http.post(f"/customers/{lena}/export", headers=auth).status_code == 404
    assert stage.http.http.delete("/customers/c_nobody", headers={}).status_code == 401
    assert stage.get(ws, "/exports/api_0000").status_code == 404


def test_a_redelivered_erasure_counts_each_item_once(stage, ws):
    # Given Jane's order and customer record, and a stream that delivers every batch twice
    stage.poller = stage.new_poller(duplicate_deliveries=True)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "customers/create", event_bytes("shopify/customers_create.json"))
    stage.drain()
    # When the redaction's stream record is delivered twice
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    stage.drain()
    # Then each item was counted once, and the request no longer holds her
    (audit,) = stage.container.privacy_store.requests(ws.workspace_id)
    # (her profile and its membership audit entry: a storefront member, numbered by the CRM
    # stream; her order and her customer record)
    assert (audit["profiles_found"], audit["items_deleted"], audit["records_redacted"]) == (1, 2, 2)
    items = stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]
    requests = [i for i in items if i["t"]["S"] == "privacy"]
    assert stage.failures == [] and requests and JANE not in json.dumps(requests)


def test_the_cli_erases_and_exports_a_customer(stage, ws, monkeypatch, capsys):
    from patron import cli

    monkeypatch.setattr(cli, "_container", lambda args: stage.container)
    lena = _lena(stage, ws)
    assert cli.main(["customers", "export", lena, "--workspace", ws.workspace_id]) == 0
    exported = json.loads(capsys.readouterr().out)
    stage.drain()
    assert cli.main(["privacy", "export", ws.workspace_id, exported["request_id"]]) == 0
    assert LENA in capsys.readouterr().out
    assert cli.main(["customers", "erase", lena, "--workspace", ws.workspace_id]) == 0
    erased = json.loads(capsys.readouterr().out)
    stage.drain()
    assert erased["request"] == "customers_redact"
    assert stage.get(ws, f"/customers/{lena}").status_code == 404


def test_an_export_rewritten_meanwhile_is_read_again(stage, ws):
    from chalicelib.adapters.erasure import S3Exports

    # Given an audience export of two rows, and a reader that sees it as it was before a
    # concurrent rewrite (its ETag is stale once)
    s3 = stage.client("s3")
    bucket, key = stage.info.export_bucket, "exports/ws/seg/customer-match.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=b"email_sha256,phone_sha256\naaa,\nbbb,\n")
    exports = S3Exports(s3, bucket)
    reads = []
    real = s3.get_object

    def stale_once(**kwargs):
        got = real(**kwargs)
        reads.append(got["ETag"])
        return got | {"ETag": '"stale"'} if len(reads) == 1 else got

    s3.get_object = stale_once
    # When a person's row is taken out
    changed = exports.without(key, {"aaa"})
    # Then the conditional write refused the stale read, the file was read again, and only
    # the other row is left
    assert changed and len(reads) == 2
    assert real(Bucket=bucket, Key=key)["Body"].read() == b"email_sha256,phone_sha256\nbbb,\n"
    assert exports.without(key, {"aaa"}) is False  # nothing left to take out


def test_what_the_store_made_before_an_erasure_never_brings_the_person_back(frozen_now, stage, ws):
    # Given Jane's order, as its stream record carries it, and then her erasure
    (order,) = relative_to(frozen_now, load_event("shopify/orders_create.json"))
    stage.send(ws, "shopify", "orders/create", order)
    stage.drain()
    ddb, table = stage.client("dynamodb"), stage.info.ingest_table
    key = {
        "pk": {"S": records.order_pk(ws.workspace_id, ws.sources["shopify"]["source_id"], str(order["id"]))}
    }
    image = from_item(ddb.get_item(TableName=table, Key=key)["Item"])
    stage.send(ws, "shopify", "customers/redact", event_bytes("shopify/customers_redact.json"))
    stage.drain()
    stage.drain()
    # When that stream record is delivered again (a late retry from another shard)
    replayed = stage.container.profiles.apply_change(ingest_change(None, image))
    # And the store sends a later state of the same order, with her on it
    later = datetime.now(UTC) + timedelta(minutes=1)
    stage.send(ws, "shopify", "orders/updated", order | {"updated_at": later.isoformat(), "note": "gift"})
    stage.drain()
    # Then neither makes a profile, and the order's new state is stored without her
    assert replayed.outcome == "redacted"
    assert json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"] == []
    stored = ddb.get_item(TableName=table, Key=key)["Item"]
    assert "p" not in stored and stored["rdx"] == {"BOOL": True}
    assert stored["ua"]["S"] == timemath.iso(later)  # the later state was taken
    # When she comes back and orders again after the erasure
    again = datetime.now(UTC) + timedelta(minutes=2)
    stamp = again.isoformat()
    stage.send(
        ws,
        "shopify",
        "orders/create",
        order | {"id": 5829104638999, "created_at": stamp, "updated_at": stamp},
    )
    stage.drain()
    # Then that new order makes a new profile, holding only it
    (back,) = json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"]
    assert back["orders_count"] == 1
