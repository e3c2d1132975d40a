"""Shopify bulk-operation JSONL imported (docs/import.md#shopify-bulk-jsonl): one record per
top-level Order or Customer node with its `__parentId` children, read by the webhook's parser.

events/import/shopify_bulk_orders.jsonl is the result of the orders query (three orders, one
customer with two of them, a partial refund, a voided and cancelled order, a truncated line);
shopify_bulk_webhooks.jsonl is the same store as Shopify's REST webhooks deliver it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from chalicelib.adapters import records
from chalicelib.domain.history_import import ImportSummary
from chalicelib.domain.models import Delivery, Order, Platform
from chalicelib.domain.translation import run_parser
from chalicelib.parsers import shopify
from chalicelib.parsers.history import CUSTOMER_FORMATS, FORMATS, reader_for
from chalicelib.parsers.shopify_bulk import shopify_bulk_jsonl
from tests.unit.test_history_import import NOW, WS, Stage, _frozen  # noqa: F401 - the frozen clock

EVENTS = Path(__file__).resolve().parents[2] / "events" / "import"
ORDERS = (EVENTS / "shopify_bulk_orders.jsonl").read_bytes()
CUSTOMERS = (EVENTS / "shopify_bulk_customers.jsonl").read_bytes()
WEBHOOKS = [json.loads(line) for line in (EVENTS / "shopify_bulk_webhooks.jsonl").read_bytes().splitlines()]


# What an item says of the delivery that wrote it rather than of the state
DELIVERY_MARKS = {"h", "wh", "imp", "ih", "ver", "v", "hist"}


def run(stage: Stage, data: bytes, resume_from: int = 0) -> ImportSummary:
    return stage.run_reader(shopify_bulk_jsonl(data), resume_from)


def delivery(topic: str, n: int) -> Delivery:
    return Delivery(
        workspace_id=WS,
        source_id="src_0",
        platform=Platform.SHOPIFY,
        topic=topic,
        webhook_id=f"wh-{n}",
        received_at=NOW,
        body_hash=f"h-{n}",
    )


def by_webhooks() -> Stage:
    """The store delivered by Shopify's webhooks, parsed and stored as the webhook path does."""
    stage = Stage(Platform.SHOPIFY)
    for n, hook in enumerate(WEBHOOKS):
        given = delivery(hook["topic"], n)
        payload = run_parser(shopify.PARSERS, json.dumps(hook["body"]).encode(), given)
        assert stage.store.apply(given, payload) == "stored"
    stage.drain()
    return stage


def stored(stage: Stage, order_id: str) -> dict:
    return stage.store.items[records.order_pk(WS, stage.source.source_id, order_id)]


def test_the_format_is_offered_for_orders_and_customers():
    # Given the formats `patron import orders` and `patron import customers` offer
    # When the bulk format's reader is asked for
    reader = reader_for("shopify-bulk-jsonl", ORDERS)
    # Then both commands offer it and its records are the bulk reader's
    assert "shopify-bulk-jsonl" in FORMATS and "shopify-bulk-jsonl" in CUSTOMER_FORMATS
    assert [r.row for r in reader(delivery("import", 0))] == [1, 4, 6, 7]


def test_each_order_gathers_its_line_items_and_keeps_shopifys_ids_money_and_refunds():
    # Given a Shopify source
    stage = Stage(Platform.SHOPIFY)
    # When the bulk file of its orders is imported
    summary = run(stage, ORDERS).as_dict()
    # Then three orders are written, their children counted in their rows, the truncated
    # line rejected with a reason and no value
    assert (summary["rows"], summary["orders"], summary["customers"]) == (8, 3, 2)
    assert summary["rejected"] == [{"row": 6, "reason": "not a JSON object"}]
    assert summary["refunds"] == 1 and summary["currencies"] == ["EUR"] and summary["cursor"] == 8
    assert summary["date_range"] == ["2025-09-01T08:15:00+00:00", "2025-10-12T19:40:00+00:00"]
    # And the first order is keyed by the numeric id of its global id, with both line items
    first = stored(stage, "5901000000001")
    assert [(li["s"], li["q"], li["a"], li["p"]) for li in first["li"]] == [
        ("TEA-SEN-100", 2, Decimal("14.90"), "8100000000001"),
        ("POT-GLS-1", 1, Decimal("24.00"), "8100000000002"),
    ]
    assert first["tot"] == Decimal("56.70") and first["st"] == "fulfilled" and first["imp"] is True
    assert first["p"]["x"] == "shopify:src_0:7301000000001" and first["p"]["tz"] == "Europe/Berlin"
    # And the refund keeps its own id and total; the voided order is cancelled
    second = stored(stage, "5901000000002")
    assert second["st"] == "partially_refunded" and second["rf_1029000000001"]["a"] == Decimal("12.00")
    assert stored(stage, "5901000000003")["st"] == "cancelled"


