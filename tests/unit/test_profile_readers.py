"""The profile readers outside messaging and privacy (segment facts, scores, predictions,
memberships, the backfill, the nightly job, the report, the audience export, the customers
API) read CustomerProfile: no stored attribute or key in their code, and the reads they share
on CustomerProfile count the moved entries too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from chalicelib.adapters import profile_items
from chalicelib.domain import profile_facts, segment_eval, segments
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry, ProfileFigures
from chalicelib.domain.customers import ProfileView
from chalicelib.domain.order_entries import Summary
from chalicelib.domain.workspace_analytics import AnalyticsService, build_report

DOMAIN = Path(__file__).resolve().parents[2] / "functions" / "chalicelib" / "domain"
READERS = [
    "profile_facts.py",
    "scoring.py",
    "predict.py",
    "segments.py",
    "segment_service.py",
    "backfill.py",
    "membership.py",
    "nightly.py",
    "workspace_analytics.py",
    "audience.py",
    "customers.py",
    "walk.py",
    "profile_images.py",
]
# every attribute a stored profile or order entry holds (adapters/profile_items.py)
STORED = sorted(profile_items._KNOWN | set(profile_items._ENTRY_KEYS), key=len, reverse=True)
READ = re.compile(r'\.get\("(?:{0})"|(?<!Literal)\["(?:{0})"\]|"W#'.format("|".join(map(re.escape, STORED))))

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T1, T2, T3 = 1_764_000_000, 1_764_100_000, 1_764_200_000  # late November 2025


def a_profile() -> CustomerProfile:
    """Two recent entries (one cancelled), and the summary of two moved out (one cancelled)."""
    recent = {
        "shop_a.1": OrderEntry(
            1, T2, amount=Decimal(30), refunded=Decimal(5), products=["tea"], categories=["food"]
        ),
        "shop_a.2": OrderEntry(3, T3, counted=False, channel="app", products=["kettle"]),
    }
    moved = Summary(entries=2, counted=1, converted=1, spent=Decimal(20), channels={"pos"}, products={"mug"})
    moved.categories, moved.sources, moved.first, moved.last, moved.timed = {"kitchen"}, {"shop_b"}, T1, T1, 1
    figures = ProfileFigures(orders=2, net=Decimal(45), last_order_at="2025-11-26T19:33:20.000000Z")
    return CustomerProfile("ws_1", "c_1", orders=recent, moved=moved, figures=figures)


def test_the_profile_readers_read_no_stored_attribute_or_key():
    # Given the domain modules that read profiles outside messaging and privacy
    # When their code is read
    found = [(name, m) for name in READERS for m in READ.findall((DOMAIN / name).read_text())]
    # Then none reads a stored item's attribute or builds a key: they read CustomerProfile
    assert found == []


def test_what_a_profile_bought_and_where_counts_its_moved_entries_and_not_its_cancelled_ones():
    # Given a profile with recent and moved order entries, some cancelled
    profile = a_profile()
    # When its orders are read through CustomerProfile
    # Then products, categories and channels are those of the orders that count, moved ones included
    assert profile.products_bought() == ["mug", "tea"]
    assert profile.categories_bought() == ["food", "kitchen"]
    assert profile.order_channels() == {"web", "pos"}
    # And sources and entries held are those of every entry, cancelled ones included
    assert profile.order_sources() == {"shop_a", "shop_b"}
    assert profile.orders_held() == 4


def test_segment_facts_and_the_api_view_read_the_same_orders():
    # Given the same profile
    profile = a_profile()
    # When its segment facts and its API view are built
    facts = profile_facts.profile_facts(profile)
    view = ProfileView.of(profile)
    # Then the segment language sees the moved orders too
    check = lambda text: segment_eval.evaluate(segments.parse(text), facts, NOW).member  # noqa: E731
    assert check("bought_product('mug') AND NOT bought_product('lamp') AND used_channel('pos')")
    assert check("bought_from_source('shop_b') AND orders_count = 2 AND net_spent = 45")
    # And the API view lists the same products and categories
    assert (view.products, view.categories) == (["mug", "tea"], ["food", "kitchen"])


def test_the_report_reads_a_customer_s_moved_entries():
    # Given a customer whose older orders moved to their own items
    profile = a_profile()
    entries = _Moved({"shop_b.7": OrderEntry(1, T1, amount=Decimal(20), channel="pos", products=["mug"])})
    walk = _Walk([profile])
    # When the report covers the period of every order
    start = datetime(2025, 1, 1, tzinfo=UTC)
    report = AnalyticsService(walk, entries=entries).report("ws_1", start, NOW)  # type: ignore[arg-type]
    # Then it counts the moved order with the recent one (the cancelled one aside), read once
    assert (report["kpis"]["orders"], report["kpis"]["revenue"]) == (2, "50.00")
    assert entries.asked == [["c_1"]]
    # And without the moved entries it would not
    assert build_report([profile], start, NOW)["kpis"]["orders"] == 1


class _Walk:
    def __init__(self, profiles: list[CustomerProfile]) -> None:
        self.profiles = profiles

    def customers_of(self, workspace_id: str) -> list[CustomerProfile]:
        return list(self.profiles)


class _Moved:
    def __init__(self, entries: dict[str, OrderEntry]) -> None:
        self.entries = entries
        self.asked: list[list[str]] = []

    def moved_entries(
        self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None
    ) -> dict[str, OrderEntry]:
        self.asked.append(customer_ids)
        return dict(self.entries)
