"""Products as the Admin APIs list them, as the catalogue's `Product` (the import's parsers;
docs/storefront-admin.md#catalogue-import): a Shopify GraphQL `products` node (the fields of
adapters/storefront_admin/catalogue.py's query) and a WooCommerce REST `/wc/v3/products` item,
which has the product webhook's shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.models import Delivery, Product, ProductVariant
from chalicelib.parsers.dates import AwareStamp, window
from chalicelib.parsers.products import _M, Price, parse_woo_product


def _numeric_id(gid: str) -> str:
    """gid://shopify/Product/632910392 -> 632910392 (the id its webhooks send)."""
    tail = gid.rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ValueError(f"not a Shopify global id: {gid[:60]}")
    return tail


class _Image(_M):
    url: str | None = None


class _Preview(_M):
    image: _Image | None = None


class _Media(_M):
    preview: _Preview | None = None


class _Money(_M):
    amount: Price = None
    currencyCode: str | None = None  # GraphQL's name


class _Range(_M):
    minVariantPrice: _Money | None = None


class _Variant(_M):
    id: str
    sku: str | None = None
    price: Price = None
    compareAtPrice: Price = None
    inventoryQuantity: int | None = None


class _Variants(_M):
    nodes: list[_Variant] = []


class ShopifyNode(_M):
    id: str
    title: str
    handle: str | None = None
    vendor: str | None = None
    productType: str | None = None
    status: str | None = None  # ACTIVE, ARCHIVED, DRAFT
    tags: list[str] = []
    updatedAt: AwareStamp
    onlineStoreUrl: str | None = None  # null while unpublished
    featuredMedia: _Media | None = None
    priceRangeV2: _Range | None = None
    variants: _Variants = _Variants()


def shopify_node(node: Mapping[str, Any], delivery: Delivery) -> Product:
    p = ShopifyNode.model_validate(node, context=window(delivery))
    priced = [v for v in p.variants.nodes if v.price is not None]
    first = min(priced, key=lambda v: v.price or 0) if priced else None
    page = (
        f"https://{delivery.shop_domain}/products/{p.handle}" if p.handle and delivery.shop_domain else None
    )
    media = p.featuredMedia
    image = media.preview.image.url if media and media.preview and media.preview.image else None
    low = p.priceRangeV2.minVariantPrice if p.priceRangeV2 else None
    compare = first.compareAtPrice if first else None
    return Product(
        product_id=_numeric_id(p.id),
        title=p.title[:200],
        handle=p.handle,
        url=p.onlineStoreUrl or page,
        image=image,
        price=first.price if first else None,
        compare_at_price=compare if compare else None,
        currency=low.currencyCode if low else None,
        vendor=p.vendor or None,
        product_type=p.productType or None,
        tags=tuple(t.strip() for t in p.tags if t.strip()),
        status=p.status.lower() if p.status else None,
        variants=tuple(
            ProductVariant(
                variant_id=_numeric_id(v.id), sku=v.sku or None, price=v.price, inventory=v.inventoryQuantity
            )
            for v in p.variants.nodes
        ),
        updated_at=p.updatedAt,
    )


def woo_item(item: Mapping[str, Any], delivery: Delivery) -> Product:
    """A `/wc/v3/products` item: the product webhook's body."""
    product = parse_woo_product(json.dumps(dict(item)).encode(), delivery)
    if not isinstance(product, Product):  # pragma: no cover - the parser makes only products
        raise ValueError("not a product")
    return product
