"""Property on moto: a few delivery schedules of the store's history (any permutation,
retries, the stream processed late, several deliveries at once) through the real app, its
webhook handler, DynamoDB tables and stream poller, give the profiles the in-order delivery
gives, and the in-memory path (tests/unit/test_ingest_properties.py) gives."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, Phase, given, settings

from chalicelib.adapters.codec import from_item
from patron.harness import Harness, Workspace
from tests.ingest_schedule import BASE, RECEIVED, SECRETS, Delivery, Schedule, draw_schedule, profile_views
from tests.unit.test_ingest_properties import in_order

FEW = settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking on moto: the drawn schedule is reported
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_workspaces = itertools.count()


@pytest.fixture
def stage(aws: None) -> Iterator[Harness]:
    with time_machine.travel(RECEIVED, tick=True):
        harness = Harness(stage="prop")
        yield harness
        harness.close()


def new_workspace(stage: Harness) -> tuple[Workspace, dict[str, str]]:
    """A workspace with its three sources (shops of its own); its source ids by platform."""
    n = next(_workspaces)
    ws = stage.create_workspace(f"Brand {n}", "USD")
    stage.container.workspaces.set_rate(ws.workspace_id, "EUR", Decimal("1.10"))
    shops = {
        "shopify": f"store-{n}.myshopify.com",
        "woocommerce": f"https://shop-{n}.example.org",
        "generic": f"pos-{n}.example.com",
    }
    for platform, shop in shops.items():
        stage.add_source(ws, platform, shop, SECRETS[platform])
    # named as the in-memory stage names them (tests/unit/test_ingest_properties.py)
    names = {"shopify": "src_0", "woocommerce": "src_1", "generic": "src_2"}
    return ws, {ws.sources[p]["source_id"]: names[p] for p in shops}


def send(stage: Harness, ws: Workspace, delivery: Delivery) -> Any:
    headers = {}
    if delivery.triggered_at is not None:
        headers["X-Shopify-Triggered-At"] = delivery.triggered_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return stage.send(ws, delivery.platform, delivery.topic, delivery.body, delivery.delivery_id, headers)


def run(stage: Harness, schedule: Schedule) -> dict[frozenset[str], dict[str, Any]]:
    ws, names = new_workspace(stage)
    for delivery, steps in zip(schedule.deliveries, schedule.stream, strict=True):
        response = send(stage, ws, delivery)
        assert response.status_code == 200, response.body
        if steps:  # the stream catches up now; otherwise its records wait
            stage.drain()
    stage.drain()
    scanned = stage.client("dynamodb").scan(TableName=stage.info.crm_table)["Items"]  # test only
    items = {(i["pk"]["S"], i["sk"]["S"]): from_item(i) or {} for i in scanned}
    mine = {k: v for k, v in items.items() if k[0].startswith(f"W#{ws.workspace_id}#P#")}
    return profile_views(mine, names)


@FEW
@given(schedule=draw_schedule(max_retries=3))
def test_delivery_schedules_on_moto_give_the_in_order_profiles(stage: Harness, schedule: Schedule):
    # Given the profiles of the in-order delivery, on moto (once per stage) and in memory
    if not hasattr(stage, "in_order_views"):
        stage.in_order_views = run(stage, Schedule(list(BASE), [[] for _ in BASE]))  # type: ignore[attr-defined]
    expected = stage.in_order_views  # type: ignore[attr-defined]
    with time_machine.travel(RECEIVED, tick=False):
        in_memory = in_order().views()
    # When the schedule's deliveries go through the app on moto
    got = run(stage, schedule)
    # Then the profiles are the same, and the same as the in-memory path makes
    assert got == expected
    assert expected == in_memory
