"""shop/redact also takes the source's catalogue and its Admin API secret (deleted without
recovery), resumably; the other store's catalogue and connection stay."""

from __future__ import annotations

import json

import pytest

from tests.cli_runs import run
from tests.conftest import event_bytes
from tests.integration.test_source_erasure import REMOVED, audit, shop_ws

__all__ = ["shop_ws"]

TEE = "8012345678901"  # products_update.json


def connect(stage, ws, platform: str, *credentials: str) -> str:
    """`patron source connect` for the workspace's source of `platform`; its secret's ref."""
    source_id = ws.sources[platform]["source_id"]
    done = run("source", "connect", "-w", ws.workspace_id, source_id, *credentials)
    assert done.exit_code == 0, done.stderr
    source = stage.container.workspaces.source(ws.workspace_id, source_id)
    assert source is not None and source.admin_ref is not None
    return source.admin_ref


def secret_exists(stage, ref: str) -> bool:
    sm = stage.client("secretsmanager")
    try:
        sm.describe_secret(SecretId=ref)
    except sm.exceptions.ResourceNotFoundException:
        return False
    return True


@pytest.fixture
def catalogued(stage, shop_ws, cli_on):
    """Both stores connected to their Admin APIs, and each sent one product."""
    ws = shop_ws
    shop_secret = connect(stage, ws, "shopify", "--access-token", "shpat_erase_me_0123")
    woo_secret = connect(
        stage, ws, "woocommerce", "--consumer-key", "ck_erase_key", "--consumer-secret", "cs_erase_secret"
    )
    assert (
        stage.send(ws, "shopify", "products/update", event_bytes("shopify/products_update.json")).status_code
        == 200
    )
    sent = stage.send(ws, "woocommerce", "product.updated", event_bytes("woocommerce/product_updated.json"))
    assert sent.status_code == 200, sent.body
    woo_product = json.loads(event_bytes("woocommerce/product_updated.json"))["id"]
    return ws, shop_secret, woo_secret, woo_product


def product(stage, ws, platform: str, pid: object) -> int:
    return stage.get(ws, f"/products/{ws.sources[platform]['source_id']}.{pid}").status_code


def test_shop_redact_deletes_the_shops_catalogue_and_admin_secret(stage, catalogued):
    ws, shop_secret, woo_secret, woo_product = catalogued
    assert product(stage, ws, "shopify", TEE) == 200 and secret_exists(stage, shop_secret)
    # When Shopify sends shop/redact
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()
    # Then the shop's product and its Admin API secret are gone, and the source is no longer connected
    assert product(stage, ws, "shopify", TEE) == 404
    assert not secret_exists(stage, shop_secret)
    shown = json.loads(
        run("source", "show", "-w", ws.workspace_id, ws.sources["shopify"]["source_id"]).stdout
    )
    assert shown["admin_api"] == {"connected": False}
    # and the WooCommerce site's product and connection stay
    assert product(stage, ws, "woocommerce", woo_product) == 200 and secret_exists(stage, woo_secret)
    # and the audit counts them beside the rest
    assert audit(stage, ws)["removed"] == REMOVED | {"products": 1, "admin_secrets": 1}


def test_an_erasure_failing_after_the_secret_went_is_retried_and_counts_once(stage, catalogued, monkeypatch):
    ws, shop_secret, _, _ = catalogued
    shop = ws.sources["shopify"]["source_id"]
    # Given the last step fails once the secret was deleted, before the source forgot it
    store = stage.container.source_erasure.store
    real, calls = store.disconnect, []

    def disconnect_failing_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the Lambda timed out")
        return real(*args)

    monkeypatch.setattr(store, "disconnect", disconnect_failing_once)
    # When Shopify sends shop/redact (its failed record is retried by the stream)
    stage.send(ws, "shopify", "shop/redact", event_bytes("shopify/shop_redact.json"))
    stage.drain()
    stage.drain()
    done = stage.container.source_erasure.status(ws.workspace_id, shop)
    # Then the retry found the secret gone and finished: the source forgot it, counted once
    assert len(calls) == 2 and not secret_exists(stage, shop_secret)
    assert done["state"] == "source_erased"
    assert done["removed"]["products"] == 1 and done["removed"]["admin_secrets"] == 1
    assert stage.container.workspaces.source(ws.workspace_id, shop).admin_ref is None
    # and an operator's re-run changes nothing
    assert stage.container.source_erasure.run(ws.workspace_id, shop)["removed"] == done["removed"]
