"""The FlowStore port's contract for runs: one scenario suite, run against the unit tests'
fake and the DynamoDB adapter on moto; and the run item's layout, which the mapping in
adapters/flows.py must keep byte for byte (the benchmarks count units by item size)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest

from chalicelib.adapters.codec import to_item
from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.flows import (
    DynamoCoupons,
    DynamoFlowStore,
    coupon_from_item,
    coupon_item,
    flow_from_item,
    flow_item,
    run_from_item,
    run_item,
)
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoredFlow, parse_flow
from chalicelib.domain.messaging.model import FlowRun, RunContext
from chalicelib.domain.messaging.ports import FlowStore
from tests.unit.test_flows import FakeCoupons, FakeFlowStore

DAY = date(2026, 11, 23)
DUE = "2026-11-23T13:00:00.000000Z"
UNTIL = "2026-11-23T13:05:00.000000Z"


def a_run(**changes: object) -> FlowRun:
    run = FlowRun(
        workspace_id="ws_1",
        customer_id="c_000a",
        run_id="nudge#k1",
        flow_id="nudge",
        key="k1",
        status="active",
        step=0,
        at="2026-11-23T12:00:00.000000Z",
        started="2026-11-23T12:00:00.000000Z",
        due=DUE,
        filed=DAY,
        context=RunContext(
            "checkout",
            products=["Mug"],
            checkout_url="https://shop.example/recover/k1",
            total=Decimal("19.90"),
            currency="EUR",
            guest={"e": "ana@example.com"},
        ),
    )
    return dataclasses.replace(run, **changes)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[FlowStore]:
    if request.param == "fake":
        yield FakeFlowStore()
        return
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="crm",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "rk", "nchk")
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_recheck",
                "KeySchema": [
                    {"AttributeName": "rk", "KeyType": "HASH"},
                    {"AttributeName": "nchk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    yield DynamoFlowStore(CrmTable(client, "crm"))


@pytest.fixture
def coupons(store: FlowStore) -> Any:
    """The coupon store on the same backend as `store` (the fake's, or the moto table)."""
    if isinstance(store, FakeFlowStore):
        return FakeCoupons()
    assert isinstance(store, DynamoFlowStore)
    return DynamoCoupons(store.t)


def test_a_coupon_is_issued_once_and_its_store_id_recorded_once(coupons: Any):
    # Given a coupon issued for a message, then issued again by a retried step
    coupon = IssuedCoupon(
        code="BACK1234567890",
        customer_id="c_000a",
        message_key="flow:nudge:k1:1",
        expires_at="2026-11-25T12:00:00.000000Z",
        percent_off=Decimal("10"),
    )
    first = coupons.issue("ws_1", coupon)
    again = coupons.issue("ws_1", dataclasses.replace(coupon, expires_at="2026-11-26T12:00:00.000000Z"))
    # When the store's id is recorded, and a second attempt records another
    recorded = coupons.registered("ws_1", coupon.code, "src_1", "gid://shopify/DiscountCodeNode/1")
    later = coupons.registered("ws_1", coupon.code, "src_1", "exists")
    # Then the first issue and the first store id hold
    assert again.expires_at == first.expires_at == coupon.expires_at
    assert (recorded, later) == (True, False)
    held = coupons.get("ws_1", coupon.code)
    node = "gid://shopify/DiscountCodeNode/1"
    assert (held.store_id, held.source_id, held.registered) == (node, "src_1", True)


def test_a_run_keeps_the_source_of_its_trigger(store: FlowStore):
    # Given a run started by a checkout of source src_1
    context = RunContext("checkout", checkout_url="https://shop.example/r", source_id="src_1")
    store.start_run(a_run(context=context))
    # When it is read back: Then its context names the source
    run = store.get_run("ws_1", "c_000a", "nudge#k1")
    assert run is not None and run.context is not None and run.context.source_id == "src_1"


def test_a_run_is_stored_once_and_read_back_whole(store: FlowStore):
    # Given a run started by a trigger
    run = a_run(segment="seg_1", birthday=True, log=[{"step": 0, "status": "sent", "at": DUE}])
    # When it is started twice (a redelivered trigger)
    first, second = store.start_run(run), store.start_run(a_run(step=1))
    # Then the first start holds, and the run reads back as it was
    assert (first, second) == (True, False)
    assert store.get_run("ws_1", "c_000a", "nudge#k1") == run
    assert store.runs("ws_1", "c_000a") == [run]
    assert store.get_run("ws_1", "c_000a", "other#k") is None


def test_a_save_is_conditioned_on_the_step_and_due_time_it_was_read_at(store: FlowStore):
    # Given a run, and a copy of it that another tick moved on
    store.start_run(a_run())
    moved = a_run(step=1, at=DUE, due="2026-11-24T08:00:00.000000Z", filed=date(2026, 11, 24))
    assert store.save_run(moved, 0, DUE)
    # When a stale copy is saved, conditioned on what it read
    stale = store.save_run(a_run(step=1, status="done", filed=None), 0, DUE)
    # Then it loses, and the run is the one the first tick saved
    assert stale is False
    assert store.get_run("ws_1", "c_000a", "nudge#k1") == moved


def test_the_due_index_holds_active_runs_by_day_until_their_due_time(store: FlowStore):
    # Given a run due at 13:00, one due at 15:00 the same day, and one that ended
    store.start_run(a_run())
    store.start_run(
        a_run(customer_id="c_000b", run_id="nudge#k2", key="k2", due="2026-11-23T15:00:00.000000Z")
    )
    store.start_run(a_run(customer_id="c_000c", run_id="nudge#k3", key="k3"))
    assert store.save_run(
        a_run(customer_id="c_000c", run_id="nudge#k3", key="k3", status="exited", filed=None), 0, DUE
    )
    # When the tick asks for the day's runs due by 13:05
    due = list(store.due(DAY, UNTIL))
    # Then only the first is due; the next day holds none
    assert due == [("ws_1", "c_000a", "nudge#k1")]
    assert list(store.due(date(2026, 11, 24), "2026-11-24T23:59:59.000000Z")) == []
    # And an ended run reads back out of the index
    assert store.get_run("ws_1", "c_000c", "nudge#k3").filed is None


def test_the_run_item_layout_is_unchanged():
    # Given an active run and an ended one
    active = a_run(tries=2, error="RuntimeError: down", log=[{"step": 0, "status": "deferred", "at": DUE}])
    ended = a_run(status="done", filed=None, reason="sent")
    # When they are mapped to items
    # Then the attributes are those the dict-shaped runs were stored with, None left out
    assert to_item(run_item(active)) == to_item(
        {
            "pk": "W#ws_1#FR#c_000a",
            "sk": "nudge#k1",
            "t": "flowrun",
            "ws": "ws_1",
            "cid": "c_000a",
            "id": "nudge#k1",
            "flow": "nudge",
            "key": "k1",
            "st": "active",
            "step": 0,
            "at": "2026-11-23T12:00:00.000000Z",
            "started": "2026-11-23T12:00:00.000000Z",
            "due": DUE,
            "ctx": {  # the checkout's values, under their stored names
                "url": "https://shop.example/recover/k1",
                "total": Decimal("19.90"),
                "cur": "EUR",
                "products": ["Mug"],
                "p": {"e": "ana@example.com"},
            },
            "tries": 2,
            "err": "RuntimeError: down",
            "log": active.log,
            "rk": "F#2026-11-23#10",  # the shard from the customer id's last hex digits
            "nchk": DUE,
        }
    )
    item = to_item(run_item(ended))
    assert "rk" not in item and "nchk" not in item and item["why"] == {"S": "sent"}
    assert "seg" not in item and "bday" not in item and "tries" not in item


def test_the_mapping_round_trips_and_keeps_attributes_it_does_not_know():
    # Given a stored item with an attribute the domain does not read
    stored = run_item(a_run(log=[{"step": 0, "status": "sent", "at": DUE}])) | {"xtra": "kept"}
    # When it is read and written back
    again = run_item(run_from_item(stored))
    # Then the item is the same, attribute for attribute
    assert again == stored
    assert run_from_item(stored).filed == DAY and run_from_item(stored).extra == {"xtra": "kept"}


WELCOME = parse_flow(
    {
        "id": "welcome",
        "name": "Welcome",
        "trigger": {"event": "order.first"},
        "steps": [{"wait": {"hours": 2}}, {"send": {"template": "flow_welcome", "channel": "email"}}],
    }
).model_dump(mode="json", exclude={"templates"})


def a_flow(version: int = 1, **changes: object) -> StoredFlow:
    flow = StoredFlow("welcome", "Welcome", version, True, "order.first", WELCOME)
    return dataclasses.replace(flow, **changes)


def test_a_definition_is_saved_at_the_version_it_was_read_at(store: FlowStore):
    # Given a flow saved once, and another workspace's
    store.put_flow("ws_1", a_flow(1), None)
    store.put_flow("ws_2", a_flow(1, name="Other"), None)
    # When it is saved again from version 1, and then again from version 1 (stale)
    store.put_flow("ws_1", a_flow(2, enabled=False), 1)
    with pytest.raises(Conflict):
        store.put_flow("ws_1", a_flow(2, name="Stale"), 1)
    # Then the second version holds, and reads back typed, its definition validated
    saved = store.flow("ws_1", "welcome")
    assert saved is not None and (saved.version, saved.enabled, saved.name) == (2, False, "Welcome")
    assert saved.trigger == "order.first" and saved.definition == WELCOME
    assert saved.flow.trigger.event == "order.first" and len(saved.flow.steps) == 2
    assert [f.name for f in store.flows("ws_1")] == ["Welcome"] and store.flow("ws_1", "nope") is None
    # And a flow created twice from nothing conflicts too
    with pytest.raises(Conflict):
        store.put_flow("ws_2", a_flow(1), None)


def test_the_flow_item_layout_round_trips():
    # Given a stored flow definition item
    item = flow_item("ws_1", a_flow(3, updated_at="2026-11-23T12:00:00.000000Z"))
    # When it is read and written back
    flow = flow_from_item(item)
    # Then the item is the same, attribute for attribute, with the layout flows have always had
    assert flow_item("ws_1", flow) == item
    assert item == {
        "pk": "W#ws_1#FLOW",
        "sk": "welcome",
        "t": "flow",
        "ws": "ws_1",
        "id": "welcome",
        "name": "Welcome",
        "ver": 3,
        "on": True,
        "def": WELCOME,
        "trg": "order.first",
        "ua": "2026-11-23T12:00:00.000000Z",
    }


def test_the_coupon_item_layout_round_trips():
    # Given a coupon of an amount off, as issued
    coupon = IssuedCoupon(
        code="BACK1234567890",
        customer_id="c_000a",
        message_key="flow:nudge:k1:1",
        expires_at="2026-11-25T12:00:00.000000Z",
        amount_off=Decimal("5.00"),
        currency="EUR",
        issued_at="2026-11-23T12:00:00.000000Z",
    )
    # When it is mapped to its item and read back
    item = coupon_item("ws_1", coupon)
    # Then the item has the layout coupons have always had (None left out when written), and
    # reads back the same coupon
    assert item == {
        "pk": "W#ws_1#CPN",
        "sk": "BACK1234567890",
        "t": "coupon",
        "ws": "ws_1",
        "cid": "c_000a",
        "mk": "flow:nudge:k1:1",
        "pct": None,
        "amt": Decimal("5.00"),
        "cur": "EUR",
        "exp": "2026-11-25T12:00:00.000000Z",
        "ia": "2026-11-23T12:00:00.000000Z",
        "src": None,
        "sid": None,
        "reg": None,
        "ro": None,  # not redeemed: the redemption's attributes are left out
        "rat": None,
        "rrev": None,
    }
    assert coupon_from_item(to_plain(item)) == coupon


def test_a_coupon_made_in_the_store_or_only_here_round_trips():
    # Given a coupon the store created and one its unconnected source could not register
    base = IssuedCoupon(
        code="BACK1234567890",
        customer_id="c_000a",
        message_key="flow:nudge:k1:1",
        expires_at="2026-11-25T12:00:00.000000Z",
        percent_off=Decimal("10"),
    )
    made = dataclasses.replace(
        base, source_id="src_1", store_id="gid://shopify/DiscountCodeNode/1", registered=True
    )
    here = dataclasses.replace(base, registered=False)
    # When each is mapped to its item and read back
    items = [coupon_item("ws_1", c) for c in (made, here)]
    # Then the store's id, the source and the registered mark are kept, and read back the same
    assert (items[0]["src"], items[0]["sid"], items[0]["reg"]) == ("src_1", made.store_id, True)
    assert items[1]["reg"] is False and items[1]["sid"] is None
    assert [coupon_from_item(to_plain(i)) for i in items] == [made, here]


def to_plain(item: dict[str, object]) -> dict[str, object]:
    """The item as DynamoDB returns it: no None values."""
    return {k: v for k, v in item.items() if v is not None}
