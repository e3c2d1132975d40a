"""The report's `trends`: the period cut into months (weeks when it is under 90 days), each
with its revenue, orders, average order value, new and returning buyers and active members.

Rules (docs/analytics.md#trends): an order belongs to the bucket holding its `placed_at`
(UTC); buckets are calendar months, or ISO weeks from Monday 00:00 UTC when the period is
under 90 days, the first and last cut at the period's ends. A buyer is `new` in the bucket
of their first counted order ever (whatever the period), `returning` in a later one.
Cancelled orders count for nothing; orders without a rate count as orders but not in money.
Computed from the customers the report already walked: no read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.domain.analytics_views import TrendBucket, Trends
from chalicelib.domain.money import round_money
from chalicelib.domain.timemath import later

WEEKLY_UNDER_DAYS = 90


# a buyer: whether a member, and their counted orders, oldest first: (placed at, converted
# amount or None without a rate, refunded)
Buyer = tuple[bool, Sequence[tuple[datetime, Decimal | None, Decimal]]]


def grain(start: datetime, end: datetime) -> str:
    return "week" if end - start < timedelta(days=WEEKLY_UNDER_DAYS) else "month"


def bucket_start(at: datetime, unit: str) -> datetime:
    """The start of the month (or ISO week) holding `at`, midnight UTC."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return day.replace(day=1)
    monday = later(day, -timedelta(days=day.weekday()))
    return monday if monday is not None else day  # the calendar's first week starts on a Monday


def _next(at: datetime, unit: str) -> datetime | None:
    if unit == "week":
        return later(at, timedelta(days=7))
    if at.month == 12:
        return at.replace(year=at.year + 1, month=1) if at.year < 9999 else None
    return at.replace(month=at.month + 1)


def _label(at: datetime, unit: str) -> str:
    if unit == "month":
        return f"{at.year:04d}-{at.month:02d}"
    year, week, _ = at.isocalendar()
    return f"{year:04d}-W{week:02d}"


@dataclass
class _Tally:
    orders: int = 0
    converted: int = 0
    revenue: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    new: set[int] = field(default_factory=set)
    returning: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)


def trends(buyers: Iterable[Buyer], start: datetime, end: datetime, currency: str | None) -> Trends:
    """The period's buckets, oldest first, each with its figures (module docstring)."""
    unit = grain(start, end)
    tallies: dict[datetime, _Tally] = {}
    for index, (member, orders) in enumerate(buyers):
        if not orders:
            continue
        first = orders[0][0]
        for placed, amount, refunded in orders:
            if not start <= placed < end:
                continue
            tally = tallies.setdefault(bucket_start(placed, unit), _Tally())
            tally.orders += 1
            if amount is not None:
                tally.converted += 1
                tally.revenue += amount
                tally.refunds += refunded
            fresh = bucket_start(first, unit) == bucket_start(placed, unit)
            (tally.new if fresh else tally.returning).add(index)
            if member:
                tally.members.add(index)
    rows = []
    at: datetime | None = bucket_start(start, unit)
    while at is not None and at < end:
        following = _next(at, unit)
        tally = tallies.get(at, _Tally())
        rows.append(
            TrendBucket(
                label=_label(at, unit),
                start=max(at, start),
                end=min(following, end) if following is not None else end,
                revenue=round_money(tally.revenue, currency),
                net_revenue=round_money(tally.revenue - tally.refunds, currency),
                orders=tally.orders,
                average_order_value=round_money(tally.revenue / tally.converted, currency)
                if tally.converted
                else None,
                new_buyers=len(tally.new),
                returning_buyers=len(tally.returning),
                active_members=len(tally.members),
                unconverted_orders=tally.orders - tally.converted,
            )
        )
        at = following
    return Trends(grain=unit, buckets=rows)
