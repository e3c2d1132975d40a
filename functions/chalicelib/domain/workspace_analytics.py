"""Workspace analytics from profiles: KPIs, members vs guests, cohorts, rhythm, churn points.

Everything is derived from the profiles' order entries (time, converted amount, refunds,
products, counted or not), so a report agrees with the profiles exactly. Amounts are
Decimal in the workspace currency; orders in a currency without a rate are left out of
money figures and counted in `unconverted_orders`.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain import scoring, timemath
from chalicelib.domain.catalogue import named_products, source_lookups
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry, entry_source
from chalicelib.domain.errors import BadRequest, Conflict
from chalicelib.domain.loyalty.liability import Liability, lot_days
from chalicelib.domain.money import round_money
from chalicelib.domain.order_entries import all_entries
from chalicelib.domain.ports import CatalogueReader, MovedEntries, WorkspaceReader
from chalicelib.domain.report_standing import Standing
from chalicelib.domain.report_trends import trends
from chalicelib.domain.timemath import now_utc
from chalicelib.domain.walk import PAGE, CustomerWalk

if TYPE_CHECKING:  # (the ports pull the ingest images: not at the app's load)
    from chalicelib.domain.loyalty.ports import LoyaltyBooks

GAP_BUCKETS = (
    (7, "0-7"),
    (14, "8-14"),
    (30, "15-30"),
    (60, "31-60"),
    (90, "61-90"),
    (180, "91-180"),
    (365, "181-365"),
)


@dataclass
class _Order:
    at: datetime
    amount: Decimal | None
    refunded: Decimal
    products: tuple[str, ...]
    source: str = ""  # the source the order came from (its products' catalogue)


@dataclass
class _Customer:
    member: bool
    orders: list[_Order] = field(default_factory=list)


@dataclass
class Unconverted:
    """Counted orders in one currency without a rate into the workspace's."""

    orders: int = 0
    amount: Decimal = Decimal(0)  # in that currency, gross


def unconverted_orders(entries: Iterable[OrderEntry], into: dict[str, Unconverted]) -> None:
    """Add the counted order entries that have no converted amount to `into`, per currency."""
    for entry in entries:
        if entry.counted and entry.amount is None and entry.currency:
            found = into.setdefault(entry.currency, Unconverted())
            found.orders += 1
            found.amount += entry.original_amount or Decimal(0)


def currency_warnings(
    unconverted: dict[str, Unconverted], workspace_id: str, currency: str | None
) -> list[dict[str, Any]]:
    """One warning per currency without a rate: its orders, their amount, and the command
    that sets the rate (orders processed after it are converted)."""
    into = currency or "the workspace currency"
    return [
        {
            "kind": "unconverted_currency",
            "currency": cur,
            "orders": u.orders,
            "amount": _money(u.amount, cur),
            "message": f"{u.orders} order{'' if u.orders == 1 else 's'} ({_money(u.amount, cur)} {cur}) "
            f"without a {cur} rate into {into}: left out of money figures",
            "command": f"patron workspace set-rate -w {workspace_id} {cur} RATE",
        }
        for cur, u in sorted(unconverted.items())
    ]


def _customers(
    profiles: Iterable[CustomerProfile], unconverted: dict[str, Unconverted] | None = None
) -> list[_Customer]:
    out = []
    for profile in profiles:
        customer = _Customer(member=profile.is_member)
        if unconverted is not None:
            unconverted_orders(profile.orders.values(), unconverted)
        for key, entry in profile.orders.items():
            if not entry.counted or entry.placed_at is None:  # 0: placed at the epoch
                continue
            customer.orders.append(
                _Order(
                    timemath.from_epoch(entry.placed_at),
                    entry.amount,
                    entry.refunded or Decimal(0),
                    tuple(entry.products or ()),
                    entry_source(key),
                )
            )
        customer.orders.sort(key=lambda o: o.at)
        out.append(customer)
    return out


def _money(value: Decimal, currency: str | None) -> str:
    return str(round_money(value, currency))


