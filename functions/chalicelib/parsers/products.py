"""Product webhook bodies of both platforms (Shopify `products/*`, WooCommerce `product.*`)
as the catalogue's `Product` (docs/webhooks.md#products). Registered per topic by
parsers/shopify.py and parsers/woocommerce.py."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from chalicelib.domain.models import Delivery, IngestPayload, Product, ProductDeletion, ProductVariant
from chalicelib.parsers.dates import AwareStamp, Stamp, window


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# A price as sent: "19.99", or "" / null when the store has none
Price = Annotated[Decimal | None, BeforeValidator(_blank_none)]


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Deleted(_M):
    id: int


def parse_deleted(body: bytes, delivery: Delivery) -> IngestPayload:
    """`products/delete`, `product.deleted`: both send only `{"id": N}`."""
    d = Deleted.model_validate_json(body, context=window(delivery))
    return ProductDeletion(product_id=str(d.id), at=delivery.triggered_at or delivery.received_at)


# -- Shopify ---------------------------------------------------------------------------
class ShopifyImage(_M):
    src: str | None = None


class ShopifyVariant(_M):
    id: int
    sku: str | None = None
    price: Price = None
    compare_at_price: Price = None
    inventory_quantity: int | None = None


class ShopifyProduct(_M):
    id: int
    title: str
    handle: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    status: str | None = None
    tags: str | None = None  # comma-separated
    updated_at: AwareStamp
    variants: list[ShopifyVariant] = []
    image: ShopifyImage | None = None
    images: list[ShopifyImage] = []


def parse_shopify_product(body: bytes, delivery: Delivery) -> IngestPayload:
    p = ShopifyProduct.model_validate_json(body, context=window(delivery))
    priced = [v for v in p.variants if v.price is not None]
    first = min(priced, key=lambda v: v.price or 0) if priced else None
    image = (p.image.src if p.image else None) or next((i.src for i in p.images if i.src), None)
    url = f"https://{delivery.shop_domain}/products/{p.handle}" if p.handle and delivery.shop_domain else None
    compare = first.compare_at_price if first else None
    return Product(
        product_id=str(p.id),
        title=p.title[:200],
        handle=p.handle,
        url=url,
        image=image,
        price=first.price if first else None,
        compare_at_price=compare if compare else None,  # Shopify sends "0.00" for none
        vendor=p.vendor or None,
        product_type=p.product_type or None,
        tags=tuple(t.strip() for t in (p.tags or "").split(",") if t.strip()),
        status=p.status,
        variants=tuple(
            ProductVariant(
                variant_id=str(v.id), sku=v.sku or None, price=v.price, inventory=v.inventory_quantity
            )
            for v in p.variants
        ),
        updated_at=p.updated_at,
    )


# -- WooCommerce -----------------------------------------------------------------------
class WooTerm(_M):
    name: str


class WooImage(_M):
    src: str | None = None


class WooProduct(_M):
    id: int
    name: str
    slug: str | None = None
    permalink: str | None = None
    type: str | None = None
    status: str | None = None
    sku: str | None = None
    price: Price = None
    regular_price: Price = None
    sale_price: Price = None
    stock_quantity: int | None = None
    date_modified_gmt: Stamp
    categories: list[WooTerm] = []
    tags: list[WooTerm] = []
    images: list[WooImage] = []
    variations: list[int] = []


def parse_woo_product(body: bytes, delivery: Delivery) -> IngestPayload:
    p = WooProduct.model_validate_json(body, context=window(delivery))
    on_sale = p.sale_price is not None and p.regular_price is not None and p.sale_price < p.regular_price
    price = p.price if p.price is not None else p.regular_price
    modified = p.date_modified_gmt
    if p.variations:  # a variable product: the webhook names its variations, not their details
        variants = tuple(ProductVariant(variant_id=str(v)) for v in p.variations)
    else:  # a simple product is its own one variant
        variants = (
            ProductVariant(variant_id=str(p.id), sku=p.sku or None, price=price, inventory=p.stock_quantity),
        )
    return Product(
        product_id=str(p.id),
        title=p.name[:200],
        handle=p.slug,
        url=p.permalink or None,
        image=next((i.src for i in p.images if i.src), None),
        price=price,
        compare_at_price=p.regular_price if on_sale else None,
        product_type=p.type,
        categories=tuple(c.name for c in p.categories),
        tags=tuple(t.name for t in p.tags),
        status=p.status,
        variants=variants,
        updated_at=modified.replace(tzinfo=UTC) if modified.tzinfo is None else modified.astimezone(UTC),
    )
