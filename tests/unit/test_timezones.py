"""Local time that is local: a customer's zone from the address (country and province or
state), through maintained data (zones/subdivisions.json, tzdata's zone.tab)."""

from __future__ import annotations

import importlib.resources
import json
from zoneinfo import ZoneInfo, available_timezones

import pytest

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.messaging.model import Policy
from chalicelib.domain.messaging.service import local_zone
from chalicelib.domain.models import Platform
from chalicelib.domain.timezones import SUBDIVISIONS, subdivision_zones, zone_for_address, zone_for_phone
from tests.conftest import load_event
from tests.unit.test_parsers import parse

MULTI_ZONE = {"US": 51, "CA": 13, "AU": 8, "BR": 27, "MX": 32, "RU": 83, "ID": 34}  # 50 states + DC...


def zone_tab() -> dict[str, set[str]]:
    text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    zones: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            zones.setdefault(country, set()).add(zone)
    return zones


@pytest.mark.parametrize("country", sorted(MULTI_ZONE))
def test_every_subdivision_of_a_multi_zone_country_has_a_zone_of_that_country(country):
    # Given the subdivisions the data knows in a country with several zones
    codes = sorted(code for code in subdivision_zones() if code.startswith(f"{country}-"))
    # Then there are at least as many as the country has states, provinces or regions
    assert len(codes) >= MULTI_ZONE[country]
    known, in_country = available_timezones(), zone_tab()[country]
    for code in codes:
        # When each is resolved as an address's country and province code
        zone = zone_for_address(country, code.split("-", 1)[1])
        # Then its zone exists and lies in that country per zone.tab
        assert zone in known and zone in in_country, code
        assert ZoneInfo(zone).key == zone


def test_every_zone_in_the_data_lies_in_its_country():
    # Given the whole generated table and its aliases
    data = json.loads(SUBDIVISIONS.read_text())
    by_country = zone_tab()
    # Then every zone is in its subdivision's country, and every alias names a known subdivision
    wrong = {code: zone for code, zone in data["zones"].items() if zone not in by_country[code[:2]]}
    assert wrong == {}
    assert set(data["aliases"]) == {"shopify", "woocommerce"}
    for table in data["aliases"].values():
        assert set(table.values()) <= set(data["zones"])
    assert "KDE ki18n" in data["sources"]["ki18n"] and "worldwide" in data["sources"]["worldwide"]


CUSTOMERS = [
    ("Los Angeles", "US", "CA", "America/Los_Angeles"),
    ("Sydney", "AU", "NSW", "Australia/Sydney"),
    ("São Paulo", "BR", "SP", "America/Sao_Paulo"),
    ("Madrid", "ES", "M", "Europe/Madrid"),
    ("Madrid, no province", "ES", None, "Europe/Madrid"),
    ("Lisbon", "PT", "PT-11", "Europe/Lisbon"),
    ("Lisbon, no district", "PT", None, "Europe/Lisbon"),
    ("Las Palmas", "ES", "GC", "Atlantic/Canary"),
]
SHOPIFY_ONLY = [
    ("Guadalajara (Shopify's JAL)", "MX", "JAL", "America/Mexico_City"),
    ("Tijuana (Shopify's BC)", "MX", "BC", "America/Tijuana"),
    ("Cancún (Shopify's Q ROO)", "MX", "Q ROO", "America/Cancun"),
]
WOOCOMMERCE_ONLY = [
    ("Guadalajara (Woo's JA)", "MX", "JA", "America/Mexico_City"),
    ("Toluca (Woo's MX)", "MX", "MX", "America/Mexico_City"),
    ("Hermosillo (Woo's SO)", "MX", "SO", "America/Hermosillo"),
    ("Cancún (Woo's QR)", "MX", "QR", "America/Cancun"),
]


@pytest.mark.parametrize(
    ("who", "country", "province", "zone"),
    CUSTOMERS + SHOPIFY_ONLY,
    ids=[c[0] for c in CUSTOMERS + SHOPIFY_ONLY],
)
def test_a_shopify_customer_gets_the_zone_of_their_address(who, country, province, zone):
    # Given a Shopify order shipped to the address
    body = load_event("shopify/orders_create.json")
    for address in ("shipping_address", "billing_address"):
        body[address].update(country_code=country, province_code=province)
    # When it is parsed
    order = parse(Platform.SHOPIFY, "orders/create", json.dumps(body).encode())
    # Then the customer's zone is the address's
    assert order.person.timezone == zone


@pytest.mark.parametrize(
    ("who", "country", "province", "zone"),
    CUSTOMERS + WOOCOMMERCE_ONLY,
    ids=[c[0] for c in CUSTOMERS + WOOCOMMERCE_ONLY],
)
def test_a_woocommerce_customer_gets_the_zone_of_their_billing_address(who, country, province, zone):
    # Given a WooCommerce customer billed at the address (Woo's `state`)
    body = load_event("woocommerce/customer_created.json")
    body["billing"].update(country=country, state=province or "")
    # When it is parsed
    customer = parse(Platform.WOOCOMMERCE, "customer.created", json.dumps(body).encode())
    # Then the customer's zone is the address's
    assert customer.person.timezone == zone


@pytest.mark.parametrize(("who", "country", "province", "zone"), CUSTOMERS, ids=[c[0] for c in CUSTOMERS])
def test_a_generic_customer_gets_the_zone_of_their_address(who, country, province, zone):
    # Given a generic customer with an address's country and state, and no zone of its own
    body = load_event("generic/customer.json")
    body.update(country=country, state=province)
    # When it is parsed
    customer = parse(Platform.GENERIC, "customer", json.dumps(body).encode())
    # Then the customer's zone is the address's
    assert customer.person.timezone == zone


def test_the_address_comes_before_the_phone_and_the_phone_before_the_default():
    # Given the workspace's default zone, and profiles with an address zone, a phone, or neither
    policy = Policy(default_timezone="Europe/Berlin")
    with_address = CustomerProfile("ws_1", "c_1", timezone="America/Los_Angeles", phone="+34612345678")
    # Then the address wins over a Spanish phone, which wins over the default
    assert local_zone(with_address, policy).key == "America/Los_Angeles"
    assert local_zone(CustomerProfile("ws_1", "c_1", phone="+34612345678"), policy).key == "Europe/Madrid"
    us_phone = CustomerProfile("ws_1", "c_1", phone="+12125550147")
    assert local_zone(us_phone, policy).key == "Europe/Berlin"  # +1: several zones
    assert local_zone(CustomerProfile("ws_1", "c_1"), Policy()).key == "UTC"
    assert zone_for_phone("+351912345678") == "Europe/Lisbon"


def test_a_chinese_customer_without_a_province_keeps_beijing_time():
    # Given a Chinese mobile number and a Chinese address without a province
    # When their zones are resolved
    # Then both are China's one legal time, not the workspace default (Xinjiang's customary
    # zone is in zone.tab too, so "all zones agree" alone would give no zone)
    assert zone_for_phone("+8613812345678") == "Asia/Shanghai"
    assert zone_for_address("CN", None) == "Asia/Shanghai"
    assert zone_for_address("CN", "XJ") == "Asia/Shanghai"
