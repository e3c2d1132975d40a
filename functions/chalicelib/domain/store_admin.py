"""A store's Admin API as the domain sees it: the credentials a source holds, and the
errors the clients raise (each with a one-line message that names no credential)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.domain.models import Frozen

SHOPIFY_API_VERSION = "2025-07"  # the Admin GraphQL API version a connection pins by default


class ShopifyCredentials(Frozen):
    access_token: str  # a custom app's Admin API access token
    api_version: str = SHOPIFY_API_VERSION


class WooCommerceCredentials(Frozen):
    consumer_key: str
    consumer_secret: str


AdminCredentials = ShopifyCredentials | WooCommerceCredentials


class AdminApiError(Exception):
    """The store's Admin API did not do what was asked."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AdminAuthError(AdminApiError):
    """The store refused the credentials (401/403): reconnect the source."""


class AdminUnavailable(AdminApiError):
    """Still throttled, failing (429/5xx) or unreachable after every retry."""


class AdminQueryError(AdminApiError):
    """Shopify answered a GraphQL query with top-level `errors`."""

    def __init__(self, message: str, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__(message, 200)
        self.errors = list(errors)


class AdminUserErrors(AdminApiError):
    """A Shopify mutation's `userErrors`: the store refused the input."""

    def __init__(self, message: str, user_errors: Sequence[dict[str, Any]]) -> None:
        super().__init__(message, 200)
        self.user_errors = list(user_errors)


class WooCommerceApiError(AdminApiError):
    """WooCommerce's error JSON: {"code", "message", "data": {"status"}}."""

    def __init__(self, message: str, code: str, status: int | None) -> None:
        super().__init__(message, status)
        self.code = code