def _ratio(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _kpis(
    customers: list[_Customer], start: datetime, end: datetime, currency: str | None = None
) -> dict[str, Any]:
    in_period = [(c, [o for o in c.orders if start <= o.at < end]) for c in customers]
    orders = [o for _, os in in_period for o in os]
    converted = [o for o in orders if o.amount is not None]
    revenue = sum((o.amount for o in converted if o.amount is not None), Decimal(0))
    refunds = sum((o.refunded for o in converted), Decimal(0))
    buyers = [c for c in customers if any(o.at < end for o in c.orders)]
    repeaters = [c for c in buyers if sum(1 for o in c.orders if o.at < end) >= 2]
    active = [c for c, os in in_period if os]
    rhythm = _store_rhythm(buyers, end)
    churned = [c for c in buyers if _stage(c, end, rhythm) == "churned"]
    return {
        "customers": len(customers),
        "buyers": len(buyers),
        "active_customers": len(active),
        "orders": len(orders),
        "revenue": _money(revenue, currency),
        "refunds": _money(refunds, currency),
        "net_revenue": _money(revenue - refunds, currency),
        "average_order_value": _money(revenue / len(converted), currency) if converted else None,
        "orders_per_active_customer": _ratio(len(orders), len(active)),
        "repeat_purchase_rate": _ratio(len(repeaters), len(buyers)),
        "churn_rate": _ratio(len(churned), len(buyers)),
        "unconverted_orders": len(orders) - len(converted),
    }


def _gap_days(customer: _Customer, end: datetime) -> float | None:
    times = [o.at for o in customer.orders if o.at < end]
    if len(times) < 2:
        return None
    return (times[-1] - times[0]).total_seconds() / 86400 / (len(times) - 1)


def _store_rhythm(buyers: list[_Customer], end: datetime) -> float | None:
    return scoring.store_rhythm([g for c in buyers if (g := _gap_days(c, end)) is not None])


def _stage(customer: _Customer, end: datetime, store_rhythm: float | None) -> str:
    times = [o.at for o in customer.orders if o.at < end]
    return scoring.lifecycle(
        len(times), times[-1] if times else None, _gap_days(customer, end), store_rhythm, end
    ).stage


def _month(value: datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def build_report(
    profiles: Iterable[CustomerProfile],
    start: datetime,
    end: datetime,
    cohort_months: int = 12,
    currency: str | None = None,
    workspace_id: str = "WS",
    catalogue: CatalogueReader | None = None,
) -> dict[str, Any]:
    """The report; money figures in `currency` (the workspace's), rounded to its minor units.
    `warnings` lists the currencies of the workspace's orders (of any date) without a rate;
    the products it names carry the catalogue's `title` and `url` (None when unknown)."""
    unconverted: dict[str, Unconverted] = {}
    customers = _customers(profiles, unconverted)
    members = [c for c in customers if c.member]
    guests = [c for c in customers if not c.member]

    # cohort retention: share of each first-order month's customers ordering k months later
    cohorts: dict[str, list[_Customer]] = defaultdict(list)
    for c in customers:
        if c.orders and c.orders[0].at < end:
            cohorts[_month(c.orders[0].at)].append(c)
    matrix = {}
    for month, group in sorted(cohorts.items()):
        first = group[0].orders[0].at
        row = []
        for k in range(cohort_months):
            if _months_between(first, end) < k:
                break
            active = sum(
                1 for c in group if any(_months_between(c.orders[0].at, o.at) == k for o in c.orders)
            )
            row.append(round(active / len(group), 4))
        matrix[month] = {"customers": len(group), "retention": row}

    # days between consecutive orders
    gaps: Counter[str] = Counter()
    for c in customers:
        times = [o.at for o in c.orders if o.at < end]
        for a, b in itertools.pairwise(times):
            days = (b - a).total_seconds() / 86400
            label = next((name for limit, name in GAP_BUCKETS if days <= limit), ">365")
            gaps[label] += 1

    # churn points: after how many orders, and after which products, customers stop
    buyers = [c for c in customers if any(o.at < end for o in c.orders)]
    rhythm = _store_rhythm(buyers, end)
    churned = [c for c in buyers if _stage(c, end, rhythm) in ("churned", "lapsed")]
    after_orders: Counter[str] = Counter()
    last_products: Counter[str] = Counter()
    last_sources: defaultdict[str, set[str]] = defaultdict(set)
    bought: Counter[str] = Counter()
    for c in buyers:
        for product in {p for o in c.orders for p in o.products}:
            bought[product] += 1
    for c in churned:
        n = sum(1 for o in c.orders if o.at < end)
        after_orders[str(n) if n < 5 else "5+"] += 1
        for product in set(c.orders[-1].products):
            last_products[product] += 1
            last_sources[product].add(c.orders[-1].source)
    churn_products: list[dict[str, Any]] = sorted(
        (
            {
                "product": p,
                "last_order_of_lost_customers": k,
                "buyers": bought[p],
                "share": round(k / bought[p], 4),
            }
            for p, k in last_products.items()
            if bought[p] >= 5
        ),
        key=lambda row: (-float(str(row["share"])), str(row["product"])),
    )[:10]
    # the rows' products by name: one catalogue read for all of them
    sources_of = {str(r["product"]): last_sources[str(r["product"])] for r in churn_products}
    refs = source_lookups(sources_of)
    found = catalogue.products(workspace_id, refs) if catalogue is not None and refs else []
    names = named_products(sources_of, found)
    for churn_row in churn_products:
        view = names[str(churn_row["product"])]
        churn_row.update(title=view.title, url=view.url)

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "kpis": _kpis(customers, start, end, currency),
        "members_vs_guests": {
            "members": _kpis(members, start, end, currency),
            "guests": _kpis(guests, start, end, currency),
        },
        "cohort_retention": matrix,
        "days_between_orders": {name: gaps.get(name, 0) for _, name in [*GAP_BUCKETS, (0, ">365")]},
        "churn_points": {
            "lost_customers": len(churned),
            "after_orders": dict(sorted(after_orders.items())),
            "after_products": churn_products,
        },
        "warnings": currency_warnings(unconverted, workspace_id, currency),
        "trends": trends(
            ((c.member, [(o.at, o.amount, o.refunded) for o in c.orders]) for c in customers),
            start,
            end,
            currency,
        ).model_dump(mode="json"),
    }


def parse_date(name: str, value: str | None) -> datetime | None:
    """An ISO-8601 date or time from a caller; UTC unless it carries an offset."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(
            f"{name} must be an ISO-8601 date", [{"field": name, "error": "not a date"}]
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class LoyaltyOff(Conflict):
    """The liability asked of a workspace whose points are off (409, `reason` `loyalty_off`)."""

    code = "loyalty_off"


class AnalyticsService:
    """Reports over a workspace's profiles, read through the workspace's own customer lists
    (`domain/walk.py`): the cost is the workspace's size, whatever else the table holds."""

    def __init__(
        self,
        walk: CustomerWalk,
        entries: MovedEntries | None = None,
        workspaces: WorkspaceReader | None = None,
        catalogue: CatalogueReader | None = None,
        loyalty: LoyaltyBooks | None = None,
    ) -> None:
        self.walk = walk
        self.entries = entries  # a customer's older order entries (chalicelib.domain.profiles)
        self.workspaces = workspaces  # the workspace's currency (one GetItem)
        self.catalogue = catalogue  # names the report's products (one BatchGetItem a report)
        self.loyalty = loyalty  # balances and tiers, one BatchGetItem each per page of the walk

    def report(self, workspace_id: str, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        end = end or now_utc()
        start = start or _year_before(end)
        if start >= end:
            raise BadRequest("'from' must be before 'to'", {"field": "from"})
        settings = self.workspaces.settings(workspace_id) if self.workspaces is not None else None
        currency = settings.currency if settings is not None else None
        profiles = self._with_moved(workspace_id, self.walk.customers_of(workspace_id))
        standing = Standing(
            end,
            settings.rfm_edges if settings is not None else None,
            settings.rhythm_days if settings is not None else None,
            currency,
        )
        profiles = _adding(profiles, standing)
        rules = settings.loyalty if settings is not None else None
        liability = None
        if self.loyalty is not None and rules is not None and rules.enabled:
            liability = Liability(end.date(), start, end, lot_days(rules))
            profiles = self._with_books(workspace_id, profiles, self.loyalty, liability)
        report = build_report(
            profiles, start, end, currency=currency, workspace_id=workspace_id, catalogue=self.catalogue
        )
        report["rfm_grid"] = standing.rfm_grid().model_dump(mode="json")
        report["lifecycle_funnel"] = standing.funnel().model_dump(mode="json")
        if liability is not None and self.loyalty is not None and rules is not None:
            report["loyalty"] = liability.section(rules, currency, self.loyalty.tally(workspace_id))
        return report

    def liability(self, workspace_id: str, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        """The report's `loyalty` section alone (`patron loyalty liability`, `GET
        /analytics/loyalty`): the same walk and batch reads, nothing else computed. Refused
        (409 `loyalty_off`) while the workspace's points are off."""
        end = end or now_utc()
        start = start or _year_before(end)
        if start >= end:
            raise BadRequest("'from' must be before 'to'", {"field": "from"})
        settings = self.workspaces.settings(workspace_id) if self.workspaces is not None else None
        if settings is None or not settings.loyalty.enabled or self.loyalty is None:
            raise LoyaltyOff("loyalty is off in this workspace", {"reason": "loyalty_off"})
        liability = Liability(end.date(), start, end, lot_days(settings.loyalty))
        profiles = self._with_moved(workspace_id, self.walk.customers_of(workspace_id))
        for _ in self._with_books(workspace_id, profiles, self.loyalty, liability):
            pass
        return liability.section(settings.loyalty, settings.currency, self.loyalty.tally(workspace_id))

    @staticmethod
    def _with_books(
        workspace_id: str, profiles: Iterable[CustomerProfile], books: LoyaltyBooks, into: Liability
    ) -> Iterable[CustomerProfile]:
        """The profiles as they come, each page of them (PAGE) adding its customers' balances
        and tiers to `into` (docs/analytics.md#loyalty)."""
        found = iter(profiles)
        while page := list(itertools.islice(found, PAGE)):
            ids = [p.customer_id for p in page]
            into.add_page(page, books.balances_of(workspace_id, ids), books.tiers_of(workspace_id, ids))
            yield from page

    def unconverted(self, workspace_id: str) -> dict[str, Unconverted]:
        """Orders without a rate, per currency: one walk of the workspace, as a report."""
        found: dict[str, Unconverted] = {}
        for profile in self._with_moved(workspace_id, self.walk.customers_of(workspace_id)):
            unconverted_orders(profile.orders.values(), found)
        return found

    def _with_moved(
        self, workspace_id: str, profiles: Iterable[CustomerProfile]
    ) -> Iterable[CustomerProfile]:
        """Profiles with all their order entries: a customer's older entries live in their
        own items (one query of the customer's partition, only for those who have some)."""
        for profile in profiles:
            if profile.moved is not None and self.entries is not None:
                profile = replace(profile, orders=all_entries(self.entries, workspace_id, profile))
            yield profile


def _adding(profiles: Iterable[CustomerProfile], standing: Standing) -> Iterable[CustomerProfile]:
    """The profiles as they come, each added to `standing` (the RFM grid, the funnel)."""
    for profile in profiles:
        standing.add(profile)
        yield profile


def _year_before(at: datetime) -> datetime:
    """The same instant a year earlier; 365 days earlier from 29 February (or year 1)."""
    try:
        return at.replace(year=at.year - 1)
    except ValueError:
        return timemath.shift(at, -timedelta(days=365))
