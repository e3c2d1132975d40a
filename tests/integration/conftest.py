from __future__ import annotations

from collections.abc import Iterator

import pytest

import patron.cli
from patron.harness import Harness, Workspace
from tests.conftest import load_event

SHOP = "demo-store.myshopify.com"
WOO = "https://shop.example.org"
GENERIC = "pos.example.com"
SECRET = "shpss_" + "a1b2c3d4" * 4
WOO_SECRET = "wc_" + "z9y8x7w6" * 4
GENERIC_SECRET = "gen_" + "q1w2e3r4" * 4


@pytest.fixture
def stage(aws: None) -> Iterator[Harness]:
    harness = Harness(stage="test")
    yield harness
    harness.close()


@pytest.fixture
def ws(stage: Harness) -> Workspace:
    workspace = stage.create_workspace("Demo Brand", "USD")
    stage.add_source(workspace, "shopify", SHOP, SECRET)
    stage.add_source(workspace, "woocommerce", WOO, WOO_SECRET)
    stage.add_source(workspace, "generic", GENERIC, GENERIC_SECRET)
    return workspace


def put_order_of_unknown_workspace(stage: Harness, workspace_id: str = "ws_gone") -> str:
    """Write, behind the webhook's back, an order item whose workspace does not exist: a
    record the stream processor cannot apply until the workspace appears. Returns its pk."""
    item = load_event("dynamodb/order_item_unknown_workspace.json")
    pk = item["pk"]["S"].replace("ws_gone", workspace_id)
    item.update(pk={"S": pk}, ws={"S": workspace_id})
    stage.client("dynamodb").put_item(TableName=stage.info.ingest_table, Item=item)
    return pk


@pytest.fixture
def cli_on(stage: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    """The CLI acting on the in-process stage instead of a running local stack."""
    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    return stage
