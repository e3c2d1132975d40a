"""Profiles from the stream: aggregates, identity resolution, merges, exactly-once effect."""

from __future__ import annotations

import json

from patron.harness import Harness, Workspace
from tests.conftest import event_bytes, load_event
from tests.integration.conftest import put_order_of_unknown_workspace


def profile(stage: Harness, ws: Workspace, email: str) -> dict:
    response = stage.get(ws, f"/customers?email={email}")
    assert response.status_code == 200, response.body
    (found,) = json.loads(response.body)["customers"]
    return found


def detail(stage: Harness, ws: Workspace, customer_id: str) -> dict:
    response = stage.get(ws, f"/customers/{customer_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


JANE = "jane.doe@example.com"


def test_refund_then_cancellation_leave_aggregates_exact(stage, ws):
    # Given a paid order and a refund of one line
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"))
    stage.drain()
    after_refund = profile(stage, ws, JANE)
    # When the order is then cancelled (and refunded in full)
    stage.send(ws, "shopify", "orders/cancelled", event_bytes("shopify/orders_cancelled.json"))
    stage.drain()
    after_cancel = profile(stage, ws, JANE)
    # Then the refund counted while the order stood, and the cancelled order counts for nothing
    assert (
        after_refund["orders_count"],
        after_refund["total_spent"],
        after_refund["total_refunded"],
        after_refund["net_spent"],
    ) == (1, "122.00", "42.93", "79.07")
    assert (after_cancel["orders_count"], after_cancel["total_spent"], after_cancel["total_refunded"]) == (
        0,
        "0.00",
        "0.00",
    )
    timeline = detail(stage, ws, after_cancel["customer_id"])["timeline"]
    assert [e["type"] for e in timeline] == ["order_cancelled", "refund", "order_placed"]
    assert timeline == sorted(timeline, key=lambda e: e["at"], reverse=True)


def test_refund_arriving_before_its_order_is_not_lost(stage, ws):
    # Given the refund webhook overtakes orders/create
    stage.send(ws, "shopify", "refunds/create", event_bytes("shopify/refunds_create.json"))
    stage.drain()
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then the profile has the order and its refund
    found = profile(stage, ws, JANE)
    assert (found["orders_count"], found["total_spent"], found["total_refunded"]) == (1, "122.00", "42.93")


def test_redelivered_stream_batches_do_not_double_count(stage, ws):
    # Given a poller that delivers every batch twice (at-least-once)
    stage.poller = stage.new_poller(duplicate_deliveries=True)
    for name, topic in (
        ("orders_create", "orders/create"),
        ("refunds_create", "refunds/create"),
        ("orders_updated_paid", "orders/updated"),
    ):
        stage.send(ws, "shopify", topic, event_bytes(f"shopify/{name}.json"))
        stage.drain()
    # When an order is replayed later as a fresh delivery
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then every aggregate is counted once
    found = profile(stage, ws, JANE)
    assert (found["orders_count"], found["total_spent"], found["total_refunded"]) == (1, "122.00", "42.93")
    assert stage.poller.stats.invocations >= 6


def test_guest_checkout_then_account_with_same_email_is_one_member_profile(stage, ws):
    # Given a guest order on WooCommerce
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
    stage.drain()
    guest = profile(stage, ws, "tobias.wimmer@example.org")
    # When the same person registers an account (same email, new customer id)
    account = load_event("woocommerce/customer_created.json")
    account.update(
        {"id": 77, "email": "Tobias.Wimmer@example.org", "first_name": "Tobias", "last_name": "Wimmer"}
    )
    account["billing"]["email"] = "tobias.wimmer@example.org"
    stage.send(ws, "woocommerce", "customer.created", account)
    stage.drain()
    # Then it is still one profile, now a member, with the guest's order
    member = profile(stage, ws, "tobias.wimmer@example.org")
    assert guest["is_member"] is False
    assert member["customer_id"] == guest["customer_id"]
    assert member["is_member"] is True
    assert member["orders_count"] == 1
    assert member["unconverted_spent"] == {"EUR": "52.80"}  # EUR shop, USD workspace, no rate


def test_orders_in_another_currency_are_converted_or_kept_apart(stage, ws):
    # Given a EUR order and no EUR rate yet
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    unconverted = profile(stage, ws, "lena.hofer@example.org")
    # When the workspace sets a EUR rate and the order is updated
    stage.container.tenancy.set_rate(ws.workspace_id, "EUR", "1.10")
    stage.container.workspaces._settings.invalidate()
    stage.send(ws, "woocommerce", "order.updated", event_bytes("woocommerce/order_updated_refunded.json"))
    stage.drain()
    converted = profile(stage, ws, "lena.hofer@example.org")
    # Then amounts are never summed across currencies
    assert unconverted["total_spent"] == "0.00"
    assert unconverted["unconverted_spent"] == {"EUR": "104.88"}
    assert unconverted["orders_count"] == 1
    assert converted["total_spent"] == "115.37"  # 104.88 x 1.10
    assert converted["total_refunded"] == "11.00"
    assert converted["unconverted_spent"] == {}


def test_phone_only_and_email_only_profiles_merge_when_an_order_links_them(stage, ws):
    # Given a POS order known only by phone, and a web order known only by email
    stage.send(ws, "generic", "order", event_bytes("generic/order.json"))
    web = load_event("shopify/orders_create.json")
    web["customer"]["phone"] = None
    web["customer"]["id"] = 999
    for address in ("billing_address", "shipping_address"):
        web[address]["phone"] = None
    stage.send(ws, "shopify", "orders/create", web)
    stage.drain()
    before = profile(stage, ws, JANE)
    assert before["orders_count"] == 1
    # When a customer record carries both the email and the phone
    stage.send(ws, "generic", "customer", event_bytes("generic/customer.json"))
    stage.drain()
    # Then one profile holds both orders, and the merge is recorded with its reason
    after = profile(stage, ws, JANE)
    assert after["orders_count"] == 2
    assert after["total_spent"] == "186.00"
    assert after["phones"] == ["+12125550147"]
    assert len(after["merged_from"]) == 1
    (merge,) = stage.container.profile_store.merges(ws.workspace_id)
    assert merge["into"] == after["customer_id"] and merge["from"] == after["merged_from"][0]
    assert merge["reason"].startswith("shared ")
    # and the retired id still answers, with the surviving profile
    assert detail(stage, ws, after["merged_from"][0])["customer_id"] == after["customer_id"]
    assert sorted(after["channels"]) == ["pos", "web"]
    assert after["categories"] == ["books"]


def test_same_person_across_shopify_and_woocommerce_is_one_profile(stage, ws):
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    woo = load_event("woocommerce/order_created.json")
    woo["billing"]["email"] = "Jane.Doe@example.com"
    woo["currency"] = "USD"
    stage.send(ws, "woocommerce", "order.created", woo)
    stage.drain()
    found = profile(stage, ws, JANE)
    assert found["orders_count"] == 2
    assert found["total_spent"] == "226.88"
    assert len(found["sources"]) == 2
    assert found["average_days_between_orders"] is not None


def test_a_poison_record_neither_blocks_the_shard_nor_is_lost(stage, ws):
    # Given an order item whose workspace does not exist, between two good orders
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    poison = put_order_of_unknown_workspace(stage)
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
    # When the stream is processed
    stage.drain()
    # Then both good orders made profiles and the poison record went to the failure queue
    assert profile(stage, ws, JANE)["orders_count"] == 1
    assert profile(stage, ws, "tobias.wimmer@example.org")["orders_count"] == 1
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stage.failures] == [poison]
    messages = stage.client("sqs").receive_message(QueueUrl=stage.info.stream_failure_queue_url)
    assert len(messages["Messages"]) == 1


