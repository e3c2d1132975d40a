"""`patron import pull` for Shopify: a bulk operation (bulkOperationRunQuery), polled by id,
its JSONL downloaded and read as `shopify-bulk-jsonl` (docs/import.md#patron-import-pull),
against the local Shopify stand-in; and Shopify's customers export through `patron import
customers`. Waits go through an injected sleep: nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from chalicelib.adapters.storefront_admin import shopify_history
from chalicelib.adapters.storefront_admin.history_pull import history_reader
from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.domain.models import Delivery, Order, Platform
from chalicelib.domain.store_admin import AdminApiError, AdminUserErrors, ShopifyCredentials
from chalicelib.parsers.history import reader_for
from tests.cli_runs import run
from tests.integration.test_storefront_admin import TOKEN, VERSION, Waits, policy
from tests.storefront_servers import ShopifyServer, throttled

EVENTS = Path(__file__).resolve().parents[2] / "events" / "import"
ORDERS = (EVENTS / "shopify_bulk_orders.jsonl").read_bytes()
CUSTOMERS = (EVENTS / "shopify_bulk_customers.jsonl").read_bytes()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop() -> Iterator[ShopifyServer]:
    server = ShopifyServer(TOKEN, VERSION)
    server.bulk_results = {"orders": ORDERS, "customers": CUSTOMERS}
    with server.running() as running:
        yield running  # type: ignore[misc]


def client(shop: ShopifyServer, waits: Waits) -> ShopifyAdmin:
    credentials = ShopifyCredentials(access_token=TOKEN, api_version=VERSION)
    return ShopifyAdmin("tea.myshopify.com", credentials, shop.url, policy(waits))


def delivery() -> Delivery:
    return Delivery(
        workspace_id="ws_pull",
        source_id="src_0",
        platform=Platform.SHOPIFY,
        topic="import",
        received_at=NOW,
        imported=True,
    )


def test_a_pull_runs_a_bulk_query_polls_it_and_reads_its_jsonl(shop):
    # Given a store whose bulk operation runs for two polls
    shop.bulk_polls = 2
    waits = Waits()
    since = datetime(2025, 1, 1, tzinfo=UTC)
    # When its orders since 2025-01-01 are read
    found = list(history_reader(client(shop, waits), "orders", since, reader_for)(delivery()))
    # Then the file's three orders and its truncated line are the records
    orders = [r.payload for r in found if isinstance(r.payload, Order)]
    assert [o.order_id for o in orders] == ["5901000000001", "5901000000002", "5901000000003"]
    assert [(r.row, r.reason) for r in found if r.payload is None] == [(6, "not a JSON object")]
    # And one bulk query was started, over orders created since then, with line items as a
    # nested connection
    started = [s.body for s in shop.seen if s.method == "POST" and "bulkOperationRunQuery" in s.body["query"]]
    (query,) = [b["variables"]["query"] for b in started]
    assert query.startswith(
        '{ orders(sortKey: ID, query: "created_at:>=2025-01-01T00:00:00Z") { edges { node {'
    )
    assert "lineItems { edges { node {" in query and "totalRefundedSet" in query
    # And it was polled by its id until COMPLETED, waiting the interval between polls
    polls = [s.body["variables"] for s in shop.seen if s.method == "POST" and "node(id:" in s.body["query"]]
    assert polls == [{"id": "gid://shopify/BulkOperation/720918"}] * 3
    assert waits == [shopify_history.POLL_SECONDS] * 2
    # And the result was downloaded without the access token
    (download,) = [s for s in shop.seen if s.method == "GET"]
    assert download.path == "/bulk/0.jsonl" and "x-shopify-access-token" not in download.headers


def test_customers_are_pulled_the_same_way_without_a_filter(shop):
    # Given a store
    waits = Waits()
    # When its customers are read, all of them
    found = list(history_reader(client(shop, waits), "customers", None, reader_for)(delivery()))
    # Then each customer node is one record, and the query has no created_at filter
    assert [r.payload.customer_id for r in found if r.payload is not None] == [
        "7301000000001",
        "7301000000003",
    ]
    started = [s.body for s in shop.seen if s.method == "POST" and "bulkOperationRunQuery" in s.body["query"]]
    (query,) = [b["variables"]["query"] for b in started]
    assert query.startswith("{ customers(sortKey: ID) { edges { node { id email")


def test_a_throttled_poll_waits_for_the_bucket(shop):
    # Given a store whose first poll is throttled (cost 10, 2 points available, 50 a second)
    shop.bulk_polls = 0
    answer = shop.answer
    throttle = [throttled(10, 2)]

    def throttled_once(seen):
        if "node(id:" in seen.body["query"] and throttle:
            return throttle.pop()
        return answer(seen)

    shop.answer = throttled_once
    waits = Waits()
    # When the customers are read
    found = list(history_reader(client(shop, waits), "customers", None, reader_for)(delivery()))
    # Then the poll is tried again after (10 - 2) / 50 seconds, and the customers are read
    polls = [s for s in shop.seen if s.method == "POST" and "node(id:" in s.body["query"]]
    assert waits == [0.16] and len(polls) == 2
    assert len([r for r in found if r.payload is not None]) == 2


@pytest.mark.parametrize(
    ("status", "code"), [("FAILED", "INTERNAL_SERVER_ERROR"), ("CANCELED", None), ("EXPIRED", None)]
)
def test_an_operation_that_does_not_complete_is_a_clear_error(shop, status, code):
    # Given a bulk operation that ends other than COMPLETED
    shop.bulk_outcome = (status, code)
    # When the orders are read
    reader = history_reader(client(shop, Waits()), "orders", None, reader_for)
    # Then the error names the operation, its status and error code
    with pytest.raises(AdminApiError) as raised:
        list(reader(delivery()))
    operation = "gid://shopify/BulkOperation/720918"
    assert raised.value.message == (
        f"Shopify's bulk operation {operation} ended {status} ({code or 'no error code'})"
    )


def test_a_bulk_query_already_running_is_a_user_error(shop):
    # Given a bulk operation the store is still running
    shop.bulk_polls = 99
    shop.operations.append(
        {"id": "gid://shopify/BulkOperation/1", "status": "RUNNING", "connection": "orders"}
    )
    # When a pull starts another
    reader = history_reader(client(shop, Waits()), "orders", None, reader_for)
    # Then Shopify's userError is the error
    with pytest.raises(AdminUserErrors, match="already in progress"):
        list(reader(delivery()))


def test_an_operation_that_found_nothing_reads_no_records(shop):
    # Given a store with no orders (the completed operation has no url)
    shop.bulk_results = {}
    # When the orders are read
    found = list(history_reader(client(shop, Waits()), "orders", None, reader_for)(delivery()))
    # Then there are no records and nothing was downloaded
    assert found == [] and not [s for s in shop.seen if s.method == "GET"]


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_patron_import_pull_fills_profiles_and_a_rerun_changes_nothing(cli_on, ws, shop, clock, monkeypatch):
    # Given a Shopify source connected to the stand-in, whose operations complete at once
    monkeypatch.setattr(shopify_history, "POLL_SECONDS", 0.0)
    shop.bulk_polls = 0
    source = ws.sources["shopify"]["source_id"]
    connected = run(
        "source", "connect", "-w", ws.workspace_id, source, "--access-token", TOKEN, "--endpoint", shop.url
    )
    assert connected.exit_code == 0, connected.stderr
    args = ("import", "pull", "-w", ws.workspace_id, "--source", source, "--json")
    # When the store's history is pulled, and the stream handled
    first = run(*args)
    cli_on.drain()
    # Then its customers, then its orders are written, the truncated line named
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert (summary["customers"]["stored"], summary["orders"]["stored"]) == (2, 3)
    assert summary["orders"]["rejected"] == [{"row": 6, "reason": "not a JSON object"}]
    # And Maren's profile holds her two orders
    found = run("customers", "show", "-w", ws.workspace_id, "--email", "maren.holt@example.com", "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    shown = json.loads(
        run("customers", "show", "-w", ws.workspace_id, profile["customer_id"], "--json").stdout
    )
    assert shown["orders_count"] == 2
    # And a second pull writes nothing
    again = run(*args)
    assert again.exit_code == 0, again.output
    repeat = json.loads(again.stdout)
    assert (repeat["customers"]["stored"], repeat["orders"]["stored"]) == (0, 0)
    assert (repeat["customers"]["unchanged"], repeat["orders"]["unchanged"]) == (2, 3)
    assert cli_on.drain() == 0


def test_patron_import_customers_reads_shopifys_customers_export_on_moto(cli_on, ws, clock):
    # Given a Shopify source and its customers export
    source = ws.sources["shopify"]["source_id"]
    export = EVENTS / "shopify_customers_export.csv"
    args = ("import", "customers", str(export), "-w", ws.workspace_id, "--source", source)
    # When it is imported with --format shopify-customers-csv, and the stream handled
    result = run(*args, "--format", "shopify-customers-csv", "--json")
    cli_on.drain()
    # Then three customers are written and the row without an id is named
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["customers"], summary["stored"], summary["rejected"][0]["row"]) == (3, 3, 3)
    # And Maren's profile is found by her email, with her name
    found = run("customers", "show", "-w", ws.workspace_id, "--email", "maren.holt@example.com", "--json")
    (profile,) = json.loads(found.stdout)["customers"]
    shown = json.loads(
        run("customers", "show", "-w", ws.workspace_id, profile["customer_id"], "--json").stdout
    )
    assert (shown["first_name"], shown["orders_count"]) == ("Maren", 0)
