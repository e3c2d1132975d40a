"""`patron source connect` and `source show` on an in-process stage (moto): credentials go to
Secrets Manager, the source says it is connected without printing them, and the client built
from the stored connection talks to a local Shopify / WooCommerce stand-in."""

from __future__ import annotations

import json

import pytest

from chalicelib.adapters.storefront_admin.clients import admin_client
from chalicelib.adapters.storefront_admin.http import RetryPolicy
from tests.cli_runs import run
from tests.storefront_servers import ShopifyServer, WooCommerceServer

TOKEN = "shpat_connect_token_0123"
PRODUCTS = (
    "query($after: String) { products(first: 2, after: $after) "
    "{ nodes { id } pageInfo { hasNextPage endCursor } } }"
)


def test_a_shopify_source_is_connected_and_its_client_reaches_the_store(cli_on, ws):
    source_id = ws.sources["shopify"]["source_id"]
    before = json.loads(run("source", "show", "-w", ws.workspace_id, source_id).stdout)
    with ShopifyServer(TOKEN, "2025-10", products=3).running() as shop:
        # When the operator connects the source to the store (a local stand-in here)
        connected = run(
            "source",
            "connect",
            "-w",
            ws.workspace_id,
            source_id,
            "--access-token",
            TOKEN,
            "--api-version",
            "2025-10",
            "--endpoint",
            shop.url,
        )
        shown = run("source", "show", "-w", ws.workspace_id, source_id)
        # and a client is built from what was stored
        source = cli_on.container.workspaces.source(ws.workspace_id, source_id)
        client = admin_client(source, cli_on.container.secrets, RetryPolicy(sleep=lambda s: None))
        nodes = list(client.nodes(PRODUCTS, ("products",)))

    # Then the source says it is connected, with its pinned version, and no output names the token
    assert before["admin_api"] == {"connected": False}
    assert connected.exit_code == 0, connected.stderr
    assert json.loads(shown.stdout)["admin_api"] == {
        "connected": True,
        "api_version": "2025-10",
        "endpoint": shop.url,
    }
    assert TOKEN not in connected.stdout + shown.stdout
    # and the stored token, version and endpoint reach the store
    assert [n["id"] for n in nodes] == [f"gid://shopify/Product/{n}" for n in (1, 2, 3)]
    assert {s.path for s in shop.seen} == {"/admin/api/2025-10/graphql.json"}


def test_a_woocommerce_source_takes_a_consumer_key_and_secret(cli_on, ws):
    source_id = ws.sources["woocommerce"]["source_id"]
    with WooCommerceServer("ck_connect_key", "cs_connect_secret", orders=3).running() as woo:
        # When a WooCommerce source is connected
        connected = run(
            "source",
            "connect",
            "-w",
            ws.workspace_id,
            source_id,
            "--consumer-key",
            "ck_connect_key",
            "--consumer-secret",
            "cs_connect_secret",
            "--endpoint",
            woo.url,
        )
        source = cli_on.container.workspaces.source(ws.workspace_id, source_id)
        orders = list(admin_client(source, cli_on.container.secrets).items("orders"))

    # Then it is connected, nothing printed names the secret, and the stored pair is accepted
    assert connected.exit_code == 0, connected.stderr
    assert json.loads(connected.stdout)["admin_api"] == {"connected": True, "endpoint": woo.url}
    assert "cs_connect_secret" not in connected.stdout
    assert [o["id"] for o in orders] == [1, 2, 3]


@pytest.mark.parametrize(
    ("platform", "args", "error"),
    [
        (
            "shopify",
            ("--consumer-key", "ck_123456789"),
            "a Shopify source takes --access-token, not a consumer key",
        ),
        (
            "shopify",
            ("--access-token", TOKEN, "--api-version", "2025-08"),
            "api version must be a release, e.g. 2025-07",
        ),
        (
            "woocommerce",
            ("--consumer-key", "ck_123456789"),
            "give the consumer secret (--consumer-secret cs_...)",
        ),
        (
            "woocommerce",
            ("--consumer-key", "ck_123456789", "--consumer-secret", "cs_123456789", "--endpoint", "ftp://x"),
            "endpoint must be an http(s) URL such as https://shop.example",
        ),
        ("generic", ("--access-token", TOKEN), "a generic source has no Admin API to connect"),
    ],
)
def test_wrong_credentials_for_the_platform_are_refused_in_one_line(cli_on, ws, platform, args, error):
    # When a source is connected with what its platform does not take
    result = run("source", "connect", "-w", ws.workspace_id, ws.sources[platform]["source_id"], *args)
    # Then one line says what it takes, and the source stays unconnected
    assert (result.exit_code, result.stderr) == (2, f"error: {error}\n")
    shown = json.loads(run("source", "show", "-w", ws.workspace_id, ws.sources[platform]["source_id"]).stdout)
    assert shown["admin_api"] == {"connected": False}
