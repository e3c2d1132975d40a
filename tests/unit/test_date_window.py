"""The accepted window of storefront dates: from 2000-01-01T00:00:00Z to two days after the
delivery was received, on every parser and every date that feeds a computation; and the
reasons reported for skipped records carry no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.failures import Skipped, reason
from chalicelib.domain.models import Delivery, Order, Platform
from chalicelib.parsers import PayloadError, generic, run_parser, shopify, woocommerce
from tests.conftest import load_event

RECEIVED = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # the delivery's, not the wall clock
LATEST = RECEIVED + timedelta(days=2)


def deliver(platform: Platform, topic: str, body: dict) -> Order:
    registry = {Platform.SHOPIFY: shopify, Platform.WOOCOMMERCE: woocommerce, Platform.GENERIC: generic}
    delivery = Delivery(
        workspace_id="ws_test", source_id="src_1", platform=platform, topic=topic, received_at=RECEIVED
    )
    result = run_parser(registry[platform].PARSERS, json.dumps(body).encode(), delivery)
    assert isinstance(result, Order)
    return result


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def shopify_at(value: datetime) -> dict:
    body = load_event("shopify/orders_create.json")
    body.update(created_at=_iso(value), updated_at=_iso(value), refunds=[])
    return body


def woo_at(value: datetime) -> dict:
    body = load_event("woocommerce/order_created.json")
    stamp = value.replace(tzinfo=None).isoformat()
    body.update(date_created_gmt=stamp, date_modified_gmt=stamp)
    return body


def generic_at(value: datetime) -> dict:
    body = load_event("generic/order.json")
    body.update(created_at=_iso(value), updated_at=_iso(value))
    body["customer"]["consent_updated_at"] = _iso(value)
    return body


PARSERS = [
    (Platform.SHOPIFY, "orders/create", shopify_at, "created_at"),
    (Platform.WOOCOMMERCE, "order.created", woo_at, "date_created_gmt"),
    (Platform.GENERIC, "order", generic_at, "created_at"),
]
EDGES_IN = [datetime(2000, 1, 1, tzinfo=UTC), LATEST]
EDGES_OUT = [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), LATEST + timedelta(seconds=1)]


@pytest.mark.parametrize(("platform", "topic", "make", "field"), PARSERS)
@pytest.mark.parametrize("at", EDGES_IN, ids=["first-instant", "two-days-after-receipt"])
def test_the_window_s_edges_are_accepted(platform, topic, make, field, at):
    # When an order is dated exactly at an edge of the window
    order = deliver(platform, topic, make(at))
    # Then it parses, in UTC
    assert order.created_at == at


@pytest.mark.parametrize(("platform", "topic", "make", "field"), PARSERS)
@pytest.mark.parametrize("at", EDGES_OUT, ids=["before-2000", "past-two-days"])
def test_one_second_outside_the_window_is_a_field_error(platform, topic, make, field, at):
    # When an order is dated one second outside the window
    with pytest.raises(PayloadError) as caught:
        deliver(platform, topic, make(at))
    # Then the field is named, with the window, and without the value sent
    errors = {e["field"]: e for e in caught.value.errors}
    assert errors[field]["type"] == "date_out_of_range"
    assert "2026-11-30T23:30:00Z" in errors[field]["error"]  # received + 2 days
    assert at.isoformat()[:19] not in json.dumps(caught.value.errors)


def test_the_generic_consent_date_is_checked():
    body = generic_at(RECEIVED)
    body["customer"]["consent_updated_at"] = "2999-01-01T00:00:00Z"
    with pytest.raises(PayloadError) as caught:
        deliver(Platform.GENERIC, "order", body)
    assert [e["field"] for e in caught.value.errors] == ["customer.consent_updated_at"]


@pytest.mark.parametrize(
    ("birthday", "kept"),
    [("02-29", "02-29"), ("1984-02-29", "02-29"), ("1900-12-31", "12-31"), ("2026-02-28", "02-28")],
)
def test_real_birthdays_keep_their_month_and_day(birthday, kept):
    body = generic_at(RECEIVED)
    body["customer"]["birthday"] = birthday
    assert deliver(Platform.GENERIC, "order", body).person.birthday == kept


@pytest.mark.parametrize(
    "birthday", ["02-30", "04-31", "1985-02-29", "1899-05-01", "2027-01-01", "13-01", "1-1"]
)
def test_impossible_birthdays_are_field_errors(birthday):
    body = generic_at(RECEIVED)
    body["customer"]["birthday"] = birthday
    with pytest.raises(PayloadError) as caught:
        deliver(Platform.GENERIC, "order", body)
    assert [e["field"] for e in caught.value.errors] == ["customer.birthday"]


def test_a_skip_reason_names_the_error_without_the_values():
    # Given errors whose messages quote values, an email address and a phone number
    errors = [
        ValueError("Invalid isoformat string: '10000-01-01T00:00:00Z'"),
        KeyError("jane.doe@example.com"),
        LookupError("no profile for jane.doe@example.com or +1 212 555 0147"),
    ]
    # When they are reported
    skipped = Skipped()
    for n, exc in enumerate(errors):
        skipped.add(exc, customer_id=f"c_{n}")
    skipped.add(errors[0], customer_id="c_0")  # the same record again, in a later pass
    report = skipped.report()
    # Then each record is counted once, with its type, and none of the values
    assert report["failed"] == 3
    assert reason(errors[0]) == "ValueError: Invalid isoformat string: '…'"
    text = json.dumps(report)
    assert "@" not in text and "555" not in text and "10000" not in text


def test_an_analyst_s_transaction_off_the_calendar_is_an_input_error(tmp_path):
    from patron.model import InputError, read_transactions

    # Given a transactions file with a date whose offset takes it past year 9999 in UTC
    path = tmp_path / "transactions.csv"
    path.write_text("customer_id,date,amount\nc1,2026-01-02,10\nc1,9999-12-31T23:59:59-14:00,5\n")
    # When it is read for a fit
    with pytest.raises(InputError) as caught:
        read_transactions(path, "days", None)
    # Then the line is named (it was an OverflowError traceback)
    assert "line 3" in str(caught.value)
