"""A WooCommerce store's history on an in-process stage (moto): its REST pages imported from
files (`patron import orders|customers --format woocommerce-*-json`), and `patron import
pull` from the local WooCommerce stand-in, whose customers and orders (the REST items of
events/import/woocommerce_*.json) are walked page by page into profiles, quietly and once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from chalicelib.adapters.storefront_admin.history_pull import history_reader
from chalicelib.adapters.storefront_admin.http import RetryPolicy
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.domain.history_import import HistoryImport
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.store_admin import WooCommerceApiError, WooCommerceCredentials
from chalicelib.parsers.woocommerce_rest import records_of
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.integration.conftest import WOO, WOO_SECRET
from tests.storefront_servers import Answer, WooCommerceServer

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EVENTS = Path(__file__).resolve().parents[2] / "events" / "import"
KEY, SECRET = "ck_pull_key", "cs_pull_secret"  # the stand-in's own pair
LENA = "lena.hofer@example.org"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def listed(name: str) -> list[dict[str, Any]]:
    return [item for page in json.loads((EVENTS / name).read_text()) for item in page]


def profile(ws: Any, email: str) -> dict[str, Any]:
    found = run("customers", "show", "-w", ws.workspace_id, "--email", email, "--json")
    (one,) = json.loads(found.stdout)["customers"]
    shown = run("customers", "show", "-w", ws.workspace_id, one["customer_id"], "--json")
    return dict(json.loads(shown.stdout))


@pytest.fixture
def euro(cli_on: Harness) -> Workspace:
    """A workspace in the store's currency, with its WooCommerce source."""
    workspace = cli_on.create_workspace("Tea Shop", "EUR")
    cli_on.add_source(workspace, "woocommerce", WOO, WOO_SECRET)
    return workspace


def test_a_woocommerce_store_is_pulled_into_profiles_and_a_rerun_changes_nothing(cli_on, euro):
    ws = euro
    source_id = ws.sources["woocommerce"]["source_id"]
    orders, customers = listed("woocommerce_orders.json"), listed("woocommerce_customers.json")
    with WooCommerceServer(KEY, SECRET, orders=orders, customers=customers).running() as woo:
        # Given the WooCommerce source connected to the store's REST API
        connected = run(
            "source", "connect", "-w", ws.workspace_id, source_id,
            "--consumer-key", KEY, "--consumer-secret", SECRET, "--endpoint", woo.url,
        )  # fmt: skip
        assert connected.exit_code == 0, connected.stderr
        # When its history is pulled, and the streams handled
        first = run("import", "pull", "-w", ws.workspace_id, "--source", source_id, "--json")
        written = cli_on.drain()
        asked = [(s.path, s.query) for s in woo.seen]
        # And pulled again
        again = run("import", "pull", "-w", ws.workspace_id, "--source", source_id, "--json")
        rewritten = cli_on.drain()

    # Then customers, then orders were listed by id, ascending, a page of 100 at a time
    assert first.exit_code == 0, first.stderr
    assert [(p.rsplit("/", 1)[1], q) for p, q in asked[:2]] == [
        ("customers", {"orderby": "id", "order": "asc", "per_page": "100", "page": "1"}),
        ("orders", {"orderby": "id", "order": "asc", "per_page": "100", "page": "1"}),
    ]
    # And every good record was written; the bad customer and the malformed order are named
    summary = json.loads(first.stdout)
    assert (summary["customers"]["stored"], summary["orders"]["stored"]) == (3, 5)
    assert [r["row"] for r in summary["customers"]["rejected"]] == [4]
    assert [r["row"] for r in summary["orders"]["rejected"]] == [6]
    assert summary["orders"]["rejected"][0]["reason"].startswith("total:") and written > 0
    # And Lena's profile holds her two orders, the refunded one refunded in full
    lena = profile(ws, LENA)
    assert lena["orders_count"] == 2
    assert (lena["total_spent"], lena["total_refunded"], lena["net_spent"]) == ("103.50", "39.00", "64.50")
    # with the consent of her customer record
    assert lena["email_consent"]["state"] == "subscribed" and lena["is_member"] is True
    # And Marc's partial refund (a negative refund total) is counted as its amount
    assert profile(ws, "marc.dubois@example.com")["total_refunded"] == "18.00"
    # And the second pull wrote nothing
    assert again.exit_code == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert (rerun["customers"]["stored"], rerun["orders"]["stored"]) == (0, 0)
    assert (rerun["customers"]["unchanged"], rerun["orders"]["unchanged"]) == (3, 5)
    assert rewritten == 0 and profile(ws, LENA) == lena


