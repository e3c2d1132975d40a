"""The `recommend_train` job on moto: a workspace's orders, through webhooks and the streams,
trained into its stored model once a day (domain/recommend/training.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from chalicelib.handlers import jobs
from patron.harness import Harness, Workspace
from patron.poller import LambdaContext
from tests.conftest import event_bytes, load_event

NOW = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)
JOB_MS = 900_000  # the function's timeout (chalice.json): its time budget
HOOK, ROD, NET = "9100000000001", "9100000000002", "9100000000003"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def order(n: int, customer: int, product: str, days_ago: int, cancelled: bool = False) -> bytes:
    """The Shopify order fixture as customer `customer`'s order of one product."""
    body: dict[str, Any] = load_event("shopify/orders_create.json")
    placed = (NOW - timedelta(days=days_ago)).isoformat()
    email = f"angler{customer}@example.com"
    body.update(
        id=7_000_000 + n,
        name=f"#{5000 + n}",
        order_number=5000 + n,
        email=email,
        contact_email=email,
        created_at=placed,
        updated_at=placed,
        processed_at=placed,
    )
    body["customer"].update(id=8_000_000 + customer, email=email, phone=None)
    for address in ("billing_address", "shipping_address"):
        body[address]["phone"] = None
    line = dict(body["line_items"][0], product_id=int(product), sku=None, title=f"Product {product}")
    body["line_items"] = [line]
    if cancelled:
        body.update(cancelled_at=placed, cancel_reason="customer", financial_status="voided")
    return json.dumps(body).encode()


def send(stage: Harness, ws: Workspace, topic: str, body: bytes) -> None:
    response = stage.send(ws, "shopify", topic, body)
    assert response.status_code == 200, response.body


def anglers(stage: Harness, ws: Workspace) -> None:
    """Six anglers bought a hook, then a rod ten days later; a seventh cancelled the rod."""
    for c in range(7):
        send(stage, ws, "orders/create", order(2 * c, c, HOOK, 35))
        send(stage, ws, "orders/create", order(2 * c + 1, c, ROD, 25, cancelled=c == 6))
    tackle = json.loads(event_bytes("shopify/products_create.json"))
    tackle.update(id=int(HOOK), product_type="Tackle", title="Hook")
    send(stage, ws, "products/create", json.dumps(tackle).encode())
    stage.drain()


def run() -> dict[str, Any]:
    return jobs.recommend_train(
        load_event("eventbridge/scheduled_event.json"), LambdaContext("job", timeout_ms=JOB_MS)
    )


def test_the_job_trains_the_workspace_once_a_day(stage, ws):
    # Given a workspace whose anglers buy a rod ten days after a hook
    anglers(stage, ws)
    # When the hourly job runs, then runs again an hour later
    first = run()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        second = run()
    # Then the first trains the workspace from its 7 customers and 13 counted orders
    assert first["workspaces_trained"] == 1 and first["workspaces_pending"] == 0
    assert first["profiles_read"] == 7 and first["baskets"] == 13
    models = stage.container.recommender_models
    summary = models.summary(ws.workspace_id)
    assert summary is not None and (summary.orders, summary.customers, summary.products) == (13, 7, 2)
    assert summary.trained_at == NOW
    # and the hook leads to the rod, ten days on, with the catalogue's category
    hook = models.signals(ws.workspace_id, [HOOK, ROD, NET])[HOOK]
    (link,) = hook.next
    assert (link.product_id, link.count, link.gap_days) == (ROD, 6, 10)
    assert hook.category == "Tackle"
    # and the popular list holds the rod first (the hooks were bought before the 30-day
    # window: they follow, as an all-time favourite, scored below it)
    popular = models.popular(ws.workspace_id)
    assert [(p.product_id, p.category) for p in popular] == [(ROD, None), (HOOK, "Tackle")]
    assert popular[1].score < popular[0].score
    # And the second run that day does nothing
    assert second["workspaces_trained"] == 0 and second["profiles_read"] == 0


def test_the_cli_trains_now_and_prints_the_figures(cli_on, ws, capsys):
    from patron.cli import main

    # Given the anglers' workspace
    anglers(cli_on, ws)
    # When `patron recommend train -w WS --json` runs, and again five minutes later
    assert main(["recommend", "train", "-w", ws.workspace_id, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert main(["recommend", "train", "-w", ws.workspace_id, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    # Then the first writes the two products, the popular list and the summary
    assert (first["orders"], first["customers"], first["products"], first["written"]) == (13, 7, 2, 4)
    # and the second, nothing having moved, only the list and the summary
    assert second["written"] == 2 and second["done"] is True