def test_the_import_makes_the_profiles_and_items_the_webhooks_make_field_by_field():
    # Given the store delivered by webhooks, and the same store's bulk files imported elsewhere
    hooked = by_webhooks()
    stage = Stage(Platform.SHOPIFY)
    # When the customers and the orders files are imported and the stream handled
    run(stage, CUSTOMERS)
    run(stage, ORDERS)
    stage.drain()
    # Then every profile is the same, field by field (Maren with two orders, Jonas, Ines)
    expected = hooked.views()
    assert len(expected) == 3
    assert stage.views() == expected
    # And the orders and customers are the same ingest items (the same keys)
    keys = set(stage.store.items)
    assert keys == set(hooked.store.items) and len([k for k in keys if "#O#" in k]) == 3
    # holding the same state, but for how it came (the delivery's marks, the version count
    # and state history) and the discount code's amount, which the bulk API does not give
    for key in keys:
        imported, hooked_item = (
            {k: v for k, v in items[key].items() if k not in DELIVERY_MARKS}
            for items in (stage.store.items, hooked.store.items)
        )
        if "dcs" in hooked_item:
            hooked_item["dcs"] = [{"c": d["c"]} for d in hooked_item["dcs"]]
        assert imported == hooked_item, key


def test_after_the_webhooks_an_import_and_a_rerun_write_nothing():
    # Given the store delivered by webhooks
    hooked = by_webhooks()
    writes = hooked.store.writes
    # When the bulk files are imported, twice
    first = [run(hooked, CUSTOMERS), run(hooked, ORDERS)]
    again = run(hooked, ORDERS)
    # Then nothing is written and the stream stays still
    assert [s.stored for s in first] == [0, 0] and again.stored == 0 and again.unchanged == 3
    assert hooked.store.writes == writes and hooked.drain() == 0


def test_a_child_without_its_parent_and_a_node_of_another_type_are_rejected():
    # Given a file whose line item names an order that is not before it, and a product node
    lines = [
        b'{"id":"gid://shopify/LineItem/1","title":"Tea","quantity":1,"__parentId":"gid://shopify/Order/9"}',
        b'{"id":"gid://shopify/Product/3","title":"Tea"}',
        b'{"id":"gid://shopify/Order/4","createdAt":"2025-09-01T08:15:00Z"}',
    ]
    # When it is read
    found = list(shopify_bulk_jsonl(b"\n".join(lines))(delivery("import", 0)))
    # Then each is refused with its row and a reason naming fields (the file's names), never
    # values
    assert [(r.row, r.reason) for r in found[:2]] == [
        (1, "__parentId: no node with this id before it"),
        (2, "id: not the global id of an Order or a Customer"),
    ]
    assert found[2].payload is None and found[2].reason is not None
    assert found[2].reason.startswith("currencyCode: ") and "totalPriceSet: " in found[2].reason


def test_an_interrupted_import_resumes_after_the_last_order_done():
    # Given an import stopped after its first order (rows 1 to 3: the order and its items)
    stage = Stage(Platform.SHOPIFY)
    first = run(stage, b"\n".join(ORDERS.splitlines()[:3]))
    assert first.cursor == 3 and first.orders == 1
    # When it resumes from that cursor over the whole file
    rest = run(stage, ORDERS, resume_from=first.cursor)
    # Then only the later orders are read
    assert (
        rest.rows == 5
        and rest.orders == 2
        and isinstance(next(r.payload for r in shopify_bulk_jsonl(ORDERS)(delivery("import", 0))), Order)
    )
