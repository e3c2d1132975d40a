"""IngestStore contract: DynamoIngestStore on moto and the fake (tests/fakes_ports.py) answer
every delivery alike (stored, duplicate, stale, in any order) and leave the same item."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from chalicelib.adapters import records
from chalicelib.adapters.codec import from_item
from chalicelib.adapters.ingest_store import DynamoIngestStore
from chalicelib.domain.ingest import body_hash
from chalicelib.domain.models import Delivery, IngestPayload, Platform
from chalicelib.domain.ports import IngestStore
from chalicelib.domain.translation import run_parser
from tests.conftest import event_bytes, load_event
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_ports import FakeIngestStore
from tests.ingest_schedule import BASE, RECEIVED
from tests.ingest_schedule import Delivery as Scheduled
from tests.unit.fakes import REGISTRIES

__all__ = ["moto_stage"]
WS, SRC = "ws_c", "src_1"


@dataclass
class Subject:
    store: IngestStore
    read: Callable[[str], dict[str, Any] | None]
    erase: Callable[[str], None]  # a privacy request took the person off this order (`rdx`)


def _fake() -> Subject:
    store = FakeIngestStore()

    def erase(pk: str) -> None:
        store.items[pk] = store.items[pk] | {"rdx": "req-1"}

    return Subject(store, lambda pk: store.items.get(pk), erase)


def _dynamo(stage: MotoStage) -> Subject:
    client, table = stage.dynamodb, stage.info.ingest_table

    def read(pk: str) -> dict[str, Any] | None:
        return from_item(
            client.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
        )

    def erase(pk: str) -> None:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET rdx = :r",
            ExpressionAttributeValues={":r": {"S": "req-1"}},
        )

    return Subject(DynamoIngestStore(client, table), read, erase)


ingest = port_fixture(_fake, _dynamo)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(RECEIVED, tick=False):
        yield


def parsed(
    platform: str,
    topic: str,
    body: str | dict[str, Any],
    webhook_id: str = "wh-1",
    triggered_at: datetime | None = None,
) -> tuple[Delivery, IngestPayload]:
    raw = json.dumps(body).encode() if isinstance(body, dict) else event_bytes(body)
    delivery = Delivery(
        workspace_id=WS,
        source_id=SRC,
        platform=Platform(platform),
        topic=topic,
        webhook_id=webhook_id,
        triggered_at=triggered_at,
        received_at=RECEIVED,
        body_hash=body_hash(raw),
    )
    return delivery, run_parser(REGISTRIES[Platform(platform)], raw, delivery)


ORDER = records.order_pk(WS, SRC, "5829104638011")
CUSTOMER = records.customer_pk(WS, SRC, "7204518390331")
WOO_CUSTOMER = records.customer_pk(WS, SRC, "41")
CHECKOUT = records.checkout_pk(WS, SRC, "cart-7f3a91")
CREATE = ("shopify", "orders/create", "shopify/orders_create.json")
PAID = ("shopify", "orders/updated", "shopify/orders_updated_paid.json")
DELIVERED = ("shopify", "orders/updated", "shopify/orders_updated_delivered.json")
REFUND = ("shopify", "refunds/create", "shopify/refunds_create.json")
CANCELLED = ("shopify", "orders/cancelled", "shopify/orders_cancelled.json")


def test_a_new_order_is_stored_and_the_same_body_again_is_a_duplicate(ingest: Subject):
    # Given an order's first delivery, stored
    first = ingest.store.apply(*parsed(*CREATE))
    # When the storefront retries it, and sends the same state under another topic
    again = ingest.store.apply(*parsed(*CREATE, webhook_id="wh-2"))
    paid_topic = ingest.store.apply(*parsed("shopify", "orders/paid", CREATE[2], webhook_id="wh-3"))
    # Then the first is stored and the others are duplicates that change nothing
    assert (first, again, paid_topic) == ("stored", "duplicate", "duplicate")
    item = ingest.read(ORDER)
    assert item is not None and item["v"] == 1 and item["st"] == "paid" and item["wh"] == "wh-1"


def test_a_newer_state_replaces_the_older_and_keeps_its_history(ingest: Subject):
    # Given an order stored
    ingest.store.apply(*parsed(*CREATE))
    # When a later state of it arrives
    outcome = ingest.store.apply(*parsed(*DELIVERED, webhook_id="wh-2"))
    # Then it is stored over the first, counted, with both states in the history
    item = ingest.read(ORDER)
    assert outcome == "stored"
    assert item is not None and item["v"] == 2 and item["ffs"] == "fulfilled"
    assert [h[0] for h in item["hist"]] == ["paid", "fulfilled"]


def test_an_older_state_after_a_newer_one_is_stale_and_changes_nothing(ingest: Subject):
    # Given an order's later state stored first
    ingest.store.apply(*parsed(*DELIVERED))
    before = ingest.read(ORDER)
    # When its first state arrives late
    outcome = ingest.store.apply(*parsed(*CREATE, webhook_id="wh-2"))
    # Then it is stale, and the item is as it was
    assert outcome == "stale"
    assert ingest.read(ORDER) == before


def test_a_refund_is_stored_once_and_survives_the_orders_own_write_even_arriving_first(ingest: Subject):
    # Given a refund that overtakes its order
    first = ingest.store.apply(*parsed(*REFUND))
    overtaken = ingest.read(ORDER)
    # When the order arrives, and the refund is delivered again
    order = ingest.store.apply(*parsed(*CREATE, webhook_id="wh-2"))
    again = ingest.store.apply(*parsed(*REFUND, webhook_id="wh-3"))
    # Then the refund made an order item without a version, the order kept it, and the
    # repeat is a duplicate
    assert (first, order, again) == ("stored", "stored", "duplicate")
    assert overtaken is not None and "ver" not in overtaken and "rf_1019283746011" in overtaken
    item = ingest.read(ORDER)
    assert item is not None and "rf_1019283746011" in item and item["v"] == 2 and "ver" in item


def test_a_refunds_products_are_kept_on_its_map_in_the_same_writes(ingest: Subject):
    # Given a refund of two lines that overtakes its order, then the order
    two_lines = ("shopify", "refunds/create", "shopify/refunds_create_two_lines.json")
    outcomes = [
        ingest.store.apply(*parsed(*two_lines)),
        ingest.store.apply(*parsed(*CREATE, webhook_id="wh-2")),
    ]
    # When the cancelled state arrives with the order's refunds (its lines named in them)
    outcomes.append(ingest.store.apply(*parsed(*CANCELLED, webhook_id="wh-3")))
    # Then each refund's map keeps its products, written by the same three writes
    assert outcomes == ["stored"] * 3
    item = ingest.read(ORDER)
    assert item is not None and item["v"] == 3
    assert item["rf_1019283746022"]["p"] == ["8012345678901", "8012345679122"]
    assert item["rf_1019283746011"]["p"] == ["8012345679011"]
    assert item["rf_1019283747122"]["p"] == ["8012345678901", "8012345679122"]
    # And the snapshot's refunded products are the three products with their SKUs
    assert records.snapshot(item).refunded_products == (
        "8012345678901",
        "8012345679011",
        "8012345679122",
        "CPS-WHT-01",
        "OCT-HGR-M",
        "SOC-ETH-340",
    )


def test_a_deletion_counts_once_per_delivery_id_whatever_the_orders_version(ingest: Subject):
    # Given a WooCommerce order stored
    shipped = ("woocommerce", "order.updated", "woocommerce/order_updated_shipped.json")
    ingest.store.apply(*parsed(*shipped))
    deleted = ("woocommerce", "order.deleted", "woocommerce/order_deleted.json")
    # When it is deleted, the deletion retried, then deleted again by another delivery
    outcomes = [
        ingest.store.apply(*parsed(*deleted, webhook_id="del-1")),
        ingest.store.apply(*parsed(*deleted, webhook_id="del-1")),
        ingest.store.apply(*parsed(*deleted, webhook_id="del-2")),
    ]
    # Then each delivery id is marked once
    assert outcomes == ["stored", "duplicate", "stored"]
    item = ingest.read(records.order_pk(WS, SRC, "5131"))
    assert item is not None and item["dels"] == {"del-1", "del-2"} and item["v"] == 3


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "pk"),
    [
        ("shopify", "customers/create", "shopify/customers_create.json", CUSTOMER),
        ("woocommerce", "customer.updated", "woocommerce/customer_updated_opted_in.json", WOO_CUSTOMER),
        ("generic", "checkout", "generic/checkout.json", CHECKOUT),
    ],
)
def test_customers_and_checkouts_are_versioned_like_orders(ingest: Subject, platform, topic, fixture, pk):
    body = load_event(fixture)
    field = "date_modified_gmt" if platform == "woocommerce" else "updated_at"
    older = body | {field: body[field].replace("2026-11-2", "2026-11-1")}
    # Given a customer (or checkout) stored
    first = ingest.store.apply(*parsed(platform, topic, fixture))
    # When it comes again, and then an older state of it
    again = ingest.store.apply(*parsed(platform, topic, fixture, webhook_id="wh-2"))
    stale = ingest.store.apply(*parsed(platform, topic, older, webhook_id="wh-3"))
    # Then: stored, duplicate, stale; the item holds the first state
    assert (first, again, stale) == ("stored", "duplicate", "stale")
    item = ingest.read(pk)
    assert item is not None and item["wh"] == "wh-1" and item["h"] == body_hash(event_bytes(fixture))


def test_a_privacy_request_is_stored_once(ingest: Subject):
    request = ("generic", "customer_redact", "generic/customer_redact.json")
    # When a privacy request is delivered twice
    outcomes = [
        ingest.store.apply(*parsed(*request)),
        ingest.store.apply(*parsed(*request, webhook_id="wh-2")),
    ]
    # Then it is stored once
    assert outcomes == ["stored", "duplicate"]
    item = ingest.read(records.privacy_pk(WS, SRC, "req-2026-0117"))
    assert item is not None and item["t"] == "privacy" and item["wh"] == "wh-1"


def test_a_later_state_of_an_erased_order_counts_without_the_person(ingest: Subject):
    # Given an order whose person was erased on request
    ingest.store.apply(*parsed(*CREATE))
    ingest.erase(ORDER)
    # When a later state of it arrives
    outcome = ingest.store.apply(*parsed(*PAID, webhook_id="wh-2"))
    # Then it is stored, without the person
    item = ingest.read(ORDER)
    assert outcome == "stored"
    assert item is not None and "p" not in item and item["rdx"] == "req-1" and item["v"] == 2


STATES = [CREATE, PAID, DELIVERED, REFUND, CANCELLED]


@pytest.mark.parametrize(
    "order", [p for i, p in enumerate(itertools.permutations(range(len(STATES)))) if i % 23 == 0]
)
def test_any_order_of_an_orders_deliveries_ends_in_its_newest_state(ingest: Subject, order):
    # When an order's five deliveries arrive in this order
    outcomes = [ingest.store.apply(*parsed(*STATES[i], webhook_id=f"wh-{i}")) for i in order]
    # Then the newest state (cancelled, with the refund) is what is stored, and each delivery
    # was stored only if nothing newer was there yet
    item = ingest.read(ORDER)
    assert item is not None and item["st"] == "cancelled" and "rf_1019283746011" in item
    # (the refund is stored unless the cancelled state, which lists it, came first)
    before = [[j for j in order[:n] if j != 3] for n in range(len(order))]
    expected = [4 not in b if i == 3 else all(j < i for j in b) for i, b in zip(order, before, strict=True)]
    assert [o == "stored" for o in outcomes] == expected
    assert outcomes.count("stored") == item["v"]


def _scheduled(
    d: Scheduled, webhook_id: str, shift: timedelta = timedelta(0)
) -> tuple[Delivery, IngestPayload]:
    return parsed(
        d.platform, d.topic, d.fixture, webhook_id, d.triggered_at + shift if d.triggered_at else None
    )


def test_the_fake_and_the_adapter_leave_the_same_items(moto_stage: MotoStage):
    # Given both implementations
    fake, dynamo = _fake(), _dynamo(moto_stage)
    # When the store's whole history is delivered to each in order, backwards and retried
    history = [*BASE, *reversed(BASE), *BASE]
    answers = []
    for n, d in enumerate(history):
        answers.append(
            (
                fake.store.apply(*_scheduled(d, f"wh-{n % len(BASE)}")),
                dynamo.store.apply(*_scheduled(d, f"wh-{n % len(BASE)}")),
            )
        )
    # Then they answered alike and hold the same items
    assert [a for a, b in answers if a != b] == []
    assert {pk: dynamo.read(pk) for pk in fake.store.items} == fake.store.items
    scanned = moto_stage.dynamodb.scan(TableName=moto_stage.info.ingest_table)["Items"]
    assert len(scanned) == len(fake.store.items)
    # and the fake's stream (what the in-memory property test feeds the profiles) is the
    # table's: one record per accepted write, with the same old and new images
    assert stream_images(moto_stage) == fake.store.stream


def stream_images(stage: MotoStage) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    streams = stage.client("dynamodbstreams")
    description = streams.describe_stream(StreamArn=stage.info.ingest_stream_arn)["StreamDescription"]
    images = []
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stage.info.ingest_stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                change = record["dynamodb"]
                if set(change["NewImage"]) == {"pk"}:
                    # moto's UpdateItem of a new item first records the bare key (DynamoDB
                    # records one INSERT); the profile processor skips it (no `t`)
                    continue
                images.append((from_item(change.get("OldImage")), from_item(change["NewImage"])))
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return images


def imported(platform: str, topic: str, fixture: str) -> tuple[Delivery, IngestPayload]:
    """A history import's delivery of a state (domain/history_import.py): marked, its trigger
    time the state's own update time, its hash the file record's."""
    delivery, payload = parsed(platform, topic, fixture, webhook_id="")
    at = getattr(payload, "updated_at", None)
    marked = delivery.model_copy(
        update={"imported": True, "triggered_at": at, "body_hash": "iabc", "webhook_id": None}
    )
    return marked, payload


def test_an_imported_state_is_marked_once_and_a_webhooks_state_takes_the_mark_off(ingest: Subject):
    # Given an order stored by a history import
    first = ingest.store.apply(*imported(*CREATE))
    marked = ingest.read(ORDER)
    assert marked is not None and marked["imp"] is True
    # When the import runs again, then the same state arrives by webhook
    again = ingest.store.apply(*imported(*CREATE))
    hooked = ingest.store.apply(*parsed(*CREATE, webhook_id="wh-2"))
    after = ingest.store.apply(*imported(*CREATE))
    # Then the import is stored marked, its re-run is a duplicate; the webhook's state (no
    # older than the import's) is stored without the mark, and the import never overwrites it
    assert (first, again, hooked, after) == ("stored", "duplicate", "stored", "stale")
    item = ingest.read(ORDER)
    assert item is not None and "imp" not in item and item["v"] == 2 and item["wh"] == "wh-2"
    # And the import stored it past payment: historical for points (`ih`), kept by the webhook
    assert marked["ih"] is True and item["ih"] is True


def test_an_imported_state_after_its_webhook_changes_nothing(ingest: Subject):
    # Given an order that came by webhook
    ingest.store.apply(*parsed(*CREATE))
    before = ingest.read(ORDER)
    # When a history import brings the same state
    outcome = ingest.store.apply(*imported(*CREATE))
    # Then nothing changes: no mark, no new version
    assert outcome == "stale" and ingest.read(ORDER) == before


CHUNK = [CREATE, PAID, REFUND, ("shopify", "customers/create", "shopify/customers_create.json"), CREATE]


@pytest.mark.parametrize("hooked_first", [False, True])
def test_a_chunk_writes_what_one_by_one_writes_and_reads_it_back(ingest: Subject, hooked_first: bool):
    # Given a history import's chunk (a new order, a later state, its refund, a customer, the
    # order again), and the same written one by one elsewhere; or the order came by webhook first
    one_by_one = _fake()
    if hooked_first:
        ingest.store.apply(*parsed(*CANCELLED))
        one_by_one.store.apply(*parsed(*CANCELLED))
    chunk = [imported(*w) for w in CHUNK]
    expected = [one_by_one.store.apply(*w) for w in chunk]
    # When it is written as one chunk
    outcomes, images = ingest.store.write_chunk(chunk)  # type: ignore[attr-defined]
    # Then each answer and each item is what writing them one by one gives
    assert outcomes == expected and "stored" in outcomes
    assert {pk: ingest.read(pk) for pk in one_by_one.store.items} == one_by_one.store.items
    # And it answers with each item once as it is now, decoded, in first-named order
    assert [i.key for i in images] == [ORDER, CUSTOMER]
    assert images[0].imported is not hooked_first  # a webhook's state is never overwritten
