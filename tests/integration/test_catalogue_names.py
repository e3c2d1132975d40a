"""Product names where people read them: the customer timeline's order lines are titled
from the catalogue when it knows the product (a deleted one keeps its last name), else with
the title the order carried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from patron.harness import Harness, Workspace
from tests.conftest import event_bytes

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TEE = "8012345678901"  # the Shopify order fixture's first product, and the product fixtures'


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def send(stage: Harness, ws: Workspace, topic: str, fixture: str) -> None:
    response = stage.send(ws, "shopify", topic, event_bytes(fixture))
    assert response.status_code == 200, response.body


def placed(stage: Harness, ws: Workspace) -> dict:
    found = stage.get(ws, "/customers?email=jane.doe@example.com")
    assert found.status_code == 200, found.body
    (profile,) = json.loads(found.body)["customers"]
    response = stage.get(ws, f"/customers/{profile['customer_id']}")
    assert response.status_code == 200, response.body
    return next(e for e in json.loads(response.body)["timeline"] if e["type"] == "order_placed")


def test_the_timeline_titles_order_lines_from_the_catalogue(stage, ws):
    # Given a customer's order of the tee, the pour-over set and the beans
    send(stage, ws, "orders/create", "shopify/orders_create.json")
    stage.drain()
    before = placed(stage, ws)
    # When the store sends the tee's product (renamed since the order), then deletes it
    send(stage, ws, "products/update", "shopify/products_update.json")
    named = placed(stage, ws)
    send(stage, ws, "products/delete", "shopify/products_delete.json")
    deleted = placed(stage, ws)

    # Then before, each line shows the title the order carried
    assert [(p["id"], p["title"]) for p in before["products"]] == [
        (TEE, "Organic Cotton Tee"),
        ("8012345679011", "Ceramic Pour-Over Set"),
        ("8012345679122", "Single-Origin Coffee Beans"),
    ]
    # and once the catalogue knows the tee, its line has the catalogue's title, page and picture
    tee = named["products"][0]
    assert tee["title"] == "Organic Cotton Tee (Heavyweight)"
    assert tee["url"] and tee["image"] and tee["deleted"] is False
    assert named["products"][1]["title"] == "Ceramic Pour-Over Set"
    # and a deleted tee keeps its last known name
    assert (deleted["products"][0]["title"], deleted["products"][0]["deleted"]) == (
        "Organic Cotton Tee (Heavyweight)",
        True,
    )
