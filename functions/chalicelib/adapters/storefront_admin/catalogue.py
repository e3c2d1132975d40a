"""A connected source's catalogue as its Admin API lists it, record by record, for
`patron import products` (parsers/admin_products.py makes each a Product).

Shopify: the GraphQL `products` connection, a page of PAGE products at a time through
`ShopifyAdmin.nodes` (cursor pages, its throttling rules), each with its first VARIANTS
variants; the query's requested cost (about PAGE * (VARIANTS + 2)) stays well under the
bucket's 1000 points. WooCommerce: `GET /wc/v3/products`, every X-WP-TotalPages page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin

PAGE = 25
VARIANTS = 25
PRODUCTS_QUERY = (
    "query CatalogueImport($after: String) {"
    f" products(first: {PAGE}, after: $after, sortKey: ID) {{"
    " nodes { id title handle vendor productType status tags updatedAt onlineStoreUrl"
    " featuredMedia { preview { image { url } } }"
    " priceRangeV2 { minVariantPrice { amount currencyCode } }"
    f" variants(first: {VARIANTS}) {{ nodes {{ id sku price compareAtPrice inventoryQuantity }} }} }}"
    " pageInfo { hasNextPage endCursor } } }"
)


def product_records(client: ShopifyAdmin | WooCommerceAdmin) -> Iterator[dict[str, Any]]:
    if isinstance(client, ShopifyAdmin):
        yield from client.nodes(PRODUCTS_QUERY, ("products",))
    else:
        yield from client.items("products")