def test_rest_pages_files_import_customers_then_orders(cli_on, euro):
    source = euro.sources["woocommerce"]["source_id"]
    base = ("-w", euro.workspace_id, "--source", source, "--json")
    # When the customers file, then the orders file are imported with their formats
    people = run("import", "customers", str(EVENTS / "woocommerce_customers.json"), *base,
                 "--format", "woocommerce-customers-json")  # fmt: skip
    orders = run("import", "orders", str(EVENTS / "woocommerce_orders.json"), *base,
                 "--format", "woocommerce-orders-json")  # fmt: skip
    cli_on.drain()
    # Then each summary counts records across pages and names the bad one
    assert people.exit_code == 0 and orders.exit_code == 0, people.stderr + orders.stderr
    first, second = json.loads(people.stdout), json.loads(orders.stdout)
    assert (first["stored"], first["cursor"], first["rejected"][0]["row"]) == (3, 4, 4)
    assert (second["stored"], second["cursor"], second["rejected"][0]["row"]) == (5, 6, 6)
    # And Lena's profile has her orders and her refund
    lena = profile(euro, LENA)
    assert (lena["orders_count"], lena["total_refunded"]) == (2, "39.00")
    # And an orders file is not a customers format (nor the reverse)
    wrong = run("import", "customers", str(EVENTS / "woocommerce_orders.json"), *base,
                "--format", "woocommerce-orders-json")  # fmt: skip
    assert wrong.exit_code == 2 and "woocommerce-orders-json" in wrong.output


# -- the reader against the stand-in, without the stage --------------------------------
def many_orders(count: int) -> list[dict[str, Any]]:
    """`count` orders shaped like the fixture's first, one a day at midnight UTC from
    2025-01-01, listed in a shuffled order (the stand-in sorts as asked)."""
    template = listed("woocommerce_orders.json")[0]
    made = []
    for n in range(count):
        day = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n)
        stamp = day.strftime("%Y-%m-%dT%H:%M:%S")
        made.append({**template, "id": 5000 + n, "date_created_gmt": stamp, "date_modified_gmt": stamp,
                     "date_created": stamp, "date_modified": stamp})  # fmt: skip
    return made[1::2] + made[::2]


def client_of(server: WooCommerceServer, waits: list[float]) -> WooCommerceAdmin:
    credentials = WooCommerceCredentials(consumer_key=KEY, consumer_secret=SECRET)
    return WooCommerceAdmin("shop.example", credentials, server.url, RetryPolicy(sleep=waits.append))


def read(
    server: WooCommerceServer, what: str, since: datetime | None = None, waits: list[float] | None = None
) -> list[Any]:
    client = client_of(server, [] if waits is None else waits)
    reader = history_reader(client, what, since, woo_records=records_of)
    return list(reader(HistoryImport.base_delivery(source_of(), NOW)))


def source_of() -> Source:
    return Source(workspace_id="ws_pull", source_id="src_w", platform=Platform.WOOCOMMERCE,
                  shop_domain="shop.example", secret_ref="arn:secret")  # fmt: skip


def test_the_reader_walks_every_page_by_id_and_numbers_records_in_walk_order():
    # Given a store of 150 orders, listed newest first unless asked otherwise
    with WooCommerceServer(KEY, SECRET, orders=many_orders(150)).running() as woo:
        # When its orders are read, the first answer a 503
        woo.then(Answer(503, {"code": "unavailable", "message": "Busy", "data": {"status": 503}}))
        records = read(woo, "orders", waits=(waits := []))
        pages = [(s.query["page"], s.query["per_page"], s.query["orderby"]) for s in woo.seen]
    # Then the 503 was retried after the backoff, and both pages of 100 asked for by id
    assert waits == [1.0]
    assert pages == [("1", "100", "id"), ("1", "100", "id"), ("2", "100", "id")]
    assert [r.row for r in records] == list(range(1, 151))
    assert [r.payload.order_id for r in records] == [str(5000 + n) for n in range(150)]


