"""Money is rounded by each currency's minor units (ISO 4217), half up, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.customers import ProfileView
from chalicelib.domain.money import minor_units, round_money
from chalicelib.domain.order_entries import Summary, aggregates
from chalicelib.domain.profiles import WorkspaceSettings
from chalicelib.domain.workspace_analytics import build_report


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("EUR", 2), ("USD", 2), ("jpy", 0), ("XAU", 2)],
)
def test_minor_units_come_from_iso_4217(currency, digits):
    # Given / When / Then: the ISO 4217 list's minor units (none, as for gold: 2)
    assert minor_units(currency) == digits


def test_an_unknown_or_missing_currency_rounds_to_cents():
    # Given a code ISO 4217 does not list, or none / When / Then
    assert minor_units("ZZZ") == 2
    assert minor_units(None) == 2


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("1234.5", "JPY", "1235"),  # half up, not the bank's half even (1234)
        ("1234.49", "JPY", "1234"),
        ("1.23456", "KWD", "1.235"),
        ("2.0005", "KWD", "2.001"),
        ("10.005", "EUR", "10.01"),
        ("10.004", "EUR", "10.00"),
    ],
)
def test_round_money_rounds_half_up_to_the_minor_units(amount, currency, rounded):
    # Given an amount / When it is rounded in its currency
    result = round_money(Decimal(amount), currency)
    # Then it has the currency's digits, and the exact value
    assert str(result) == rounded


def test_conversion_into_a_yen_workspace_gives_whole_yen():
    # Given a JPY workspace with a dollar rate
    settings = WorkspaceSettings("ws_jp", "JPY", "salt", rates={"USD": Decimal("150.123")})
    # When a 10.00 USD order is converted
    converted = settings.convert(Decimal("10.00"), "USD")
    # Then it is whole yen (1501.23 rounds to 1501)
    assert converted is not None
    assert str(converted) == "1501"


def test_conversion_into_a_dinar_workspace_keeps_three_places():
    # Given a KWD workspace with a euro rate
    settings = WorkspaceSettings("ws_kw", "KWD", "salt", rates={"EUR": Decimal("0.33333")})
    # When 10 EUR are converted
    converted = settings.convert(Decimal("10"), "EUR")
    # Then the amount has fils (3 places)
    assert str(converted) == "3.333"


def test_a_yen_profile_shows_whole_yen_and_its_average_order_value():
    # Given a JPY profile's summary: three orders adding up to 10,000 yen
    summary = Summary(counted=3, converted=3, spent=Decimal(10000))
    figures = aggregates(summary, "JPY")
    # When it is shown
    view = ProfileView.of(CustomerProfile("ws_1", "c1", figures=figures))
    # Then the amounts have no decimals: 3333.33... is 3333 yen
    assert view.total_spent == "10000"
    assert view.average_order_value == "3333"
    assert view.currency == "JPY"


def test_the_report_rounds_in_the_workspace_currency():
    # Given a JPY workspace's profile with two orders of 1000 and 1001 yen
    at = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    item = {
        "m": True,
        "o": {
            "s.1": {"v": 1, "t": at, "a": Decimal(1000), "r": Decimal(0), "p": []},
            "s.2": {"v": 1, "t": at + 60, "a": Decimal(1001), "r": Decimal(0), "p": []},
        },
    }
    # When the report is built in yen
    kpis = build_report(
        [profile_of({"ws": "ws_1", "cid": "c_1", **item})],
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC),
        currency="JPY",
    )["kpis"]
    # Then revenue is whole yen and the average 1000.5 rounds half up to 1001
    assert kpis["revenue"] == "2001"
    assert kpis["average_order_value"] == "1001"


def test_messaging_revenue_is_shown_in_the_workspace_currency_digits():
    # Given a campaign's attributed revenue in a JPY workspace
    from chalicelib.domain.messaging.performance import ScopeStats

    # When its statistics are shown
    row = ScopeStats.of("camp#spring", {"sent": 1, "revenue": Decimal("1234.5")}, "JPY")
    # Then the revenue is whole yen
    assert row.revenue == "1235"
