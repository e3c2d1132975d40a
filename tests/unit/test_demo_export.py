"""The demo's day one: the simulated shop's older orders as a Shopify orders export
(`patron.demo.day_one`), which the export's own parser reads back as the simulated truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain.models import Delivery, Order, OrderStatus, Platform
from chalicelib.parsers.shopify_csv import shopify_csv
from patron.demo import day_one
from patron.synthetic.store import simulate

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=120)


def delivery() -> Delivery:
    return Delivery(
        workspace_id="ws_demo",
        source_id="src_0",
        platform=Platform.SHOPIFY,
        topic="import",
        webhook_id="import-1",
        received_at=NOW,
        body_hash="h",
    )


def test_the_export_holds_the_shops_older_orders_and_no_webhook_repeats_them():
    # Given the demo store's simulated history
    _, orders, deliveries = simulate(3, 40, NOW)
    # When it is split at the cutoff into the export file's orders and the webhooks
    exported, kept = day_one.split_history(orders, deliveries, CUTOFF)
    # Then the file has the Shopify orders before the cutoff, and no delivery of them is sent
    assert exported and all(o.platform == "shopify" and o.created < CUTOFF for o in exported)
    ids = {str(o.order_id) for o in exported}
    assert not [d for d in kept if d[0] == "shopify" and d[3].split("-")[1] in ids]
    assert len(kept) < len(deliveries) and any(d[0] == "shopify" for d in kept)
    # And a member's orders are in the file only when a webhook still brings the account
    live = {o.person.index for o in orders if o not in exported}
    assert all(o.person.index in live for o in exported if o.person.member)
    # And the orders left out of the file are all still delivered
    for o in orders:
        if o not in exported:
            assert any(d[3].startswith(f"demo-{o.order_id}-") for d in kept)


def test_the_export_reads_back_as_the_simulated_orders():
    # Given the shop's older orders written as its orders export
    _, orders, deliveries = simulate(3, 40, NOW)
    exported, _ = day_one.split_history(orders, deliveries, CUTOFF)
    data = day_one.shopify_orders_csv(exported)
    # When the export's parser reads it
    records = list(shopify_csv(data)(delivery()))
    # Then every order parses, with the guards and offsets of the real export in the file
    assert [r.reason for r in records if r.payload is None] == []
    assert b"'+1212555" in data and b" +0200" in data
    parsed = {p.order_id: p for p in (r.payload for r in records) if isinstance(p, Order)}
    assert len(parsed) == len(exported)
    for o in exported:
        got = parsed[str(o.order_id)]
        # with the simulated total, refund, cancellation, time, email and phone
        assert (
            got.total == o.total
            and got.currency == "USD"
            and got.created_at == o.created.replace(microsecond=0)
        )
        assert (got.status == OrderStatus.CANCELLED) == o.cancelled
        assert sum((r.amount for r in got.refunds), Decimal(0)) == (0 if o.cancelled else o.refund)
        assert got.person is not None and got.person.email == o.person.email
        assert sum(li.quantity for li in got.line_items) == sum(q for *_, q in o.lines)
