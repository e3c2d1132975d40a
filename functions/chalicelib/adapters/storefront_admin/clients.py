"""The Admin API client of a connected source: its platform's, with its stored credentials,
pointed at its endpoint override when it has one (tests, the local stack) or at its shop."""

from __future__ import annotations

from chalicelib.adapters.storefront_admin.http import RetryPolicy, Transport, urllib_transport
from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.domain.models import Source
from chalicelib.domain.ports import AdminCredentialStore
from chalicelib.domain.store_admin import AdminApiError, ShopifyCredentials, WooCommerceCredentials


def admin_client(
    source: Source,
    credentials: AdminCredentialStore,
    policy: RetryPolicy | None = None,
    transport: Transport = urllib_transport,
) -> ShopifyAdmin | WooCommerceAdmin:
    if source.admin_ref is None:
        raise AdminApiError(f"source {source.source_id} is not connected: run `patron source connect`")
    held = credentials.admin_credentials(source.admin_ref, source.admin_api_version)
    if isinstance(held, ShopifyCredentials):
        return ShopifyAdmin(source.shop_domain, held, source.admin_endpoint, policy, transport)
    if isinstance(held, WooCommerceCredentials):
        return WooCommerceAdmin(source.shop_domain, held, source.admin_endpoint, policy, transport)
    raise AdminApiError(f"source {source.source_id} holds no Admin API credentials")  # pragma: no cover
