"""WooCommerce REST pages imported (docs/import.md#woocommerce-orders-json): each listed order
or customer is read by the webhook's own parser, so an import and the webhooks of the same
store share their ingest items and make the same profiles, field by field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from chalicelib.adapters import records
from chalicelib.domain.history_import import ImportSummary
from chalicelib.domain.models import Platform
from chalicelib.parsers.history import CUSTOMER_FORMATS, FORMATS, reader_for
from patron.storefront import headers_for
from tests.unit.test_history_import import NOW, SECRET, SHOP, WS, Stage, _frozen  # noqa: F401 - the frozen clock

EVENTS = Path(__file__).resolve().parents[2] / "events" / "import"
ORDERS = (EVENTS / "woocommerce_orders.json").read_bytes()
CUSTOMERS = (EVENTS / "woocommerce_customers.json").read_bytes()
MALFORMED = 4106  # total "12,00"


def items(data: bytes) -> list[dict[str, Any]]:
    return [item for page in json.loads(data) for item in page]


def woo_stage() -> Stage:
    return Stage(Platform.WOOCOMMERCE)


def run(stage: Stage, data: bytes = ORDERS, fmt: str = "woocommerce-orders-json", resume_from: int = 0):
    return stage.run_reader(reader_for(fmt, data), resume_from)


def webhook(stage: Stage, topic: str, item: dict[str, Any], n: int) -> str:
    body = json.dumps(item).encode()
    headers = headers_for("woocommerce", f"https://{SHOP}", topic, SECRET, body, f"d-{n}")
    lowered = {k.lower(): v for k, v in headers.items()}
    return stage.ingest.receive(Platform.WOOCOMMERCE, lowered, body).status


def by_webhooks(data: bytes, topic: str, skip: Any = None) -> Stage:
    stage = woo_stage()
    for n, item in enumerate(items(data)):
        if item["id"] != skip:
            assert webhook(stage, topic, item, n) == "stored"
    stage.drain()
    return stage


def stored(stage: Stage, order_id: str) -> dict[str, Any]:
    return stage.store.items[records.order_pk(WS, stage.source.source_id, order_id)]


def test_the_formats_are_offered_to_their_commands():
    # Given the import commands' format lists, Then orders and customers each have theirs
    assert "woocommerce-orders-json" in FORMATS and "woocommerce-customers-json" in CUSTOMER_FORMATS


def test_an_orders_import_makes_the_profiles_the_order_webhooks_make_field_by_field():
    # Given the store's orders delivered as order.updated webhooks (all but the malformed one)
    expected = by_webhooks(ORDERS, "order.updated", skip=MALFORMED).views()
    stage = woo_stage()
    # When the REST pages are imported and the stream handled
    run(stage)
    stage.drain()
    # Then every profile is the same, field by field (Lena, Marc and the guest Li)
    assert len(expected) == 3
    assert stage.views() == expected
    assert stage.effects.calls == []


def test_the_import_and_the_webhooks_share_each_order_item():
    # Given the orders first stored by webhook
    hooked = by_webhooks(ORDERS, "order.updated", skip=MALFORMED)
    writes = hooked.store.writes
    # When the same pages are imported into that workspace
    summary = run(hooked)
    # Then every order is already there under its key: nothing is written
    assert summary.stored == 0 and summary.unchanged == 5 and hooked.store.writes == writes
    assert hooked.drain() == 0


def test_the_summary_counts_pages_orders_refunds_and_names_the_malformed_order():
    # Given a WooCommerce source
    stage = woo_stage()
    # When the two pages of six orders are imported
    summary = run(stage).as_dict()
    # Then five orders are written, numbered across pages; the malformed one is named, no value
    assert (summary["rows"], summary["orders"], summary["stored"], summary["cursor"]) == (6, 5, 5, 6)
    assert [r["row"] for r in summary["rejected"]] == [6]
    assert summary["rejected"][0]["reason"].startswith("total:")
    assert "12,00" not in summary["rejected"][0]["reason"]
    assert summary["customers"] == 3 and summary["refunds"] == 2
    assert summary["currencies"] == ["EUR", "GBP"]
    assert summary["date_range"] == ["2025-03-14T09:02:10+00:00", "2025-10-05T19:30:00+00:00"]


def test_orders_keep_gmt_times_negative_refunds_as_amounts_and_the_status_rule():
    # Given an imported orders file
    stage = woo_stage()
    run(stage)
    # Then the *_gmt times are UTC; money is Decimal with the order's currency
    first = stored(stage, "4101")
    assert first["ca"] == "2025-03-14T09:02:10.000000Z" and first["ua"] == "2025-03-16T08:30:00.000000Z"
    assert first["tot"] == Decimal("64.50") and first["cur"] == "EUR" and first["st"] == "fulfilled"
    assert first["imp"] is True and first["p"]["ce"]["s"] == "subscribed"
    # And a refund's negative total is its amount; a refund on a completed order is partial
    partial = stored(stage, "4102")
    assert partial["st"] == "partially_refunded" and partial["rf_4110"]["a"] == Decimal("18.00")
    assert partial["dcs"] == [{"c": "spring10", "a": Decimal("6.00")}]
    refunded = stored(stage, "4104")
    assert refunded["st"] == "refunded" and refunded["rf_4121"]["a"] == Decimal("39.00")
    assert stored(stage, "4105")["st"] == "cancelled"
    # And the guest order has no customer id, in its own currency
    guest = stored(stage, "4103")
    assert guest["cur"] == "GBP" and "ext" not in guest["p"]


def test_pages_one_per_line_or_one_page_read_the_same_records():
    # Given the same orders as one page per line, and as one single page
    pages = json.loads(ORDERS)
    per_line = "\n".join(json.dumps(p) for p in pages).encode() + b"\n\n"
    single = json.dumps([i for p in pages for i in p], indent=1).encode()
    # When each file is imported into its own workspace
    results = [run(woo_stage(), data).as_dict() for data in (ORDERS, per_line, single)]
    # Then the three summaries are the same
    assert results[0] == results[1] == results[2]


def test_a_line_that_is_not_a_page_is_a_rejected_record_and_the_rest_is_read():
    # Given a file of pages, one line of which is not a JSON array
    pages = json.loads(ORDERS)
    data = f'{json.dumps(pages[0])}\n{{"id": 1}}\n{json.dumps(pages[1])}\n'.encode()
    # When it is imported
    summary: ImportSummary = run(woo_stage(), data)
    # Then that line is one rejected record, and the other orders are read after it
    assert summary.rejected[0] == {"row": 4, "reason": "not a page (a JSON array of records)"}
    assert summary.orders == 5 and summary.cursor == 7


def test_a_rerun_writes_nothing_and_a_resume_starts_after_the_cursor():
    # Given an imported file
    stage = woo_stage()
    run(stage)
    # When it is imported again, and into another workspace resumed after the first page
    again = run(stage)
    resumed = run(woo_stage(), resume_from=3)
    # Then the re-run writes nothing; the resume reads the second page only
    assert again.stored == 0 and again.unchanged == 5
    assert resumed.rows == 3 and resumed.orders == 2 and resumed.cursor == 6


def test_a_customers_import_makes_the_profiles_the_customer_webhooks_make():
    # Given the store's customers delivered as customer.updated webhooks (all but the bad one)
    expected = by_webhooks(CUSTOMERS, "customer.updated", skip=64).views()
    stage = woo_stage()
    # When the customers pages are imported
    summary = run(stage, CUSTOMERS, "woocommerce-customers-json").as_dict()
    stage.drain()
    # Then the same three profiles, field by field; the bad record is named by its fields
    assert len(expected) == 3 and stage.views() == expected
    assert (summary["rows"], summary["customers"], summary["stored"]) == (4, 3, 3)
    (bad,) = summary["rejected"]
    assert bad["row"] == 4 and bad["reason"].startswith("date_created_gmt:")
    assert "12/08" not in bad["reason"]
    # And Lena's consent, birthday and customer id are the webhook's
    lena = next(v for k, v in stage.views().items() if "lena.hofer@example.org" in str(k))
    assert "woocommerce:src_0:41" in str(lena)
