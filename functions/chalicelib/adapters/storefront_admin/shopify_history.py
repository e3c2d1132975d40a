"""A Shopify store's history through its Admin API (`patron import pull`)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.domain.history_import import Reader
from chalicelib.domain.store_admin import AdminApiError


def history_reader(client: ShopifyAdmin, what: str, since: datetime | None = None) -> Reader:
    """The reader of the store's `what` ("customers" or "orders"), created since `since`."""
    raise AdminApiError("pulling this store's history through its Admin API is not supported yet")
