"""Loyalty from the CLI against the local stack, as a user runs it: switched on, an order
webhook, the customer's points, a redemption as store credit, the customer's tier."""

from __future__ import annotations

import json

import pytest

from patron.http import post
from patron.storefront import shopify_headers
from tests.conftest import event_bytes
from tests.e2e.test_local_stack import SECRET, SHOP, customers_with, eventually, local  # noqa: F401

pytestmark = pytest.mark.e2e


def test_points_redemption_and_tier_from_the_cli(local, tmp_path):  # noqa: F811 - the stack fixture
    cli, ws = local["cli"], local["workspace_id"]
    # Given loyalty switched on from the CLI: 1 point per USD, available the day after payment
    # (return window 0: the order below was paid on 2026-11-20, so this holds on any later
    # day), store credit at 0.05 USD a point from 100 points, and a lifetime silver tier
    rules = json.loads(
        cli(
            "workspace",
            "loyalty",
            "-w",
            ws,
            "--on",
            "--points-per-unit",
            "1",
            "--return-window-days",
            "0",
            "--redeem-as",
            "store_credit",
            "--redeem-value-per-point",
            "0.05",
            "--redeem-min-points",
            "100",
        )
    )
    assert (rules["enabled"], rules["redeem_as"], rules["redeem_min_points"]) == (True, "store_credit", 100)
    tiers = tmp_path / "tiers.json"
    tiers.write_text(
        json.dumps(
            {"measure": "net_spend", "window": "lifetime", "tiers": [{"name": "silver", "enter": 100}]}
        )
    )
    assert (
        json.loads(cli("workspace", "tiers", "-w", ws, "--set", str(tiers)))["tiers"][0]["name"] == "silver"
    )
    # When a signed Shopify order of 122.00 USD arrives by webhook
    body = event_bytes("shopify/orders_create.json")
    status, _ = post(
        f"{local['url']}/webhooks/shopify",
        body,
        shopify_headers(SHOP, "orders/create", SECRET, body, "loy-1"),
    )
    assert status == 200
    (profile,) = customers_with(local, "jane.doe@example.com")
    cid = profile["customer_id"]

    def earned() -> dict | None:
        answer = json.loads(cli("customers", "points", "-w", ws, cid))
        return answer if answer["total"] else None

    # Then `patron customers points` shows the order's 122 points, available, on the ledger
    points = eventually(earned)
    assert points is not None
    assert (points["available"], points["pending"], points["debt"], points["total"]) == (122, 0, 0, 122)
    (entry,) = points["entries"]
    assert (entry["kind"], entry["points"], entry["rate"]) == ("earn", 122, "1")
    # And `patron customers tier` shows silver, entered at once by that order
    tier = json.loads(cli("customers", "tier", "-w", ws, cid))
    assert (tier["tier"], tier["value"], tier["measure"]) == ("silver", "122.00", "net_spend")
    # When the customer redeems 100 points as store credit, twice with the same key (a retry)
    first = json.loads(cli("customers", "redeem", cid, "-w", ws, "--points", "100", "--key", "e2e-redeem-1"))
    again = json.loads(cli("customers", "redeem", cid, "-w", ws, "--points", "100", "--key", "e2e-redeem-1"))
    # Then one redemption of 100 points worth 5.00 USD is on the ledger, and 22 points are left
    assert first["entry"] == again["entry"]
    assert (first["entry"]["points"], first["entry"]["amount"], first["entry"]["currency"]) == (
        -100,
        "5.00",
        "USD",
    )
    after = json.loads(cli("customers", "points", "-w", ws, cid))
    assert (after["available"], after["total"]) == (22, 22)
    assert sorted(e["kind"] for e in after["entries"]) == ["earn", "redeem"]
    assert sum(e["points"] for e in after["entries"]) == after["total"]
