"""Clients of the stores' Admin APIs: Shopify's GraphQL Admin API (shopify.py) and
WooCommerce's REST API (woocommerce.py), over one small HTTP layer (http.py) that retries
429 and 5xx with backoff and waits through an injected sleep (docs/storefront-admin.md)."""
