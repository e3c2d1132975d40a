"""Webhook secrets and Admin API credentials in AWS Secrets Manager.

A webhook secret's value is JSON: {"current": "...", "previous": "..."}; during a
rotation both verify. Admin API credentials are a secret of their own per source:
{"access_token"} (Shopify) or {"consumer_key", "consumer_secret"} (WooCommerce); the
pinned API version lives on the source item. Values are cached for a few minutes in a
warm Lambda and never logged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.cache import TtlCache
from chalicelib.domain.store_admin import (
    SHOPIFY_API_VERSION,
    AdminCredentials,
    ShopifyCredentials,
    WooCommerceCredentials,
)


class SecretsManagerStore:
    def __init__(self, client: Any, cache_seconds: float = 300) -> None:
        self._client = client
        self._cache: TtlCache[tuple[str, ...]] = TtlCache(cache_seconds)
        self._admin: TtlCache[dict[str, str]] = TtlCache(cache_seconds)

    def webhook_secrets(self, secret_ref: str) -> Sequence[str]:
        return self._cache.get(secret_ref, lambda: self._load(secret_ref))

    def _load(self, secret_ref: str) -> tuple[str, ...]:
        value = json.loads(self._client.get_secret_value(SecretId=secret_ref)["SecretString"])
        return tuple(v for v in (value.get("current"), value.get("previous")) if v)

    def create(self, name: str, secret: str, tags: dict[str, str]) -> str:
        response = self._client.create_secret(
            Name=name,
            SecretString=json.dumps({"current": secret}),
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        return str(response["ARN"])

    def rotate(self, secret_ref: str, new_secret: str) -> None:
        """The new secret becomes current; the current one still verifies until finished."""
        current = self._load(secret_ref)
        value = {"current": new_secret, "previous": current[0] if current else None}
        self._client.put_secret_value(SecretId=secret_ref, SecretString=json.dumps(value))
        self._cache.invalidate(secret_ref)

    def finish_rotation(self, secret_ref: str) -> None:
        """Only the current secret verifies from now on (warm Lambdas: within the cache time)."""
        current = self._load(secret_ref)
        if current:
            self._client.put_secret_value(
                SecretId=secret_ref, SecretString=json.dumps({"current": current[0]})
            )
        self._cache.invalidate(secret_ref)

    def save_admin_credentials(
        self, name: str, credentials: AdminCredentials, tags: dict[str, str], secret_ref: str | None
    ) -> str:
        """The source's Admin API credentials: a new secret `name`, or a new value of
        `secret_ref` when the source is connected already. Returns the secret's ref."""
        value = json.dumps(admin_secret(credentials))
        if secret_ref:
            self._client.put_secret_value(SecretId=secret_ref, SecretString=value)
            self._admin.invalidate(secret_ref)
            return secret_ref
        response = self._client.create_secret(
            Name=name, SecretString=value, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
        return str(response["ARN"])

    def delete_secret(self, secret_ref: str) -> bool:
        """Deleted at once (ForceDeleteWithoutRecovery: no 7-day window in which the store's
        credentials live on); False when it was gone already (a retried erasure)."""
        self._admin.invalidate(secret_ref)
        self._cache.invalidate(secret_ref)
        try:
            self._client.delete_secret(SecretId=secret_ref, ForceDeleteWithoutRecovery=True)
        except self._client.exceptions.ResourceNotFoundException:
            return False
        return True

    def admin_credentials(self, secret_ref: str, api_version: str | None) -> AdminCredentials:
        value = self._admin.get(
            secret_ref,
            lambda: json.loads(self._client.get_secret_value(SecretId=secret_ref)["SecretString"]),
        )
        return credentials_of(value, api_version)


def admin_secret(credentials: AdminCredentials) -> dict[str, str]:
    """The secret's value: the credentials without the API version (the source item has it)."""
    if isinstance(credentials, ShopifyCredentials):
        return {"access_token": credentials.access_token}
    return {"consumer_key": credentials.consumer_key, "consumer_secret": credentials.consumer_secret}


def credentials_of(value: dict[str, str], api_version: str | None) -> AdminCredentials:
    if "access_token" in value:
        return ShopifyCredentials(
            access_token=value["access_token"], api_version=api_version or SHOPIFY_API_VERSION
        )
    return WooCommerceCredentials(
        consumer_key=value["consumer_key"], consumer_secret=value["consumer_secret"]
    )