def test_api_keys_are_scoped_to_one_workspace(stage, ws):
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    mine = profile(stage, ws, JANE)
    other = stage.create_workspace("Other Brand")
    # Another workspace's key sees nothing of this one
    assert stage.get(other, f"/customers/{mine['customer_id']}").status_code == 404
    order_id = ws.sources["shopify"]["source_id"] + ".5829104638011"
    assert stage.get(other, f"/orders/{order_id}").status_code == 404
    assert json.loads(stage.get(other, f"/customers?email={JANE}").body)["customers"] == []
    # and every per-customer route answers 404 alike, as it does for an unknown id
    for path in ("segments", "flows"):
        assert stage.get(other, f"/customers/{mine['customer_id']}/{path}").status_code == 404
        assert stage.get(ws, f"/customers/c_unknown/{path}").status_code == 404
    assert json.loads(stage.get(ws, f"/customers/{mine['customer_id']}/flows").body)["runs"] == []
    # and no key or a wrong key is 401
    assert stage.http.http.get(f"/customers/{mine['customer_id']}").status_code == 401
    bad = stage.http.http.get("/customers?email=x@example.com", headers={"Authorization": "Bearer pk_nope"})
    assert bad.status_code == 401
    assert stage.get(ws, "/customers?email=not-an-email").status_code == 400
