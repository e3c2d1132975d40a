"""Workspace report from profiles: numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.workspace_analytics import build_report, parse_date

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)


def ts(month: int, day: int = 1) -> int:
    return int(datetime(2026, month, day, tzinfo=UTC).timestamp())


def profile(member: bool, *orders: tuple, cancelled: tuple = ()) -> CustomerProfile:
    entries = {
        f"src.{i}": {"v": 1, "t": t, "a": Decimal(a), "r": Decimal(r), "p": list(p)}
        for i, (t, a, r, p) in enumerate(orders)
    }
    for j, t in enumerate(cancelled):
        entries[f"src.x{j}"] = {"v": 2, "t": t, "x": True, "a": Decimal(999)}
    return profile_of({"ws": "ws_1", "cid": "c_1", "m": member, "o": entries})


@pytest.fixture
def report():
    items = [
        # a member buying monthly, Jan-Jun (6 orders of 50, one refund of 10)
        profile(True, *[(ts(m), "50", "10" if m == 2 else "0", ("tea",)) for m in range(1, 7)]),
        # a member who bought twice in January, then stopped
        profile(True, (ts(1, 5), "100", "0", ("book-1",)), (ts(1, 20), "40", "0", ("book-2",))),
        # a guest with one order in March and a cancelled one
        profile(False, (ts(3), "30", "0", ("tea",)), cancelled=(ts(4),)),
        # a prospect with no orders
        profile(False),
    ]
    return build_report(items, START, END, cohort_months=6)


def test_kpis(report):
    k = report["kpis"]
    assert (k["customers"], k["buyers"], k["active_customers"], k["orders"]) == (4, 3, 3, 9)
    assert (k["revenue"], k["refunds"], k["net_revenue"]) == ("470.00", "10.00", "460.00")
    assert k["average_order_value"] == str((Decimal(470) / 9).quantize(Decimal("0.01")))
    assert k["repeat_purchase_rate"] == round(2 / 3, 4)


def test_members_vs_guests_side_by_side(report):
    members, guests = report["members_vs_guests"]["members"], report["members_vs_guests"]["guests"]
    assert (members["buyers"], members["orders"], members["revenue"]) == (2, 8, "440.00")
    assert (guests["buyers"], guests["orders"], guests["revenue"]) == (1, 1, "30.00")
    assert guests["repeat_purchase_rate"] == 0.0 and members["repeat_purchase_rate"] == 1.0


def test_cohort_retention_by_first_order_month(report):
    january = report["cohort_retention"]["2026-01"]
    assert january["customers"] == 2
    assert january["retention"] == [1.0, 0.5, 0.5, 0.5, 0.5, 0.5]  # the monthly buyer stays
    assert report["cohort_retention"]["2026-03"]["retention"][:2] == [1.0, 0.0]


def test_days_between_orders_and_churn_points(report):
    gaps = report["days_between_orders"]
    # monthly gaps: 28 and 30 days fall in 15-30, the three 31-day months in 31-60; plus 15 days
    assert (gaps["15-30"], gaps["31-60"]) == (2 + 1, 3)
    assert sum(gaps.values()) == 6
    churn = report["churn_points"]
    # the two-order January buyer (rhythm 15 days, silent since) is lost after 2 orders
    assert churn["after_orders"].get("2") == 1
    assert churn["lost_customers"] >= 1


def test_dates_are_validated():
    assert parse_date("from", "2026-01-01") == START
    with pytest.raises(BadRequest):
        parse_date("from", "yesterday")
