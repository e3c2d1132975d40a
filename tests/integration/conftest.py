from __future__ import annotations

from collections.abc import Iterator

import pytest

from patron.harness import Harness, Workspace

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
