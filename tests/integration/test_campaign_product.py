"""A campaign's featured product (`product` = `SOURCE_ID.PRODUCT_ID`): checked against the
catalogue when the campaign is created (API and CLI), its title, page and picture fill
`{{ product.* }}` for every recipient with no catalogue read per recipient; product.* in a
campaign without a product is refused at creation."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.messaging.templates import TemplateIn
from patron.bench.campaign import bulk_destinations, customer, put_customers
from tests.cli_runs import run
from tests.conftest import event_bytes
from tests.integration.test_campaigns import create, post, progress, run_minute, world

__all__ = ["world"]

TEE = "8012345678901"  # products_update.json: "Organic Cotton Tee (Heavyweight)"
FEATURE = TemplateIn(
    name="feature",
    subject="New: {{ product.title }}",
    html="<p>{{ product.title }} <a href='{{ product.url }}'>see it</a> <img src='{{ product.image }}'></p>",
    text="{{ product.title }}: {{ product.url }}",
)


@pytest.fixture
def featured(world):
    """The world of test_campaigns.py, the Shopify tee in the catalogue, a template naming it."""
    stage, ws, _ = world
    sent = stage.send(ws, "shopify", "products/update", event_bytes("shopify/products_update.json"))
    assert sent.status_code == 200, sent.body
    stage.container.template_service.save(ws.workspace_id, "feature", FEATURE)
    return stage, ws, f"{ws.sources['shopify']['source_id']}.{TEE}"


def refused(stage, ws, **changes) -> dict:
    body = {**json.loads(event_bytes("campaigns/create_one_variant.json")), **changes}
    response = post(stage, ws, "/campaigns", body)
    assert response.status_code == 400, response.body
    return json.loads(response.body)


def test_every_recipient_gets_the_campaigns_product_read_once(featured, monkeypatch):
    stage, ws, ref = featured
    # Given three subscribed customers, and the catalogue's reads counted
    put_customers(stage, ws.workspace_id, [customer(n) for n in range(3)])
    catalogue, reads = stage.container.catalogue, []
    real_product, real_products = catalogue.product, catalogue.products
    monkeypatch.setattr(catalogue, "product", lambda *a: reads.append("product") or real_product(*a))
    monkeypatch.setattr(catalogue, "products", lambda *a: reads.append("products") or real_products(*a))
    # When a campaign featuring the tee is created and sent
    campaign_id = create(stage, ws, product=ref, variants=[{"id": "a", "template_id": "feature"}])
    post(stage, ws, f"/campaigns/{campaign_id}/start")
    run_minute(stage)
    # Then each message names the tee by its catalogue title, page and picture
    sent = bulk_destinations(stage)
    assert len(sent) == 3
    for message in sent:
        assert message["data"]["subject"] == "New: Organic Cotton Tee (Heavyweight)"
        assert "https://" in message["data"]["html"].split("href='", 1)[1]
        assert "<img src='https://" in message["data"]["html"]
    # and the catalogue was read once, when the campaign was created
    assert reads == ["product"]
    assert progress(stage, ws, campaign_id)["product"] == ref


def test_an_unknown_or_deleted_product_is_refused_at_creation(featured):
    stage, ws, ref = featured
    # When a campaign names a product the catalogue does not know
    unknown = refused(stage, ws, product=f"{ws.sources['shopify']['source_id']}.999")
    # Then it is refused with the product named
    assert "not in the catalogue" in unknown["message"] and unknown["details"][0]["field"] == "product"
    # When the tee is deleted from the store and a campaign names it
    stage.send(ws, "shopify", "products/delete", event_bytes("shopify/products_delete.json"))
    deleted = refused(stage, ws, product=ref)
    # Then it is refused too
    assert "was deleted" in deleted["message"]


def test_product_fields_without_a_product_are_refused_at_creation(featured):
    stage, ws, _ = featured
    # When a campaign without a product uses a template that prints product.*
    body = refused(stage, ws, variants=[{"id": "a", "template_id": "feature"}])
    # Then it is refused, saying what to add
    assert "uses product.*" in body["message"] and "feature" in body["message"]
    # And a template without product.* still makes a campaign without one
    assert create(stage, ws)


def test_the_cli_creates_a_campaign_with_a_product(featured, cli_on):
    _, ws, ref = featured
    # When the operator creates a campaign with --product
    args = ["campaign", "create", "-w", ws.workspace_id, "--name", "Tee launch", "--segment", "account:guest"]
    done = run(*args, "--variant", "a=feature", "--product", ref)
    # Then it names the product
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["product"] == ref
    # and an unknown product is refused with the reason
    bad = run(*args, "--variant", "a=feature", "--product", f"{ref}0")
    assert bad.exit_code != 0 and "not in the catalogue" in bad.stderr