def test_since_asks_for_orders_after_the_day_in_gmt_and_skips_older_customers():
    # Given a store of 40 orders, one a day at midnight from 2025-01-01, and three customers
    customers = listed("woocommerce_customers.json")[:3]  # created 03-14, 06-01, 08-11
    with WooCommerceServer(KEY, SECRET, orders=many_orders(40), customers=customers).running() as woo:
        # When what was created since 2025-02-01 is read
        since = datetime(2025, 2, 1, tzinfo=UTC)
        orders, people = read(woo, "orders", since), read(woo, "customers", since)
        asked = {s.path.rsplit("/", 1)[1]: s.query for s in woo.seen}
    # Then the orders list was asked with after= a second before the day (after is exclusive),
    # its dates in GMT
    assert asked["orders"]["after"] == "2025-01-31T23:59:59" and asked["orders"]["dates_are_gmt"] == "true"
    # (the order made at the very start of the day included)
    assert [r.payload.order_id for r in orders][:2] == ["5031", "5032"] and len(orders) == 9
    # And the customers list, which has no date filter, was not given one; all three are newer
    assert "after" not in asked["customers"] and len(people) == 3
    # And with a later day, the customers created before it are skipped
    with WooCommerceServer(KEY, SECRET, customers=customers).running() as woo:
        later = read(woo, "customers", datetime(2025, 6, 1, tzinfo=UTC))
    assert [r.payload.customer_id for r in later] == ["57", "63"]


def test_the_stand_in_refuses_an_undocumented_list_parameter():
    # Given the stand-in, When the customers list is asked with a date filter it does not have
    with WooCommerceServer(KEY, SECRET).running() as woo:
        client = client_of(woo, [])
        with pytest.raises(WooCommerceApiError) as refused:
            list(client.items("customers", {"after": "2025-01-01T00:00:00"}))
    # Then it answers rest_invalid_param, as WooCommerce does for a bad value
    assert refused.value.code == "rest_invalid_param" and refused.value.status == 400


class FailingOrdersPage(WooCommerceServer):
    """The stand-in, refusing the orders list's second page for good (a revoked key)."""

    broken = True

    def check(self, seen: Any) -> Any:
        if self.broken and seen.path.endswith("/orders") and seen.query.get("page") == "2":
            return Answer(
                401,
                {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                 "data": {"status": 401}},
            )  # fmt: skip
        return super().check(seen)


def test_a_pull_that_fails_names_where_to_resume_and_resumes_there(cli_on, euro):
    ws = euro
    source_id = ws.sources["woocommerce"]["source_id"]
    customers = listed("woocommerce_customers.json")[:3]
    with FailingOrdersPage(KEY, SECRET, orders=many_orders(150), customers=customers).running() as woo:
        connected = run(
            "source", "connect", "-w", ws.workspace_id, source_id,
            "--consumer-key", KEY, "--consumer-secret", SECRET, "--endpoint", woo.url,
        )  # fmt: skip
        assert connected.exit_code == 0, connected.stderr
        # Given a pull whose orders list fails for good on its second page
        failed = run("import", "pull", "-w", ws.workspace_id, "--source", source_id, "--json")
        # When the store answers again and the pull goes on where the message says
        woo.broken = False
        hint = failed.stderr.rsplit("--resume-from ", 1)[-1].split()[0] if failed.exit_code else ""
        woo.seen.clear()
        resumed = run(
            "import", "pull", "-w", ws.workspace_id, "--source", source_id, "--resume-from", hint, "--json"
        )  # fmt: skip
        asked = [s.path.rsplit("/", 1)[1] for s in woo.seen]
        bad = run(
            "import", "pull", "-w", ws.workspace_id, "--source", source_id, "--resume-from", "refunds:3"
        )
    # Then the failure named the orders part, none of whose records was done
    assert failed.exit_code != 0 and "refused the consumer key" in failed.stderr
    assert hint == "orders:0"
    # And the resumed pull read no customers again, and imported every order
    assert resumed.exit_code == 0, resumed.stderr
    assert "customers" not in asked and asked.count("orders") == 2
    summary = json.loads(resumed.stdout)
    assert list(summary) == ["orders"] and summary["orders"]["stored"] == 150
    # And a resume point of no part is refused in one line
    assert bad.exit_code != 0 and "PART:ROW" in bad.stderr
