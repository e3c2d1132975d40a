"""Shopify's orders CSV export imported (docs/import.md#shopify-csv): one order per `Name`,
its fields from the first row, every row a line item, refunds from `Refunded Amount`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from chalicelib.adapters import records
from chalicelib.adapters.order_items import order_detail
from chalicelib.domain.models import Delivery, Order, Platform, Refund, RefundEvent
from chalicelib.parsers.shopify_csv import shopify_csv
from tests.unit.test_history_import import NOW, WS, Stage, _frozen  # noqa: F401 - the frozen clock

FILE = Path(__file__).resolve().parents[2] / "events" / "import" / "shopify_orders_export.csv"
DATA = FILE.read_bytes()


def run(stage: Stage, resume_from: int = 0):
    return stage.run_reader(shopify_csv(DATA), resume_from)


def stored(stage: Stage, order_id: str) -> dict:
    return stage.store.items[records.order_pk(WS, stage.source.source_id, order_id)]


def test_the_export_makes_one_order_per_name_with_its_line_items_and_refunds():
    # Given a Shopify source
    stage = Stage(Platform.SHOPIFY)
    # When its orders export is imported
    summary = run(stage).as_dict()
    # Then five names make four orders and one rejected row (a comma as decimal point)
    assert (summary["rows"], summary["orders"], summary["customers"]) == (7, 4, 3)
    assert summary["rejected"] == [{"row": 7, "reason": "Total: not an amount like 19.90"}]
    assert summary["refunds"] == 2 and summary["currencies"] == ["EUR"] and summary["cursor"] == 7
    assert summary["date_range"] == ["2025-03-14T10:02:10+00:00", "2025-11-01T07:00:00+00:00"]
    # And the first order has both rows as line items, keyed by Shopify's order id
    first = stored(stage, "5801234567890")
    assert [(li["s"], li["q"]) for li in first["li"]] == [("TEA-SEN-100", 2), ("POT-GLS-1", 1)]
    assert first["num"] == "#1001" and first["tot"] == Decimal("47.90") and first["st"] == "fulfilled"
    # with the offset read (+0100) and the last known time as its update
    assert first["ca"] == "2025-03-14T10:02:10.000000Z" and first["ua"] == "2025-03-15T08:30:00.000000Z"
    # And the apostrophe guard is gone: the phone is E.164, the address gives the time zone
    assert first["p"]["ph"] == "+49891234567" and first["p"]["tz"] == "Europe/Berlin"
    assert first["p"]["ce"]["s"] == "subscribed" and first["imp"] is True
    # And a partial refund is the Refunded Amount, a void is a cancellation
    second = stored(stage, "5801234567891")
    assert second["st"] == "partially_refunded" and second["rf_csv"]["a"] == Decimal("18.00")
    assert second["dcs"] == [{"c": "SUMMER10", "a": Decimal("6.00")}]
    assert stored(stage, "5801234567893")["st"] == "cancelled"


def test_a_rerun_writes_nothing_and_a_resume_starts_after_the_cursor():
    # Given an imported export
    stage = Stage(Platform.SHOPIFY)
    run(stage)
    writes = stage.store.writes
    # When it is imported again, then resumed after its first order (rows 1 and 2)
    again = run(stage)
    resumed = run(Stage(Platform.SHOPIFY), resume_from=2)
    # Then the re-run writes nothing, and the resumed import reads only the later orders
    assert again.stored == 0 and again.unchanged == 4 and stage.store.writes == writes
    assert resumed.rows == 5 and resumed.orders == 3 and resumed.cursor == 7


ORDER = "5801234567891"  # partially refunded: Refunded Amount 18.00, imported as refund `csv`
REAL = Refund(refund_id="1019283746011", amount=Decimal("18.00"), created_at=datetime(2025, 6, 2, tzinfo=UTC))


def webhook(topic: str, n: int) -> Delivery:
    return Delivery(
        workspace_id=WS,
        source_id="src_0",
        platform=Platform.SHOPIFY,
        topic=topic,
        webhook_id=f"wh-{n}",
        received_at=NOW,
        body_hash=f"h-{n}",
    )


def refunded_on_profile(stage: Stage) -> Decimal:
    """The buyer's total refunded, once the stream consumer has seen every change."""
    stage.drain()
    views = stage.views()
    return next(v["refd"] for k, v in views.items() if "email:tom.baker@example.com" in k)


def imported_order() -> Order:
    """The order as the export reads it (its summary refund `csv` included)."""
    found = (r.payload for r in shopify_csv(DATA)(webhook("orders/create", 0)))
    return next(p for p in found if isinstance(p, Order) and p.order_id == ORDER)


def test_a_csv_refund_counts_once_when_the_webhook_state_brings_the_real_refund():
    # Given an export imported with a partial refund of 18.00 (the synthetic refund `csv`)
    stage = Stage(Platform.SHOPIFY)
    run(stage)
    assert refunded_on_profile(stage) == Decimal("18.00")
    # When the order's later webhook state arrives with that refund by its real id
    later = imported_order().model_copy(
        update={"refunds": (REAL,), "updated_at": datetime(2025, 6, 4, tzinfo=UTC)}
    )
    assert stage.store.apply(webhook("orders/updated", 1), later) == "stored"
    # Then the order's refunds total 18.00 once, on the buyer's profile too, and the real
    # refund is the one shown
    item = stored(stage, ORDER)
    assert records.snapshot(item).refunded == Decimal("18.00")
    assert refunded_on_profile(stage) == Decimal("18.00")
    assert [r.refund_id for r in order_detail(item).refunds] == [REAL.refund_id]


def test_a_csv_refund_counts_once_when_the_real_refund_arrived_before_the_import():
    # Given the order's refund already delivered by webhook (refunds/create), by its real id
    stage = Stage(Platform.SHOPIFY)
    assert (
        stage.store.apply(webhook("refunds/create", 1), RefundEvent(order_id=ORDER, refund=REAL)) == "stored"
    )
    # When the export is imported (its state carries the synthetic refund `csv`), then again
    run(stage)
    run(stage)
    # Then the order's refunds total 18.00 once, on the buyer's profile too, and the real
    # refund is the one shown
    item = stored(stage, ORDER)
    assert records.snapshot(item).refunded == Decimal("18.00")
    assert refunded_on_profile(stage) == Decimal("18.00")
    assert [r.refund_id for r in order_detail(item).refunds] == [REAL.refund_id]


def test_a_csv_refund_alone_still_counts():
    # Given an export imported with a partial refund and no webhook since
    stage = Stage(Platform.SHOPIFY)
    run(stage)
    # When the order's totals are read
    item = stored(stage, ORDER)
    # Then the synthetic refund is the order's refund
    assert records.snapshot(item).refunded == Decimal("18.00")
    assert [r.refund_id for r in order_detail(item).refunds] == ["csv"]
