"""Webhook secrets in AWS Secrets Manager.

A secret's value is JSON: {"current": "...", "previous": "..."}; during a
rotation both verify. Values are cached for a few minutes in a warm Lambda and
never logged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.cache import TtlCache


class SecretsManagerStore:
    def __init__(self, client: Any, cache_seconds: float = 300) -> None:
        self._client = client
        self._cache: TtlCache[tuple[str, ...]] = TtlCache(cache_seconds)

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
