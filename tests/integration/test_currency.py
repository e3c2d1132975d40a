"""Currencies that never read as zero: a workspace without a currency takes its first
order's; orders in a currency without a rate are reported with the command that fixes it."""

from __future__ import annotations

import json

import pytest

from patron import cli
from patron.harness import Harness, Workspace
from tests.conftest import event_bytes
from tests.integration.conftest import SECRET, SHOP, WOO, WOO_SECRET

LENA = "lena.hofer@example.org"  # the WooCommerce order's customer (EUR, 104.88)
JANE = "jane.doe@example.com"  # the Shopify order's customer (USD, 122.00)


def profile(stage: Harness, ws: Workspace, email: str) -> dict:
    response = stage.get(ws, f"/customers?email={email}")
    assert response.status_code == 200, response.body
    (found,) = json.loads(response.body)["customers"]
    return found


def create_without_currency(stage: Harness, capsys: pytest.CaptureFixture[str]) -> Workspace:
    assert cli.main(["workspace", "create", "Euro Shop", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    ws = Workspace(created["workspace_id"], created["api_key"])
    stage.add_source(ws, "woocommerce", WOO, WOO_SECRET)
    stage.add_source(ws, "shopify", SHOP, SECRET)
    return ws


def test_a_workspace_created_without_currency_takes_the_first_orders(cli_on, capsys):
    stage = cli_on
    # Given a workspace created without --currency: its currency is pending
    ws = create_without_currency(stage, capsys)
    pending = stage.container.workspaces.settings(ws.workspace_id).currency
    # When its first order, from a EUR WooCommerce shop, is processed, then a USD one
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    # Then the workspace is in EUR, and the EUR order counts at its amount, not as zero
    assert pending == ""
    stage.container.workspaces._settings.invalidate()
    assert stage.container.workspaces.settings(ws.workspace_id).currency == "EUR"
    lena = profile(stage, ws, LENA)
    assert (lena["currency"], lena["total_spent"], lena["unconverted_spent"]) == ("EUR", "104.88", {})
    # and the later USD order, without a rate, is kept apart as before
    jane = profile(stage, ws, JANE)
    assert (jane["total_spent"], jane["unconverted_spent"]) == ("0.00", {"USD": "122.00"})


def test_currency_given_at_creation_is_kept(cli_on, capsys):
    stage = cli_on
    # Given a workspace created with --currency USD
    assert cli.main(["workspace", "create", "Dollar Shop", "--currency", "usd", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    ws = Workspace(created["workspace_id"], created["api_key"])
    stage.add_source(ws, "woocommerce", WOO, WOO_SECRET)
    # When its first order is in EUR
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    # Then the workspace stays in USD and the EUR amount is unconverted
    assert stage.container.workspaces.settings(ws.workspace_id).currency == "USD"
    assert profile(stage, ws, LENA)["unconverted_spent"] == {"EUR": "104.88"}


def test_orders_without_a_rate_are_reported_with_the_command_that_sets_it(cli_on, ws, capsys):
    stage = cli_on
    # Given a USD workspace with no EUR rate, a USD order and a EUR order (104.88)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    # When the operator reads the analytics report and `patron workspace show`
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-01-01&to=2027-01-01").body)
    assert cli.main(["workspace", "show", ws.workspace_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert cli.main(["workspace", "show", ws.workspace_id]) == 0
    text = capsys.readouterr().out
    # Then both say which currency has no rate, its orders and amount, and the fix
    command = f"patron workspace set-rate -w {ws.workspace_id} EUR RATE"
    expected = {"kind": "unconverted_currency", "currency": "EUR", "orders": 1, "amount": "104.88"}
    (warning,) = report["warnings"]
    assert {k: warning[k] for k in expected} == expected
    assert warning["command"] == command
    assert shown["warnings"] == report["warnings"]
    assert (shown["currency"], shown["rates"]) == ("USD", {})
    assert command in text and "1 order (104.88 EUR) without a EUR rate into USD" in text


def test_a_report_without_unconverted_orders_has_no_warning(cli_on, ws, capsys):
    stage = cli_on
    # Given a USD workspace with a EUR rate and a EUR order
    stage.container.tenancy.set_rate(ws.workspace_id, "EUR", "1.10")
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_created.json"))
    stage.drain()
    # When the report and `workspace show` are read
    report = json.loads(stage.get(ws, "/analytics/report?from=2026-01-01&to=2027-01-01").body)
    assert cli.main(["workspace", "show", ws.workspace_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    # Then there is nothing to warn about, and the rate is listed
    assert report["warnings"] == []
    assert (shown["warnings"], shown["rates"]) == ([], {"EUR": "1.10"})
