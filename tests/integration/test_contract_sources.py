"""SourceDirectory and workspace settings contract: DynamoWorkspaceStore on moto and the fake
(tests/fakes_ports.py) find sources, set a shop's zone and adopt a pending currency alike."""

from __future__ import annotations

import pytest

from chalicelib.adapters.workspace_store import DynamoWorkspaceStore
from chalicelib.domain.models import Platform, Source
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_ports import FakeWorkspaceDirectory

__all__ = ["moto_stage"]


def _dynamo(stage: MotoStage) -> DynamoWorkspaceStore:
    return DynamoWorkspaceStore(stage.crm)


directory = port_fixture(FakeWorkspaceDirectory, _dynamo)

SHOP = Source(
    workspace_id="ws_a",
    source_id="src_1",
    platform=Platform.SHOPIFY,
    shop_domain="maple-birch.myshopify.com",
    secret_ref="arn:secret:1",
    default_region="FR",
    birthday_meta_key="dob",
    email_consent_keys=("ckwc_opt_in",),
)


def test_a_source_is_found_by_platform_and_shop_with_all_its_settings(directory):
    # Given a workspace with a Shopify source
    directory.create_workspace("ws_a", "Brand", "USD", "hash-a")
    directory.add_source(SHOP)
    # When webhooks look sources up by platform and shop
    found = directory.find_source("shopify", "maple-birch.myshopify.com")
    other_platform = directory.find_source("woocommerce", "maple-birch.myshopify.com")
    unknown = directory.find_source("shopify", "nobody.myshopify.com")
    # Then only the registered one is found, with everything it was registered with
    assert found == SHOP
    assert other_platform is None and unknown is None


def test_a_shop_zone_is_set_once_and_becomes_the_workspace_default_zone(directory):
    # Given a source whose shop has no zone yet, in a workspace without a default zone
    directory.create_workspace("ws_a", "Brand", "USD", "hash-a")
    directory.add_source(SHOP)
    # When the shop's zone arrives, again, then a new one
    first = directory.set_shop_zone(SHOP, "Europe/Paris")
    repeat = directory.set_shop_zone(directory.find_source("shopify", SHOP.shop_domain), "Europe/Paris")
    moved = directory.set_shop_zone(SHOP, "America/Toronto")
    # Then the first and the change are written, the repeat is not
    assert (first, repeat, moved) == (True, False, True)
    source = directory.find_source("shopify", SHOP.shop_domain)
    assert source is not None and source.timezone == "America/Toronto"
    # and the workspace took the first zone as its default, and kept it
    settings = directory.settings("ws_a")
    assert settings is not None and settings.default_timezone == "Europe/Paris"


def test_a_shop_zone_does_not_replace_a_workspace_default_zone_set_before(directory):
    # Given a workspace whose default zone another source set
    directory.create_workspace("ws_a", "Brand", "USD", "hash-a")
    directory.add_source(SHOP)
    other = SHOP.model_copy(update={"source_id": "src_2", "shop_domain": "second.myshopify.com"})
    directory.add_source(other)
    directory.set_shop_zone(other, "Asia/Tokyo")
    # When this shop's zone arrives
    changed = directory.set_shop_zone(SHOP, "Europe/Paris")
    # Then the source has it, and the workspace keeps its zone
    assert changed is True
    source = directory.find_source("shopify", SHOP.shop_domain)
    assert source is not None and source.timezone == "Europe/Paris"
    settings = directory.settings("ws_a")
    assert settings is not None and settings.default_timezone == "Asia/Tokyo"


def test_a_pending_currency_is_adopted_once_and_a_set_one_stays(directory):
    # Given a workspace created without a currency and one created with it
    directory.create_workspace("ws_pending", "Pending", None, "hash-p")
    directory.create_workspace("ws_usd", "Dollars", "USD", "hash-u")
    before = directory.settings("ws_pending")
    # When first orders in EUR, then in GBP, are processed
    first = directory.adopt_currency("ws_pending", "EUR")
    second = directory.adopt_currency("ws_pending", "GBP")
    kept = directory.adopt_currency("ws_usd", "EUR")
    # Then the pending one took the first order's currency, and the other kept its own
    assert before is not None and before.currency == ""
    assert (first.currency, second.currency, kept.currency) == ("EUR", "EUR", "USD")
    after = directory.settings("ws_pending")
    assert after is not None and after.currency == "EUR"


def test_adopting_a_currency_for_an_unknown_workspace_fails(directory):
    # When an order of a workspace that does not exist adopts a currency
    # Then it fails, and no workspace appears
    with pytest.raises(LookupError):
        directory.adopt_currency("ws_gone", "EUR")
    assert directory.settings("ws_gone") is None


def test_a_sources_admin_api_connection_is_read_with_it_and_replaced_on_reconnecting(directory):
    # Given a registered source, not connected
    directory.create_workspace("ws_a", "Brand", "USD", "hash-a")
    directory.add_source(SHOP)
    before = directory.find_source("shopify", SHOP.shop_domain)
    # When it is connected with an endpoint override, then again without one
    directory.set_admin_api(
        SHOP.model_copy(
            update={
                "admin_ref": "arn:adm:1",
                "admin_api_version": "2025-07",
                "admin_endpoint": "http://127.0.0.1:9",
            }
        )
    )
    first = directory.find_source("shopify", SHOP.shop_domain)
    directory.set_admin_api(
        SHOP.model_copy(update={"admin_ref": "arn:adm:1", "admin_api_version": "2025-10"})
    )
    second = directory.find_source("shopify", SHOP.shop_domain)
    # Then the source webhooks find carries the connection, and the second replaced the first
    assert before.admin_ref is None
    assert (first.admin_ref, first.admin_api_version, first.admin_endpoint) == (
        "arn:adm:1",
        "2025-07",
        "http://127.0.0.1:9",
    )
    assert (second.admin_ref, second.admin_api_version, second.admin_endpoint) == (
        "arn:adm:1",
        "2025-10",
        None,
    )
    assert second.model_copy(update={"admin_ref": None, "admin_api_version": None}) == SHOP
