"""Member numbers for storefront members on the stage (moto): the CRM stream's consumer
numbers a profile when a record first reports its storefront account, once, whatever
else arrives (docs/loyalty.md#member-numbers)."""

from __future__ import annotations

import json

from chalicelib.adapters.enrolment_store import DynamoEnrolmentStore, counter_key
from tests.conftest import event_bytes
from tests.integration.test_enrolment import membership, storefront_member


def counter(stage, ws) -> int:
    pk, sk = counter_key(ws.workspace_id)
    item = stage.container.crm.client.get_item(
        TableName=stage.container.crm.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_a_storefront_account_is_numbered_once_through_replays_and_later_records(stage, ws):
    # Given a first order whose customer has a storefront account
    cid = storefront_member(stage, ws)
    # Then the profile is a member with the workspace's first number, channel storefront
    first = membership(stage, ws, cid)
    assert (first["member"], first["number"], first["channel"]) == (True, "M000001", "storefront")
    assert first["since"] is not None
    # When the order is replayed and later records of the account arrive
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "orders/updated", event_bytes("shopify/orders_updated_paid.json"))
    stage.send(ws, "shopify", "customers/create", event_bytes("shopify/customers_create.json"))
    stage.drain()
    # Then the same number and since; one number taken and one audit entry
    assert membership(stage, ws, cid) == first
    trail = DynamoEnrolmentStore(stage.container.crm).audit(ws.workspace_id, cid)
    assert [(a.kind, a.channel, a.by, a.number, a.at) for a in trail] == [
        ("account", "storefront", "storefront", "M000001", first["since"])
    ]
    assert counter(stage, ws) == 1


def test_a_guest_order_takes_no_number(stage, ws):
    # Given an order whose customer has no storefront account
    order = json.loads(event_bytes("shopify/orders_create.json"))
    order["id"], order["email"] = 5829104638999, "sam.guest@example.com"
    order["customer"] |= {"id": 7204518390999, "email": "sam.guest@example.com", "state": "disabled"}
    order["customer"]["phone"] = None
    stage.send(ws, "shopify", "orders/create", json.dumps(order).encode())
    stage.drain()
    # When its profile is read, Then a guest without a number, and no number was taken
    (found,) = json.loads(stage.get(ws, "/customers?email=sam.guest@example.com").body)["customers"]
    assert membership(stage, ws, found["customer_id"])["number"] is None
    assert found["membership"]["member"] is False
    assert counter(stage, ws) == 0
