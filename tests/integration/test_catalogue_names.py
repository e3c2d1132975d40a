"""Product names where people read them: the customer timeline's order lines are titled
from the catalogue when it knows the product (a deleted one keeps its last name), else with
the title the order carried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chalicelib.domain.messaging.templates import TemplateIn
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes
from tests.integration.test_flows import CHECKOUT_AT, FLOWS
from tests.integration.test_notifications import SENDER, sent_emails

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


@pytest.fixture
def recovery_ws(stage: Harness, ws: Workspace) -> Workspace:
    """The shipped abandoned-checkout flow, its template naming the checkout's product."""
    stage.client("ses").verify_email_identity(EmailAddress=SENDER)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], SENDER, None)
    stage.container.flows.clock = lambda: CHECKOUT_AT
    stage.container.flows.apply(ws.workspace_id, json.loads((FLOWS / "abandoned_checkout.json").read_text()))
    stage.container.template_service.save(
        ws.workspace_id,
        "flow_abandoned_checkout",
        TemplateIn(
            name="Recovery",
            subject="Still thinking about {{ product.title | default: 'your cart' }}?",
            text="[{{ product.title }}] [{{ product.url }}] "
            "[{{ product.image | default: 'none' }}] {{ coupon_code }}",
        ),
    )
    return ws


@pytest.mark.parametrize("known", [True, False])
def test_a_recovery_email_names_the_checkouts_first_product_from_the_catalogue(stage, recovery_ws, known):
    ws = recovery_ws
    # Given the catalogue knows the checkout's first product (the tee, renamed since) or not
    if known:
        send(stage, ws, "products/update", "shopify/products_update.json")
    # When Jane abandons her checkout and the reminder is due
    send(stage, ws, "checkouts/create", "shopify/checkouts_create.json")
    stage.drain()
    stage.container.flows.tick(CHECKOUT_AT + timedelta(hours=4, minutes=5))

    # Then the reminder names the tee by its catalogue title, page and picture
    (email,) = sent_emails(stage)
    text = email.get_body(("plain",)).get_content()
    if known:
        tee = json.loads(stage.get(ws, f"/products/{ws.sources['shopify']['source_id']}.{TEE}").body)
        assert email["Subject"] == "Still thinking about Organic Cotton Tee (Heavyweight)?"
        assert text.startswith(f"[Organic Cotton Tee (Heavyweight)] [{tee['url']}] [{tee['image']}] BACK")
    else:  # or, unknown to the catalogue, leaves the fields empty (defaults apply)
        assert email["Subject"] == "Still thinking about your cart?"
        assert text.startswith("[] [] [none] BACK")
