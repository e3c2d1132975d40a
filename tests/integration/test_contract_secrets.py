"""SecretStore contract: SecretsManagerStore on moto and the fake (tests/fakes_ports.py) hold
a source's webhook secret, and both secrets during a rotation."""

from __future__ import annotations

from chalicelib.adapters.secrets import SecretsManagerStore
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_ports import FakeSecretStore

__all__ = ["moto_stage"]


def _secrets_manager(stage: MotoStage) -> SecretsManagerStore:
    return SecretsManagerStore(stage.client("secretsmanager"))


secrets = port_fixture(FakeSecretStore, _secrets_manager)


def test_a_new_secret_is_the_only_one_that_verifies(secrets):
    # When a source's secret is stored
    ref = secrets.create("patron/ws_a/src_1", "first-secret-0123456789", {"workspace": "ws_a"})
    # Then webhooks verify against it alone
    assert tuple(secrets.webhook_secrets(ref)) == ("first-secret-0123456789",)


def test_during_a_rotation_both_verify_and_after_it_only_the_new_one(secrets):
    # Given a source's secret, read once (a warm Lambda caches it)
    ref = secrets.create("patron/ws_a/src_1", "first-secret-0123456789", {})
    secrets.webhook_secrets(ref)
    # When it is rotated
    secrets.rotate(ref, "second-secret-0123456789")
    during = tuple(secrets.webhook_secrets(ref))
    # and the rotation is finished
    secrets.finish_rotation(ref)
    after = tuple(secrets.webhook_secrets(ref))
    # Then the new one comes first and the old one still verifies during it; then only the new
    assert during == ("second-secret-0123456789", "first-secret-0123456789")
    assert after == ("second-secret-0123456789",)


def test_each_source_has_its_own_secret(secrets):
    # When two sources store their secrets
    a = secrets.create("patron/ws_a/src_1", "secret-of-a-0123456789", {})
    b = secrets.create("patron/ws_a/src_2", "secret-of-b-0123456789", {})
    # Then each verifies with its own only
    assert a != b
    assert tuple(secrets.webhook_secrets(a)) == ("secret-of-a-0123456789",)
    assert tuple(secrets.webhook_secrets(b)) == ("secret-of-b-0123456789",)


def test_admin_api_credentials_are_kept_apart_and_replaced_on_reconnecting(secrets):
    # Given a source's webhook secret and its Shopify Admin API token
    from chalicelib.domain.store_admin import ShopifyCredentials, WooCommerceCredentials

    webhook = secrets.create("patron/ws_a/src_1", "first-secret-0123456789", {})
    ref = secrets.save_admin_credentials(
        "patron/ws_a/src_1/admin", ShopifyCredentials(access_token="shpat_first_token"), {}, None
    )
    first = secrets.admin_credentials(ref, "2025-07")
    # When the source is connected again with a new token (the same secret takes it)
    again = secrets.save_admin_credentials(
        "patron/ws_a/src_1/admin", ShopifyCredentials(access_token="shpat_second_token"), {}, ref
    )
    # Then the token and the pinned version read back, the new token replaced the old
    assert first == ShopifyCredentials(access_token="shpat_first_token", api_version="2025-07")
    assert again == ref
    assert secrets.admin_credentials(ref, "2025-10") == ShopifyCredentials(
        access_token="shpat_second_token", api_version="2025-10"
    )
    # and the webhook secret is untouched; WooCommerce credentials keep both parts
    assert tuple(secrets.webhook_secrets(webhook)) == ("first-secret-0123456789",)
    woo = secrets.save_admin_credentials(
        "patron/ws_a/src_2/admin",
        WooCommerceCredentials(consumer_key="ck_1", consumer_secret="cs_1"),
        {},
        None,
    )
    assert secrets.admin_credentials(woo, None) == WooCommerceCredentials(
        consumer_key="ck_1", consumer_secret="cs_1"
    )
