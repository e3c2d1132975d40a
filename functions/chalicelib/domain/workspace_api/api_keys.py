"""A workspace's API keys: created (named; the secret shown once, only its hash kept),
listed (never the secret), rotated (a new secret for the same key id, the old one refused at
once) and revoked (refused at once); never the workspace's last live key (docs/workspace-api.md)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import NotFound
from chalicelib.domain.models import now_utc
from chalicelib.domain.workspace_api.model import ApiKey, Refused
from chalicelib.domain.workspace_api.ports import ApiKeyStore

MAX_KEYS = 50  # live keys per workspace
MAX_NAME = 80


def new_secret() -> str:
    return "pk_" + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """What is stored and looked up (`Authorization: Bearer <secret>`); never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key_id() -> str:
    return "key_" + secrets.token_hex(6)


class ApiKeyIn(BaseModel):
    """The body of `POST /workspace/keys`."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=r"\S")


class ApiKeyOut(BaseModel):
    """A key as listed: never its secret nor its hash."""

    key_id: str
    name: str
    last4: str
    status: str  # active | revoked
    created_at: datetime
    created_by: str
    rotated_at: datetime | None = None
    rotated_by: str | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            key_id=key.key_id,
            name=key.name,
            last4=key.tail,
            status="active" if key.live else "revoked",
            created_at=key.created_at,
            created_by=key.created_by,
            rotated_at=key.rotated_at,
            rotated_by=key.rotated_by,
            revoked_at=key.revoked_at,
            revoked_by=key.revoked_by,
        )


class ApiKeyList(BaseModel):
    keys: list[ApiKeyOut]


class ApiKeySecret(BaseModel):
    """A created or rotated key with its secret: the only time the secret is shown."""

    key: ApiKeyOut
    api_key: str


class ApiKeyService:
    def __init__(
        self,
        store: ApiKeyStore,
        clock: Callable[[], datetime] = now_utc,
        secret: Callable[[], str] = new_secret,
    ) -> None:
        self.store = store
        self.clock = clock
        self.secret = secret

    def create(self, workspace_id: str, name: str, by: str) -> ApiKeySecret:
        """A new named key; 409 `too_many_keys` beyond MAX_KEYS live keys."""
        secret = self.secret()
        key = ApiKey(
            workspace_id=workspace_id,
            key_id=new_key_id(),
            name=ApiKeyIn(name=name).name.strip(),
            key_hash=hash_secret(secret),
            tail=secret[-4:],
            created_at=self.clock(),
            created_by=by,
        )
        self.store.add(key, MAX_KEYS)
        return ApiKeySecret(key=ApiKeyOut.of(key), api_key=secret)

    def adopt(self, workspace_id: str, secret: str, name: str, by: str) -> ApiKeyOut:
        """List a key made before keys had ids, from its secret (the migration: then it can be
        rotated and revoked by id, and counts as live); 409 `not_adoptable` for any other."""
        key = ApiKey(
            workspace_id=workspace_id,
            key_id=new_key_id(),
            name=ApiKeyIn(name=name).name.strip(),
            key_hash=hash_secret(secret.strip()),
            tail=secret.strip()[-4:],
            created_at=self.clock(),
            created_by=by,
        )
        self.store.adopt(key, MAX_KEYS)
        return ApiKeyOut.of(key)

    def listing(self, workspace_id: str) -> ApiKeyList:
        """Every key, live and revoked, oldest first."""
        keys = sorted(self.store.keys(workspace_id), key=lambda k: (k.created_at, k.key_id))
        return ApiKeyList(keys=[ApiKeyOut.of(k) for k in keys])

    def rotate(self, workspace_id: str, key_id: str, by: str) -> ApiKeySecret:
        """A new secret for the key; its old secret is refused from this write on."""
        key = self._live(workspace_id, key_id)
        secret = self.secret()
        rotated = replace(
            key, key_hash=hash_secret(secret), tail=secret[-4:], rotated_at=self.clock(), rotated_by=by
        )
        self.store.rotate(key, rotated)
        return ApiKeySecret(key=ApiKeyOut.of(rotated), api_key=secret)

    def revoke(self, workspace_id: str, key_id: str, by: str) -> ApiKeyOut:
        """The key is refused from this write on; 409 `last_key` for the workspace's last live key."""
        key = self._live(workspace_id, key_id)
        revoked = replace(key, revoked_at=self.clock(), revoked_by=by)
        self.store.revoke(key, revoked)
        return ApiKeyOut.of(revoked)

    def actor(self, key_hash: str) -> str:
        """Who a request is, for the audit: `key:<key id>`, or for a key made before keys had
        ids, `key:` and its hash's first 12 hex digits (as the other audits name keys)."""
        key_id = self.store.key_id_for(key_hash)
        return f"key:{key_id}" if key_id else "key:" + key_hash[:12]

    def _live(self, workspace_id: str, key_id: str) -> ApiKey:
        key = self.store.get(workspace_id, key_id)
        if key is None:
            raise NotFound(f"API key {key_id} not found")
        if not key.live:
            raise Refused(f"API key {key_id} is revoked", "revoked")
        return key
