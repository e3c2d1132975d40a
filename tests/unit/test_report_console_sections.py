"""The report's trends, RFM grid and lifecycle funnel (docs/analytics.md#trends): figures
worked out by hand from small fixtures."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain import segment_eval, segments
from chalicelib.domain.customer_profile import CustomerProfile, ProfileFigures
from chalicelib.domain.messaging.performance import Results, results
from chalicelib.domain.profile_facts import profile_facts, score_profile
from chalicelib.domain.report_standing import Standing
from chalicelib.domain.scoring import RfmEdges
from chalicelib.domain.workspace_analytics import build_report


def ts(month: int, day: int = 1) -> int:
    return int(datetime(2026, month, day, tzinfo=UTC).timestamp())


def profile(member: bool, *orders: tuple[int, str, str]) -> CustomerProfile:
    entries = {
        f"src.{i}": {"v": 1, "t": t, "a": Decimal(a), "r": Decimal(r)} for i, (t, a, r) in enumerate(orders)
    }
    return profile_of({"ws": "ws_1", "cid": "c_1", "m": member, "o": entries})


def test_trends_by_month_with_new_and_returning_buyers():
    # Given a member who first bought in December 2025 and again in January and March 2026,
    # a guest first buying twice in January (one refunded by 5) and a guest in February
    items = [
        profile(True, (ts(1) - 86400 * 10, "70", "0"), (ts(1, 10), "20", "0"), (ts(3, 5), "30", "0")),
        profile(False, (ts(1, 3), "10", "5"), (ts(1, 20), "40", "0")),
        profile(False, (ts(2, 14), "25", "0")),
    ]
    # When the report covers January to April (over 90 days: months)
    shown = build_report(items, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    trends = shown["trends"]
    # Then there is one bucket per month, each with its own figures
    assert trends["grain"] == "month"
    assert [b["label"] for b in trends["buckets"]] == ["2026-01", "2026-02", "2026-03"]
    january, february, march = trends["buckets"]
    assert (january["orders"], january["revenue"], january["net_revenue"]) == (3, "70.00", "65.00")
    assert january["average_order_value"] == "23.33"  # 70 / 3, half up
    # the member (first order in December) returns; the January guest is new
    assert (january["new_buyers"], january["returning_buyers"], january["active_members"]) == (1, 1, 1)
    assert (february["orders"], february["new_buyers"], february["returning_buyers"]) == (1, 1, 0)
    assert (march["revenue"], march["returning_buyers"], march["active_members"]) == ("30.00", 1, 1)
    # And the buckets add up to the period's KPIs
    assert sum(b["orders"] for b in trends["buckets"]) == shown["kpis"]["orders"]


def test_a_period_under_90_days_is_cut_into_iso_weeks_at_its_ends():
    # Given one order on Wednesday 7 January 2026 and one on Monday 12 January
    items = [profile(False, (ts(1, 7), "10", "0"), (ts(1, 12), "12", "0"))]
    # When the report covers Saturday 3 to Thursday 15 January (12 days: weeks)
    start, end = datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 15, tzinfo=UTC)
    buckets = build_report(items, start, end)["trends"]["buckets"]
    # Then the weeks are ISO weeks from Monday, the first and the last cut at the period
    assert [b["label"] for b in buckets] == ["2026-W01", "2026-W02", "2026-W03"]
    assert buckets[0]["start"] == "2026-01-03T00:00:00Z" and buckets[0]["end"] == "2026-01-05T00:00:00Z"
    assert buckets[-1]["start"] == "2026-01-12T00:00:00Z" and buckets[-1]["end"] == "2026-01-15T00:00:00Z"
    # And the first order makes a new buyer, the second (a later week) a returning one
    assert [(b["orders"], b["new_buyers"], b["returning_buyers"]) for b in buckets] == [
        (0, 0, 0),
        (1, 1, 0),
        (1, 0, 1),
    ]
    assert buckets[0]["average_order_value"] is None


NOW = datetime(2026, 6, 1, tzinfo=UTC)
EDGES = RfmEdges(
    recency_days=(10.0, 30.0, 60.0, 120.0),
    frequency=(1.0, 1.0, 2.0, 4.0),
    monetary=(20.0, 50.0, 100.0, 200.0),
)


def scored(cid: str, orders: int, days_ago: int | None, net: str, gap: str | None = None) -> CustomerProfile:
    last = (NOW - timedelta(days=days_ago)).isoformat() if days_ago is not None else None
    return CustomerProfile(
        "ws_1",
        cid,
        figures=ProfileFigures(
            orders=orders,
            net=Decimal(net),
            last_order_at=last,
            first_order_at=last,
            average_gap_days=Decimal(gap) if gap else None,
        ),
    )


CUSTOMERS = [
    scored("a", 5, 3, "250.00", gap="10"),  # R5 (3 <= 10 days), F5 (5 > 4): active on its rhythm
    scored("b", 5, 5, "150.50", gap="10"),  # R5, F5
    scored("c", 1, 200, "30.00"),  # R1 (200 > 120), F1
    scored("d", 2, 40, "80.00", gap="20"),  # R3 (30 < 40 <= 60), F3 (1 < 2 <= 2): at risk (40 > 1.5 x 20)
    scored("e", 0, None, "0"),  # a prospect: no RFM
]


def test_the_rfm_grid_counts_each_cell_and_its_revenue_and_opens_the_same_customers():
    # Given five customers and the workspace's stored edges
    standing = Standing(NOW, EDGES, 30.0, "USD")
    for customer in CUSTOMERS:
        standing.add(customer)
    # When the grid is read
    grid = standing.rfm_grid()
    # Then it has 25 cells, R 5..1 by F 1..5, and the scored customers in theirs
    assert grid.scored and grid.customers == 4 and len(grid.cells) == 25
    assert [(c.r_score, c.f_score) for c in grid.cells[:2]] == [(5, 1), (5, 2)]
    by_cell = {(c.r_score, c.f_score): c for c in grid.cells}
    assert (by_cell[(5, 5)].customers, by_cell[(5, 5)].revenue) == (2, Decimal("400.50"))
    assert by_cell[(5, 5)].share == 0.5
    assert (by_cell[(1, 1)].customers, by_cell[(3, 3)].customers) == (1, 1)
    assert sum(c.customers for c in grid.cells) == 4
    # And each cell's definition holds for exactly that cell's customers, as the segments score them
    for cell in grid.cells:
        tree = segments.parse(cell.definition)
        members = []
        for customer in CUSTOMERS:
            rfm, stage = score_profile(customer, EDGES, 30.0, NOW)
            if segment_eval.evaluate(tree, profile_facts(customer, rfm, stage), NOW).member:
                members.append(customer.customer_id)
        assert len(members) == cell.customers


def test_no_grid_before_the_workspace_has_edges():
    # Given a workspace the nightly job has not scored yet
    standing = Standing(NOW, None, None, "USD")
    standing.add(CUSTOMERS[0])
    # When the grid is read, Then it says so and has no cells
    grid = standing.rfm_grid()
    assert (grid.scored, grid.customers, grid.cells) == (False, 0, [])


def test_the_lifecycle_funnel_in_stage_order_with_conversion_between_steps():
    # Given the same five customers
    standing = Standing(NOW, EDGES, 30.0, "USD")
    for customer in CUSTOMERS:
        standing.add(customer)
    # When the funnel is read
    funnel = standing.funnel()
    # Then the stages are in the documented order with their counts and built-in segments
    assert [s.stage for s in funnel.stages] == ["prospect", "new", "active", "at_risk", "lapsed", "churned"]
    counts = {s.stage: s.customers for s in funnel.stages}
    # c: one order 200 days ago, store rhythm 30: beyond 6 x 30 days, churned
    assert counts == {"prospect": 1, "new": 0, "active": 2, "at_risk": 1, "lapsed": 0, "churned": 1}
    assert funnel.stages[0].segment == "lifecycle:prospect" and funnel.stages[0].share == 0.2
    # And the steps convert: 5 customers, 4 buyers (0.8), 3 repeat (0.75), 2 active repeat (0.6667)
    assert [(s.step, s.customers, s.conversion) for s in funnel.steps] == [
        ("customers", 5, None),
        ("buyers", 4, 0.8),
        ("repeat_buyers", 3, 0.75),
        ("active_repeat_buyers", 2, 0.6667),
    ]
    assert funnel.steps[-1].of_customers == 0.4
    # And each step's definition holds for exactly its customers
    for step in funnel.steps:
        tree = segments.parse(step.definition)
        matched = 0
        for customer in CUSTOMERS:
            rfm, stage = score_profile(customer, EDGES, 30.0, NOW)
            matched += segment_eval.evaluate(tree, profile_facts(customer, rfm, stage), NOW).member
        assert matched == step.customers


def test_a_campaigns_results_are_its_totals_and_each_variants_with_rates_and_rounded_money():
    # Given a campaign's counters and its two variants' (revenue in yen, as the attribution adds it)
    totals = {"sent": 10, "delivered": 8, "opened": 4, "clicked": 2, "unsubscribed": 1, "orders": 2}
    totals["revenue"] = Decimal("1234.5")
    variants = {"a": {"sent": 6, "delivered": 5, "clicked": 2}, "b": None}
    # When they are read as results
    shown = Results.model_validate(results("camp#c1", totals, variants, "JPY"))
    # Then the totals carry the rates per delivered message and the money in whole yen, half up
    assert (shown.total.kind, shown.total.id, shown.total.orders) == ("campaign", "c1", 2)
    assert (shown.total.open_rate, shown.total.click_rate, shown.total.unsubscribe_rate) == (0.5, 0.25, 0.125)
    assert shown.total.revenue == "1235"
    # And each variant has its own figures, a variant without any yet at zero
    assert [(v.variant, v.sent, v.click_rate) for v in shown.variants] == [("a", 6, 0.4), ("b", 0, None)]


ORDER_TIMES = st.integers(min_value=ts(1) - 400 * 86400, max_value=ts(1) + 500 * 86400)


@settings(max_examples=60, deadline=None)
@given(
    customers=st.lists(
        st.tuples(st.booleans(), st.lists(st.tuples(ORDER_TIMES, st.integers(0, 50_000)), max_size=6)),
        max_size=8,
    ),
    start=ORDER_TIMES,
    days=st.integers(min_value=1, max_value=400),
)
def test_the_trends_add_up_to_the_kpis_for_any_orders_and_period(customers, start, days):
    # Given any customers' orders (amounts in cents) and any period, weeks or months
    items = [profile(m, *[(t, str(Decimal(c) / 100), "0") for t, c in orders]) for m, orders in customers]
    begin = datetime.fromtimestamp(start, UTC)
    shown = build_report(items, begin, begin + timedelta(days=days))
    buckets, kpis = shown["trends"]["buckets"], shown["kpis"]
    # Then the buckets tile the period, in order, and add up to its KPIs
    assert buckets[0]["start"] == shown["period"]["from"].replace("+00:00", "Z")
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(buckets))
    assert sum(b["orders"] for b in buckets) == kpis["orders"]
    assert sum(Decimal(b["revenue"]) for b in buckets) == Decimal(kpis["revenue"])
    # And a buyer is new in one bucket at most, and every active customer is counted somewhere
    assert sum(b["new_buyers"] for b in buckets) <= kpis["buyers"]
    assert (
        max((b["new_buyers"] + b["returning_buyers"] for b in buckets), default=0) <= kpis["active_customers"]
    )
