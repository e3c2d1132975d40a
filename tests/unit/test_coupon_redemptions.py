"""Coupon redemptions from orders' discount codes (domain/messaging/coupons.py), on fakes:
each parser keeps the codes, a live order redeems Patron's coupon once, later states move
its revenue or give it back, and the list and figures read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.order_items import ingest_change, order_image
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.coupons import CouponQueries, CouponRedemptions, coupon_figures
from chalicelib.domain.messaging.flow_definition import IssuedCoupon
from chalicelib.domain.messaging.performance import UNREGISTERED, ScopeStats
from chalicelib.domain.models import Order, Platform
from chalicelib.domain.pipeline import IngestPipeline
from chalicelib.parsers import run_parser
from tests.conftest import load_event
from tests.unit.fake_coupons import FakeCouponLedger
from tests.unit.fakes import (
    REGISTRIES,
    FakeWorkspaces,
    RecordingEffects,
    make_delivery,
    new_service,
    order_item,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CODE = "BACKQ3ZK7M2XPA"
FLOW_KEY = "flow:abandoned-checkout:K#ws_test#src_1#k-1:1"
CODE_TIME = "2026-11-24T00:00:00.000000Z"  # before the coupons' expiry


def issued(code: str = CODE, key: str = FLOW_KEY, **more: Any) -> IssuedCoupon:
    return IssuedCoupon(
        code=code,
        customer_id="c_000a",
        message_key=key,
        expires_at="2026-11-25T12:00:00.000000Z",
        percent_off=Decimal(10),
        issued_at="2026-11-23T12:00:00.000000Z",
        **more,
    )


def woo_order(status: str = "processing", codes: tuple[str, ...] = (CODE.lower(),), refunded: bool = False):
    """WooCommerce's order (104.88 EUR) with `codes` as its coupon lines (lower-cased, as
    WooCommerce keeps them), as the ingest table holds it."""
    body = load_event(
        "woocommerce/order_updated_refunded.json" if refunded else "woocommerce/order_created.json"
    )
    body["status"] = status
    body["coupon_lines"] = [{"id": n, "code": c, "discount": "10.49"} for n, c in enumerate(codes, 1)]
    return order_item(
        Platform.WOOCOMMERCE, "order.updated", body, v=2 if refunded or status != "processing" else 1
    )


def service(*coupons: IssuedCoupon) -> tuple[CouponRedemptions, FakeCouponLedger]:
    ledger = FakeCouponLedger({c.code: c for c in coupons})
    return CouponRedemptions(ledger, FakeWorkspaces()), ledger


# -- the parsers keep the codes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "topic", "fixture", "field", "value", "expected"),
    [
        (Platform.SHOPIFY, "orders/create", "shopify/orders_create.json", "discount_codes",
         [{"code": "BACK10", "amount": "12.20", "type": "percentage"}], ["BACK10"]),
        (Platform.WOOCOMMERCE, "order.created", "woocommerce/order_created.json", "coupon_lines",
         [{"id": 7, "code": "back10", "discount": "10.49"}], ["back10"]),
        (Platform.GENERIC, "order", "generic/order.json", "discount_codes", ["BACK10"], ["BACK10"]),
    ],
)  # fmt: skip
def test_each_parser_keeps_the_orders_discount_codes_and_the_image_reads_them(
    platform, topic, fixture, field, value, expected
):
    # Given an order fixture of each platform, with a code the buyer entered
    body = load_event(fixture) | {field: value}
    # When it is parsed, and stored as the ingest table holds it
    order = run_parser(REGISTRIES[platform], json.dumps(body).encode(), make_delivery(platform, topic))
    image = order_image(order_item(platform, topic, body))
    # Then the canonical order and the stream's image keep the code
    assert isinstance(order, Order) and [d.code for d in order.discount_codes] == expected
    assert list(image.discount_codes) == expected


# -- redemption ----------------------------------------------------------------------------


def test_a_live_order_redeems_the_coupon_once_with_its_net_revenue_in_the_workspace_currency():
    # Given a coupon a flow issued, and an order using its code (WooCommerce lower-cases it)
    redemptions, ledger = service(issued())
    order = woo_order()
    # When the order arrives, and its stream record is replayed three times
    first = redemptions.on_order(ingest_change(None, order), NOW)
    replays = [redemptions.on_order(ingest_change(None, order), NOW) for _ in range(3)]
    # Then the coupon is redeemed by that order, when it was placed, for 104.88 EUR in USD (x 1.10)
    assert [(r.code, r.change, r.revenue) for r in first] == [(CODE, "redeemed", Decimal("115.37"))]
    held = ledger.issued[CODE]
    assert held.order_key == order["pk"] and held.redeemed_at == "2026-11-20T15:15:30.000000Z"  # when placed
    assert held.revenue == Decimal("115.37") and held.status("2026-11-26T00:00:00Z") == "redeemed"
    # and it counted once for its flow
    assert replays == [[], [], []]
    assert dict(ledger.stats["flow#abandoned-checkout"]) == {
        "codes_redeemed": 1,
        "coupon_revenue": Decimal("115.37"),
    }


def test_a_partial_refund_moves_the_revenue_and_a_cancellation_gives_the_coupon_back():
    # Given a coupon redeemed by an order
    redemptions, ledger = service(issued())
    placed = woo_order()
    redemptions.on_order(ingest_change(None, placed), NOW)
    # When a later state refunds 10.00 EUR of it (twice: a redelivery)
    refunded = woo_order("completed", refunded=True)
    moved = redemptions.on_order(ingest_change(placed, refunded), NOW)
    again = redemptions.on_order(ingest_change(placed, refunded), NOW)
    # Then the recorded revenue is the net one, the difference counted once
    assert [(r.change, r.revenue) for r in moved] == [("revised", Decimal("-11.00"))] and again == []
    assert ledger.issued[CODE].revenue == Decimal("104.37")
    assert ledger.stats["flow#abandoned-checkout"]["coupon_revenue"] == Decimal("104.37")
    # When the order is then cancelled
    cancelled = woo_order("cancelled", refunded=True)
    undone = redemptions.on_order(ingest_change(refunded, cancelled), NOW)
    # Then the coupon is issued again (unused), and its counts are taken back
    assert [(r.change, r.revenue) for r in undone] == [("unredeemed", Decimal("-104.37"))]
    assert ledger.issued[CODE].order_key is None and ledger.issued[CODE].status(CODE_TIME) == "issued"
    assert dict(ledger.stats["flow#abandoned-checkout"]) == {"codes_redeemed": 0, "coupon_revenue": 0}


def test_a_fully_refunded_order_redeems_nothing_and_a_code_used_by_another_order_stays_its():
    # Given a coupon already redeemed by another order, and one not redeemed
    other = issued("BACKOTHER", order_key="W#ws_test#O#other", revenue=Decimal(5), redeemed_at="x")
    redemptions, ledger = service(issued(), other)
    # When a cancelled order carrying the free code arrives, then a live one with the other code
    cancelled = redemptions.on_order(ingest_change(None, woo_order("cancelled")), NOW)
    taken = redemptions.on_order(ingest_change(None, woo_order(codes=("backother",))), NOW)
    # Then neither moves anything
    assert cancelled == [] and taken == []
    assert ledger.issued[CODE].order_key is None and ledger.issued["BACKOTHER"].revenue == Decimal(5)
    assert dict(ledger.stats) == {}


def test_codes_patron_did_not_issue_and_imported_orders_are_left_alone():
    # Given no coupon with the store's own code, and an imported order with Patron's code
    redemptions, ledger = service(issued())
    imported = woo_order() | {"imp": True}
    # When the orders arrive
    foreign = redemptions.on_order(ingest_change(None, woo_order(codes=("summer20",))), NOW)
    quiet = redemptions.on_order(ingest_change(None, imported), NOW)
    # Then nothing is redeemed
    assert foreign == [] and quiet == [] and ledger.issued[CODE].order_key is None


def test_the_pipeline_redeems_after_attribution_and_not_for_an_imported_state():
    # Given the ingest pipeline with the redemptions as its last collaborator
    profiles, _ = new_service()
    effects = RecordingEffects()
    redemptions, _ = service(issued())
    pipeline = IngestPipeline(profiles, effects, effects, effects, coupons=redemptions)
    # When a history import's state of an order with the code comes down the stream, then a live one
    quiet = pipeline.apply(ingest_change(None, woo_order() | {"imp": True}), NOW)
    live = pipeline.apply(ingest_change(None, woo_order()), NOW)
    # Then only the live state redeemed, after the attribution ran
    assert quiet.redeemed == [] and [r.code for r in live.redeemed] == [CODE]
    assert [kind for kind, _, _ in effects.calls][-1] == "attribution"


# -- the list and the figures --------------------------------------------------------------


def test_the_coupon_list_filters_by_status_and_flow_and_pages():
    # Given an issued, an expired and a redeemed coupon of two flows
    ledger = FakeCouponLedger()
    for coupon in (
        issued("A1"),
        issued("B2", key="flow:win-back:c_1:0"),
        issued(
            "C3",
            order_key="W#ws_test#O#1",
            revenue=Decimal("20.00"),
            redeemed_at="2026-11-23T13:00:00.000000Z",
        ),
    ):
        ledger.issued[coupon.code] = coupon
    queries = CouponQueries(ledger)
    after_expiry = datetime(2026, 11, 26, tzinfo=UTC)
    # When listed by status, by flow, and a page at a time
    redeemed = queries.list("ws_test", NOW, status="redeemed")
    expired = queries.list("ws_test", after_expiry, status="expired")
    win_back = queries.list("ws_test", NOW, flow="win-back")
    first = queries.list("ws_test", NOW, limit=2)
    rest = queries.list("ws_test", NOW, limit=2, cursor=str(first["cursor"]))
    # Then each shows what it asked for, with the view's fields
    (shown,) = redeemed["coupons"]
    assert shown["code"] == "C3" and shown["revenue"] == "20.00" and shown["order_key"] == "W#ws_test#O#1"
    assert shown["flow"] == "abandoned-checkout" and shown["step"] == 1 and shown["registered"] is True
    assert [c["code"] for c in expired["coupons"]] == ["A1", "B2"]
    assert [c["code"] for c in win_back["coupons"]] == ["B2"] and win_back["coupons"][0]["step"] == 0
    assert [c["code"] for c in first["coupons"]] == ["A1", "B2"] and first["cursor"] == "B2"
    assert [c["code"] for c in rest["coupons"]] == ["C3"] and rest["cursor"] is None
    # and an unknown status is the one error shape's 400
    with pytest.raises(BadRequest):
        queries.list("ws_test", NOW, status="used")


def test_a_flows_figures_give_the_redemption_rate_and_mark_codes_not_in_the_store():
    # Given a flow's counters: 4 codes sent, 1 not in the store, 1 redeemed for 115.37
    counts: dict[str, Any] = {
        "sent": 4,
        "codes_issued": 4,
        "codes_registered": 3,
        "codes_unregistered": 1,
        "codes_redeemed": 1,
        "coupon_revenue": Decimal("115.37"),
    }
    # When shown in the flow list and in the statistics
    figures = coupon_figures(counts, "USD")
    stats = ScopeStats.of("flow#abandoned-checkout", counts, "USD")
    # Then both give the rate, the revenue and the mark
    assert figures["redemption_rate"] == 0.25 and figures["coupon_revenue"] == "115.37"
    assert figures["codes_note"] == UNREGISTERED == "codes not registered in the store"
    assert (
        stats.redemption_rate == 0.25
        and stats.coupon_revenue == "115.37"
        and stats.codes_note == UNREGISTERED
    )
    assert stats.codes_issued == 4 and stats.codes_registered == 3 and stats.codes_redeemed == 1
    # and a flow whose codes are all in the store has no mark
    assert coupon_figures({"codes_issued": 2, "codes_registered": 2})["codes_note"] is None
