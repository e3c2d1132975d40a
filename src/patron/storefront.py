"""Signed storefront deliveries, the way Shopify, WooCommerce and generic senders make them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chalicelib.domain.signatures import sign


def shopify_headers(
    shop: str,
    topic: str,
    secret: str,
    body: bytes,
    webhook_id: str | None = None,
    triggered_at: datetime | None = None,
) -> dict[str, str]:
    at = triggered_at or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "X-Shopify-API-Version": "2025-01",
    }


def woocommerce_headers(
    site: str, topic: str, secret: str, body: bytes, delivery_id: str | None = None
) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": site.rstrip("/") + "/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(secret, body),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


def generic_headers(
    source: str, topic: str, secret: str, body: bytes, webhook_id: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Patron-Source": source,
        "X-Patron-Topic": topic,
        "X-Patron-Signature": sign(secret, body),
        "X-Patron-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


def headers_for(
    platform: str, shop: str, topic: str, secret: str, body: bytes, delivery_id: str | None = None
) -> dict[str, str]:
    if platform == "shopify":
        return shopify_headers(shop, topic, secret, body, delivery_id)
    if platform == "woocommerce":
        return woocommerce_headers(shop, topic, secret, body, delivery_id)
    return generic_headers(shop, topic, secret, body, delivery_id)
