"""Dates outside the accepted window (docs/webhooks.md) are refused at the webhook with
the field named, and the body is quarantined: nothing downstream ever sees them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_event
from tests.integration.test_webhook_ingest import scan

FAR_FUTURE = "9999-12-31T23:59:59+14:00"
EPOCH = "1970-01-01T00:00:00Z"


def _shopify(created_at: str) -> dict:
    order = load_event("shopify/orders_create.json")
    order["created_at"] = created_at
    return order


def _woo(created_at: str) -> dict:
    order = load_event("woocommerce/order_created.json")
    order["date_created_gmt"] = created_at.replace("Z", "").replace("+14:00", "")
    return order


def _generic(created_at: str) -> dict:
    order = load_event("generic/order.json")
    order["created_at"] = created_at
    return order


CASES = [
    ("shopify", "orders/create", _shopify, "created_at"),
    ("woocommerce", "order.created", _woo, "date_created_gmt"),
    ("generic", "order", _generic, "created_at"),
]


@pytest.mark.parametrize("stamp", [FAR_FUTURE, EPOCH], ids=["year-9999", "epoch-0"])
@pytest.mark.parametrize(("platform", "topic", "make", "field"), CASES, ids=[c[0] for c in CASES])
def test_an_order_dated_outside_the_window_is_400_and_quarantined(
    stage, ws, platform, topic, make, field, stamp
):
    # Given a well-signed order dated in year 9999 or at the epoch
    body = make(stamp)
    # When it is delivered
    response = stage.send(ws, platform, topic, json.dumps(body).encode())
    stage.drain()
    # Then it is refused with the field error, and the body is kept in the quarantine
    assert response.status_code == 400, response.body
    answer = json.loads(response.body)
    (error,) = [e for e in answer["details"] if e["field"] == field]
    assert error["type"] == "date_out_of_range"
    assert "2000-01-01" in error["error"]
    (entry,) = stage.container.quarantine.page(ws.workspace_id)[0]
    assert entry["quarantine_id"] == answer["quarantine_id"]
    assert field in [e["field"] for e in entry["errors"]]
    # And nothing was stored, so no profile exists
    assert scan(stage, stage.info.ingest_table) == []


def test_refund_consent_and_cancel_dates_are_checked_too(stage, ws):
    # Given an order whose refund, consent and cancel dates are out of the window
    order = load_event("shopify/orders_cancelled.json")
    order["cancelled_at"] = FAR_FUTURE
    order["refunds"][0]["created_at"] = EPOCH
    order["customer"]["email_marketing_consent"] = {"state": "subscribed", "consent_updated_at": FAR_FUTURE}
    # When it is delivered
    response = stage.send(ws, "shopify", "orders/cancelled", json.dumps(order).encode())
    # Then each of them is named
    assert response.status_code == 400, response.body
    fields = {e["field"] for e in json.loads(response.body)["details"]}
    assert {
        "cancelled_at",
        "refunds.0.created_at",
        "customer.email_marketing_consent.consent_updated_at",
    } <= fields


def test_an_impossible_birthday_is_refused(stage, ws):
    # Given a generic order whose customer's birthday is 30 February, and one born in 2999
    bad_day, future = _generic("2026-11-21T17:02:00+01:00"), _generic("2026-11-21T17:02:00+01:00")
    bad_day["customer"]["birthday"] = "02-30"
    future["customer"]["birthday"] = "2999-05-01"
    # When they are delivered
    responses = [stage.send(ws, "generic", "order", json.dumps(b).encode()) for b in (bad_day, future)]
    # Then both are refused on the birthday field
    assert [r.status_code for r in responses] == [400, 400]
    assert all(json.loads(r.body)["details"][0]["field"] == "customer.birthday" for r in responses)


def test_an_offset_that_leaves_the_calendar_is_a_400_not_a_500(stage, ws):
    # Given a Shopify order whose time, in UTC, would be in year 10000
    body = _shopify("9999-12-31T23:59:59-14:00")
    # When it is delivered
    response = stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    # Then it is refused and quarantined like any other invalid body
    assert response.status_code == 400, response.body
    assert len(stage.container.quarantine.page(ws.workspace_id)[0]) == 1


def test_a_trigger_time_header_off_the_calendar_is_ignored_not_a_500(stage, ws):
    # Given a good order whose trigger-time header would be in year 10000 in UTC
    body = load_event("shopify/orders_create.json")
    headers = {"X-Shopify-Triggered-At": "9999-12-31T23:59:59-14:00"}
    # When it is delivered
    response = stage.send(ws, "shopify", "orders/create", json.dumps(body).encode(), headers=headers)
    # Then the order is stored (the header only breaks ties between versions)
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["status"] == "stored"
