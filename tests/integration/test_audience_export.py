"""Customer-match export: SHA-256 of normalized identifiers, consenting members only, to S3."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from tests.conftest import event_bytes, load_event


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_export_holds_hashes_of_consenting_members_only(stage, ws):
    # Given Jane (email and SMS consent), Tobias (guest, no consent reported) and Lena
    # (a member who unsubscribed from email)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
    lena = load_event("generic/customer.json")
    lena.update(
        id="lena-1",
        email=" Lena.Hofer@Example.org",
        phone=None,
        email_consent="unsubscribed",
        first_name="Lena",
        last_name="Hofer",
    )
    stage.send(ws, "generic", "customer", lena)
    stage.drain()
    segment = json.loads(
        stage.http.http.post(
            "/segments",
            body=json.dumps({"name": "Everyone", "definition": "orders_count >= 0"}),
            headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
        ).body
    )
    # When the segment is exported for customer matching
    result = stage.container.audience.export(ws.workspace_id, segment["segment_id"])
    # Then only Jane is in the file, as hashes of her normalized email and E.164 phone
    assert (result.members, result.rows, result.members_without_consent) == (3, 1, 2)
    bucket, key = result.uri.removeprefix("s3://").split("/", 1)
    body = stage.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [["email_sha256", "phone_sha256"], [sha("jane.doe@example.com"), sha("+12125550147")]]
    assert "jane" not in body.lower()
