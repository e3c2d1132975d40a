"""shop/redact carried out: everything that came from the shop is erased, resumably."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.adapters.codec import from_item
from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging import notifications
from chalicelib.domain.models import now_utc
from patron import cli
from tests.conftest import event_bytes
from tests.integration.test_flows import CHECKOUT_AT, FLOWS
from tests.integration.test_notifications import SENDER

JANE = "jane.doe@example.com"
BOB = "bob.stone@example.net"
SHOPIFY_PHONE = "+12125550147"  # Jane's number as the shop gave it
WOO_PHONE = "+16465550163"  # Jane's number as the WooCommerce site gave it
BOB_PHONE = "+12125550199"


def bob_order() -> bytes:
    text = event_bytes("shopify/orders_create.json").decode()
    for old, new in (
        ("Jane.Doe@Example.com", BOB),
        (JANE, BOB),
        ("555-0147", "555-0199"),
        (SHOPIFY_PHONE, BOB_PHONE),
        ("Jane", "Bob"),
        ("Doe", "Stone"),
    ):
        text = text.replace(old, new)
    body = json.loads(text)
    body["id"], body["name"], body["order_number"] = 5829104639999, "#1002", 1002
    body["customer"]["id"] = 7204518399999
    return json.dumps(body).encode()


def jane_woo_order() -> bytes:
    body = json.loads(event_bytes("woocommerce/order_created.json"))
    body["currency"] = "USD"
    body["billing"] |= {"email": JANE, "first_name": "Jana", "last_name": "Dove", "phone": "+1 646-555-0163"}
    body["shipping"] |= {"first_name": "Jana", "last_name": "Dove"}
    return json.dumps(body).encode()


@pytest.fixture
def shop_ws(stage, ws, monkeypatch):
    """Jane bought on the Shopify shop (after abandoning a checkout there, reminded with a
    coupon) and on the WooCommerce site; Bob only on the Shopify shop. Each store kept a
    delivery it could not parse; every order got its confirmation."""
    monkeypatch.setattr(notifications, "FRESH", timedelta(days=3650))
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, ["order_confirmation"], SENDER, None)
    stage.container.flows.clock = lambda: CHECKOUT_AT
    for path in sorted(FLOWS.glob("*.json")):
        stage.container.flows.apply(ws.workspace_id, json.loads(path.read_text()))
    stage.send(ws, "shopify", "checkouts/create", event_bytes("shopify/checkouts_create.json"))
    stage.drain()
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))  # the reminder, with a coupon
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "woocommerce", "order.created", jane_woo_order())
    stage.send(ws, "shopify", "orders/create", bob_order())
    assert stage.send(ws, "shopify", "orders/create", b'{"id": "not an order"}').status_code == 400
    assert stage.send(ws, "woocommerce", "order.created", b'{"id": "not an order"}').status_code == 400
    stage.drain()
    stage.container.source_erasure.page_size = 1  # a page per customer: the work spans records
    return ws


def customers(stage, ws, email: str) -> list[dict]:
    return json.loads(stage.get(ws, f"/customers?email={email}").body)["customers"]


def crm_items(stage) -> list[dict]:
    return stage.client("dynamodb").scan(TableName=stage.info.crm_table)["Items"]


def ingest_items(stage) -> list[dict]:
    return stage.client("dynamodb").scan(TableName=stage.info.ingest_table)["Items"]


def audit(stage, ws) -> dict:
    (entry,) = [
        r for r in stage.container.privacy_store.requests(ws.workspace_id) if r["request"] == "shop_redact"
    ]
    return entry


# What the shop gave, removed: Bob's profile (and his 2 segment memberships) and Jane's
# Shopify side. Flow runs: Jane's checkout reminder and her Shopify order's cross-sell; Bob's
# welcome, member welcome and cross-sell. Send claims: the reminder, the two Shopify
# confirmations.
REMOVED = {
    "checkouts": 1,
    "coupons": 1,
    "flow_runs": 5,
    "orders": 2,
    "profiles_erased": 1,
    "profiles_rewritten": 1,
    "quarantined": 1,
    "segment_memberships": 2,
    "send_claims": 3,
}


def assert_only_the_woocommerce_side_is_left(stage, ws) -> None:
    shop = ws.sources["shopify"]["source_id"]
    woo = ws.sources["woocommerce"]["source_id"]
    # Bob is gone entirely
    assert customers(stage, ws, BOB) == []
    crm, ingest = json.dumps(crm_items(stage), default=str), json.dumps(ingest_items(stage), default=str)
    for personal in (BOB, BOB_PHONE, "Stone", SHOPIFY_PHONE, "Jane"):
        assert personal not in crm and personal not in ingest, personal
    # Jane keeps only what the WooCommerce site gave: its order, figures, identities and names
    (jane,) = customers(stage, ws, JANE)
    assert jane["sources"] == [woo]
    assert (jane["orders_count"], jane["total_spent"], jane["net_spent"]) == (1, "104.88", "104.88")
    assert jane["phones"] == [WOO_PHONE] and jane["phone"] == WOO_PHONE
    assert (jane["first_name"], jane["last_name"]) == ("Jana", "Dove")
    detail = json.loads(stage.get(ws, f"/customers/{jane['customer_id']}").body)
    assert [e["order_id"] for e in detail["timeline"] if e["type"] == "order_placed"] == [f"{woo}.5127"]
    # The shop's orders, checkout, flow runs, claims and coupon are gone; the site's stay
    settings = stage.container.workspaces.settings(ws.workspace_id)
    jane_id = customer_id_for(settings.id_salt, f"email:{JANE}")
    runs = stage.container.flows.runs(ws.workspace_id, jane_id)
    assert "abandoned-checkout" not in {r["flow_id"] for r in runs} and runs
    claims = [i["sk"]["S"] for i in crm_items(stage) if i["pk"]["S"].startswith(f"W#{ws.workspace_id}#MSG#")]
    assert claims and all(f"#O#{shop}#" not in c and "abandoned-checkout" not in c for c in claims)
    assert any(f"#O#{woo}#" in c for c in claims)
    assert not [i for i in crm_items(stage) if i.get("t", {}).get("S") == "coupon"]
    kinds = {
        i["pk"]["S"].split("#")[2] + ":" + i["pk"]["S"].split("#")[3]: i["t"]["S"]
        for i in ingest_items(stage)
    }
    assert kinds[f"O:{woo}"] == "order" and kinds[f"O:{shop}"] == "erased" and kinds[f"K:{shop}"] == "erased"
    # The shop's quarantined delivery is gone, the site's stays
    kept = [i["src"]["S"] for i in crm_items(stage) if i.get("t", {}).get("S") == "quarantine"]
    assert kept == [woo]


def test_shop_redact_erases_what_the_shop_gave_and_keeps_what_other_stores_gave(stage, shop_ws):
    ws = shop_ws
    (bob,) = customers(stage, ws, BOB)
    assert customers(stage, ws, JANE)[0]["orders_count"] == 2
    # When Shopify sends shop/redact, and the stream delivers each of its records twice
    stage.poller = stage.new_poller(duplicate_deliveries=True)
    response = stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()  # the erasure's own records (tombstones, profile changes) settle
    # Then everything the shop gave is gone, and what the WooCommerce site gave is left
    assert json.loads(response.body)["status"] == "stored" and stage.failures == []
    assert_only_the_woocommerce_side_is_left(stage, ws)
    assert stage.get(ws, f"/customers/{bob['customer_id']}").status_code == 404
    # And Bob left every segment (the segments refreshed)
    members = [i for i in crm_items(stage) if i["pk"]["S"].startswith(f"W#{ws.workspace_id}#SEGM#")]
    assert members and all(i["sk"]["S"] != bob["customer_id"] for i in members)
    # And the audit says what was removed, in counts, with no personal data
    entry = audit(stage, ws)
    assert entry["state"] == "source_erased" and entry["source_id"] == ws.sources["shopify"]["source_id"]
    assert entry["removed"] == REMOVED
    assert JANE not in json.dumps(entry, default=str)
    # And the shop's webhooks are refused from now on (once the source cache has expired)
    stage.container.workspaces._sources.invalidate()
    refused = stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    assert refused.status_code == 401 and "source_erased" in refused.body.decode()
    # When the erasure is run again, and the shop/redact record is delivered again
    before = (crm_items(stage), ingest_items(stage))
    status = stage.container.source_erasure.run(ws.workspace_id, ws.sources["shopify"]["source_id"])
    (request,) = [from_item(i) for i in ingest_items(stage) if i["t"]["S"] == "privacy"]
    stage.container.ingest_pipeline.apply(ingest_change(None, request), now_utc())
    stage.drain()
    # Then nothing changes: a no-op
    assert status["state"] == "source_erased" and status["removed"] == entry["removed"]
    assert (crm_items(stage), ingest_items(stage)) == before


def test_an_erasure_cut_short_resumes_and_counts_everything_once(stage, shop_ws, monkeypatch, capsys):
    ws = shop_ws
    monkeypatch.setattr(cli, "_container", lambda args: stage.container)  # the CLI on this stage
    # Given the stream consumer fails after the first profile of a page was half erased,
    # on every attempt, until the fault is repaired
    erasure = stage.container.source_erasure
    real = erasure.audit.erase_profile
    broken = {"on": True, "calls": 0}

    def erase_profile(*args, **kwargs):
        broken["calls"] += 1
        if broken["on"]:
            raise RuntimeError("the Lambda timed out")
        return real(*args, **kwargs)

    erasure.audit.erase_profile = erase_profile
    # and an audience export of this workspace (every store's customers, hashed) and another's
    s3, bucket = stage.client("s3"), stage.info.export_bucket
    for workspace_id in (ws.workspace_id, "ws_other"):
        s3.put_object(
            Bucket=bucket, Key=f"exports/{workspace_id}/rfm:champions/customer-match.csv", Body=b"h"
        )
    # When Shopify sends shop/redact
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    # Then the erasure stopped mid-way: the failed record is parked, the progress kept
    shop = ws.sources["shopify"]["source_id"]
    capsys.readouterr()
    assert cli.main(["privacy", "erase-source", "--workspace", ws.workspace_id, shop, "--status"]) == 0
    halted = json.loads(capsys.readouterr().out)
    assert stage.failures and broken["calls"] > 1 and halted["state"] == "erasing"
    # When the fault is repaired and the operator resumes it
    broken["on"] = False
    assert cli.main(["privacy", "erase-source", "--workspace", ws.workspace_id, shop]) == 0
    resumed = json.loads(capsys.readouterr().out)
    stage.drain()
    stage.drain()
    # Then it finished, and every kind was counted once: the same as an uninterrupted run
    assert resumed["state"] == "source_erased" and resumed["pages"] > halted["pages"]
    assert resumed["removed"] == REMOVED | {"audience_exports": 1}
    assert cli.main(["privacy", "list", "--workspace", ws.workspace_id]) == 0
    (listed,) = [r for r in json.loads(capsys.readouterr().out)["requests"] if r["request"] == "shop_redact"]
    assert listed["state"] == "source_erased" and listed["removed"] == resumed["removed"]
    # And the workspace's older audience export is gone, the other workspace's stays
    kept = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert kept == ["exports/ws_other/rfm:champions/customer-match.csv"]
    # When the operator runs it again: nothing more is removed
    assert cli.main(["privacy", "erase-source", "--workspace", ws.workspace_id, shop]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == resumed["removed"]
    assert_only_the_woocommerce_side_is_left(stage, ws)


def test_a_long_history_keeps_the_other_stores_orders_moved_out_and_their_totals(stage, ws):
    # Given Jane's 12 orders, alternating between the shop and the WooCommerce site: more
    # than a profile keeps, so the oldest four (two of each store) have their own items
    shop, woo = ws.sources["shopify"]["source_id"], ws.sources["woocommerce"]["source_id"]
    shopify_order = json.loads(event_bytes("shopify/orders_create.json"))
    woo_order = json.loads(jane_woo_order())
    for n in range(6):
        placed = f"2026-10-{2 * n + 1:02d}T10:00:00-04:00"
        body = shopify_order | {"id": 9_100_000 + n, "created_at": placed, "updated_at": placed}
        stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
        placed = f"2026-10-{2 * n + 2:02d}T14:00:00"
        body = woo_order | {"id": 6_000 + n, "date_created_gmt": placed, "date_modified_gmt": placed}
        stage.send(ws, "woocommerce", "order.created", json.dumps(body).encode())
    stage.drain()
    # and an order of each store attributed to a message (as the ingest consumer records it)
    for source, order in ((shop, 9_100_000), (woo, 6_000)):
        stage.client("dynamodb").put_item(
            TableName=stage.info.crm_table,
            Item={
                "pk": {"S": f"W#{ws.workspace_id}#ATTR"},
                "sk": {"S": f"W#{ws.workspace_id}#O#{source}#{order}"},
                "t": {"S": "attribution"},
            },
        )

    def entries() -> list[str]:
        return sorted(i["sk"]["S"] for i in crm_items(stage) if i.get("t", {}).get("S") == "entry")

    assert len(entries()) == 4 and customers(stage, ws, JANE)[0]["orders_count"] == 12
    # When Shopify sends shop/redact
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()
    # Then Jane keeps the site's six orders, moved ones included, and their exact totals
    (jane,) = customers(stage, ws, JANE)
    assert (jane["orders_count"], jane["total_spent"], jane["sources"]) == (6, "629.28", [woo])  # 6 x 104.88
    assert (jane["first_order_at"], jane["last_order_at"]) == (
        "2026-10-02T14:00:00.000000Z",
        "2026-10-12T14:00:00.000000Z",
    )
    assert entries() == [f"O#{woo}.6000", f"O#{woo}.6001"]
    detail = json.loads(stage.get(ws, f"/customers/{jane['customer_id']}").body)
    placed = sorted(e["order_id"] for e in detail["timeline"] if e["type"] == "order_placed")
    assert placed == [f"{woo}.{6_000 + n}" for n in range(6)]
    # And only the site's attribution is left
    attributions = [i["sk"]["S"] for i in crm_items(stage) if i.get("t", {}).get("S") == "attribution"]
    assert attributions == [f"W#{ws.workspace_id}#O#{woo}#6000"]
    removed = audit(stage, ws)["removed"]
    assert (removed["orders"], removed["moved_entries"], removed["attributions"]) == (6, 2, 1)


def test_a_merged_customer_keeps_the_other_stores_identities_and_is_not_found_by_the_shops(stage, ws):
    # Given Jane's order on the WooCommerce site under her work address, her order on the
    # shop under her own, and then the shop's customer record giving the site's phone: one
    # person, two profiles merged
    work = "jana.dove@example.org"
    woo = ws.sources["woocommerce"]["source_id"]
    body = json.loads(jane_woo_order())
    body["billing"]["email"] = work
    stage.send(ws, "woocommerce", "order.created", json.dumps(body).encode())
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    record = event_bytes("shopify/customers_create.json").decode()
    record = record.replace(SHOPIFY_PHONE, WOO_PHONE).replace("+1 (212) 555-0147", "+1 646-555-0163")
    record = record.replace(
        '"updated_at": "2026-11-20T10:06:51-05:00"', '"updated_at": "2026-11-21T10:00:00-05:00"'
    )
    stage.send(ws, "shopify", "customers/update", record.encode())
    stage.drain()
    (merged,) = customers(stage, ws, work)
    assert merged["orders_count"] == 2 and sorted(merged["emails"]) == [work, JANE]
    # When Shopify sends shop/redact
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()
    # Then she keeps the site's order, address and phone, and the shop's address finds nobody
    (jane,) = customers(stage, ws, work)
    assert (jane["orders_count"], jane["emails"], jane["phones"]) == (1, [work], [WOO_PHONE])
    assert jane["sources"] == [woo] and jane["customer_id"] == merged["customer_id"]
    assert customers(stage, ws, JANE) == []
    crm, ingest = json.dumps(crm_items(stage), default=str), json.dumps(ingest_items(stage), default=str)
    for personal in (JANE, SHOPIFY_PHONE, "Jane"):
        assert personal not in crm and personal not in ingest, personal
    removed = audit(stage, ws)["removed"]
    assert (removed["orders"], removed["customer_records"], removed["profiles_rewritten"]) == (1, 1, 1)


def test_a_customer_the_first_walk_misses_is_met_by_the_second(stage, shop_ws):
    # Given Bob moves to a lifecycle stage the first walk has already passed, so that walk
    # does not list him (as when an order on another store brings a customer back)
    ws = shop_ws
    (bob,) = customers(stage, ws, BOB)
    erasure = stage.container.source_erasure
    lists = erasure.walk.members
    real = lists.members
    shop = ws.sources["shopify"]["source_id"]

    def members(workspace_id, segment_id, limit, cursor):
        ids, last = real(workspace_id, segment_id, limit, cursor)
        if erasure.store.progress(workspace_id, shop).phase == "walk":
            ids = [i for i in ids if i != bob["customer_id"]]
        return ids, last

    lists.members = members
    # When Shopify sends shop/redact
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()
    # Then the second walk erased him all the same, and counted everything once
    assert customers(stage, ws, BOB) == []
    assert audit(stage, ws)["removed"] == REMOVED
    assert_only_the_woocommerce_side_is_left(stage, ws)
