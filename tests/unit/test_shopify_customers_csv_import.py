"""Shopify's customers CSV export imported (docs/import.md#shopify-customers-csv): one customer
per row, by its Shopify id, with consent, phone, address zone and birthday."""

from __future__ import annotations

from pathlib import Path

from chalicelib.adapters import records
from chalicelib.domain.history_import import ImportSummary
from chalicelib.domain.models import Platform
from chalicelib.parsers.history import CUSTOMER_FORMATS, FORMATS, reader_for
from chalicelib.parsers.shopify_bulk import shopify_bulk_jsonl
from tests.unit.test_history_import import NOW, WS, Stage, _frozen  # noqa: F401 - the frozen clock

EVENTS = Path(__file__).resolve().parents[2] / "events" / "import"
DATA = (EVENTS / "shopify_customers_export.csv").read_bytes()


def run(stage: Stage, resume_from: int = 0) -> ImportSummary:
    reader = reader_for("shopify-customers-csv", DATA)
    return stage.run_reader(reader, resume_from)


def person(stage: Stage, customer_id: str) -> dict:
    return dict(stage.store.items[records.customer_pk(WS, "src_0", customer_id)]["p"])


def test_each_row_is_a_customer_by_its_shopify_id_and_a_row_without_one_is_rejected():
    # Given a Shopify source
    stage = Stage(Platform.SHOPIFY)
    # When its customers export is imported
    summary = run(stage).as_dict()
    # Then three customers are written and the row without a Customer ID is named, no value
    assert "shopify-customers-csv" in CUSTOMER_FORMATS and "shopify-customers-csv" not in FORMATS
    assert (summary["rows"], summary["customers"], summary["stored"], summary["orders"]) == (4, 3, 3, 0)
    assert summary["rejected"] == [{"row": 3, "reason": "Customer ID: missing (Shopify's customer id)"}]
    # And Maren keeps her names, E.164 phone (the apostrophe gone), zone, consent and birthday
    maren = person(stage, "7301000000001")
    assert (maren["x"], maren["fn"], maren["ln"]) == ("shopify:src_0:7301000000001", "Maren", "Holt")
    assert (maren["ph"], maren["tz"], maren["bd"]) == ("+4915123456789", "Europe/Berlin", "04-17")
    assert (maren["ce"]["s"], maren["cs"]["s"]) == ("subscribed", "not_subscribed")
    # And Ola's phone is his default address's, with SMS consent; the last has a phone only
    ola = person(stage, "7301000000004")
    assert (ola["ph"], ola["tz"], ola["ce"]["s"], ola["cs"]["s"]) == (
        "+4722225555",
        "Europe/Oslo",
        "not_subscribed",
        "subscribed",
    )
    phone_only = person(stage, "7301000000005")
    assert "e" not in phone_only and (phone_only["ph"], phone_only["tz"]) == (
        "+12125550199",
        "America/New_York",
    )


def test_a_rerun_writes_nothing():
    # Given an imported customers export
    stage = Stage(Platform.SHOPIFY)
    run(stage)
    writes = stage.store.writes
    # When it is imported again
    again = run(stage)
    # Then nothing is written
    assert again.stored == 0 and again.unchanged == 3 and stage.store.writes == writes


def test_the_exported_customer_and_her_pulled_orders_are_one_profile():
    # Given a Shopify store's orders (bulk JSONL) and its customers export
    stage = Stage(Platform.SHOPIFY)
    orders = (EVENTS / "shopify_bulk_orders.jsonl").read_bytes()
    # When both are imported and the stream handled
    stage.run_reader(shopify_bulk_jsonl(orders))
    run(stage)
    stage.drain()
    # Then Maren is one profile, by her Shopify id, with her two orders and her birthday
    (maren,) = [v for k, v in stage.views().items() if "ext:shopify:src_0:7301000000001" in k]
    assert maren["bd"] == "04-17" and maren["fn"] == "Maren"
    assert len([k for k in maren["orders"] if "5901000000001" in k or "5901000000002" in k]) == 2
