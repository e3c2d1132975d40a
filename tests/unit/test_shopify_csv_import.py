"""Shopify's orders CSV export imported (docs/import.md#shopify-csv): one order per `Name`,
its fields from the first row, every row a line item, refunds from `Refunded Amount`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from chalicelib.adapters import records
from chalicelib.domain.history_import import HistoryImport
from chalicelib.domain.models import Platform
from chalicelib.parsers.shopify_csv import shopify_csv
from tests.unit.test_history_import import NOW, WS, Stage, _frozen  # noqa: F401 - the frozen clock

FILE = Path(__file__).resolve().parents[2] / "events" / "import" / "shopify_orders_export.csv"
DATA = FILE.read_bytes()


def run(stage: Stage, resume_from: int = 0):
    return HistoryImport(stage.store).run(stage.source, shopify_csv(DATA), NOW, resume_from)


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
