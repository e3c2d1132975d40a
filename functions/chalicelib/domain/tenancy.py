"""Workspaces (one brand each), their API keys and storefront sources."""

from __future__ import annotations

import hashlib
import re
import secrets
from decimal import Decimal
from typing import Any

import phonenumbers
from pydantic import BaseModel

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.ingest import shop_key
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.ports import SecretWriter, WorkspaceAdmin
from chalicelib.domain.store_admin import (
    SHOPIFY_API_VERSION,
    AdminCredentials,
    ShopifyCredentials,
    WooCommerceCredentials,
)
from chalicelib.domain.timezones import is_zone

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_META_KEY = re.compile(r"^[^\s,@]{1,120}(@[^\s,@]{1,120})?$")
_API_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")  # Shopify releases a version each quarter
_ENDPOINT = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_CREDENTIAL = re.compile(r"^\S{8,512}$")
MAX_CONSENT_KEYS = 10


def consent_keys(value: str | None) -> tuple[str, ...] | None:
    """A `--email-consent-keys`/`--sms-consent-keys` value: comma-separated meta keys, each
    optionally `KEY@TIME_KEY`; "default" (or nothing) for the documented defaults (None),
    "none" for no key at all."""
    if value is None or value.strip().lower() == "default":
        return None
    if value.strip().lower() == "none":
        return ()
    keys = tuple(dict.fromkeys(k.strip() for k in value.split(",") if k.strip()))
    if not keys or len(keys) > MAX_CONSENT_KEYS or not all(_META_KEY.match(k) for k in keys):
        raise BadRequest(
            f"consent keys: 1-{MAX_CONSENT_KEYS} comma-separated meta keys (KEY or KEY@TIME_KEY), "
            "'none' or 'default'"
        )
    return keys


class NewWorkspace(BaseModel):
    workspace_id: str
    api_key: str
    name: str
    currency: str | None  # None: the first order processed sets it


class SourceInfo(BaseModel):
    workspace_id: str
    source_id: str
    platform: str
    shop_domain: str
    webhook_path: str


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class TenancyService:
    def __init__(self, store: WorkspaceAdmin, secrets_store: SecretWriter, stage: str) -> None:
        self.store = store
        self.secrets = secrets_store
        self.stage = stage

    def create_workspace(self, name: str, currency: str | None = "USD") -> NewWorkspace:
        """A new workspace. With `currency` None its reporting currency is pending: the
        first order processed sets it (WorkspaceStore.adopt_currency, a conditional write)."""
        name = name.strip()
        if not name or len(name) > 120:
            raise BadRequest("workspace name must be 1-120 characters")
        if currency is not None:
            currency = currency.upper()
            if not _CURRENCY.match(currency):
                raise BadRequest("currency must be an ISO 4217 code such as USD")
        workspace_id = "ws_" + secrets.token_hex(8)
        api_key = "pk_" + secrets.token_urlsafe(32)
        # Only the hash is stored; the key is shown once.
        self.store.create_workspace(workspace_id, name, currency, hash_api_key(api_key), api_key[-4:])
        return NewWorkspace(workspace_id=workspace_id, api_key=api_key, name=name, currency=currency)

    def add_source(
        self,
        workspace_id: str,
        platform: str,
        shop_domain: str,
        secret: str,
        default_region: str | None = None,
        timezone: str | None = None,
        birthday_meta_key: str | None = None,
        email_consent_keys: str | None = None,
        sms_consent_keys: str | None = None,
    ) -> SourceInfo:
        """A storefront. `timezone` (a Shopify shop's `iana_timezone`) becomes the workspace's
        default zone unless it has one; `birthday_meta_key` names a WooCommerce meta key."""
        if self.store.workspace(workspace_id) is None:
            raise NotFound(f"workspace {workspace_id} not found")
        try:
            plat = Platform(platform)
        except ValueError as exc:
            raise BadRequest("platform must be shopify, woocommerce or generic") from exc
        key = shop_key(shop_domain)
        if not key:
            raise BadRequest("shop domain is empty")
        if len(secret) < 16:
            raise BadRequest("webhook secret must be at least 16 characters")
        region = default_region.strip().upper() if default_region else None
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            raise BadRequest("default region must be an ISO 3166 alpha-2 country code, e.g. FR")
        if timezone is not None and not is_zone(timezone):
            raise BadRequest("timezone must be an IANA zone, e.g. Europe/Madrid")
        if birthday_meta_key is not None and not 0 < len(birthday_meta_key) <= 255:
            raise BadRequest("birthday meta key must be 1-255 characters")
        email_keys, sms_keys = consent_keys(email_consent_keys), consent_keys(sms_consent_keys)
        source_id = "src_" + secrets.token_hex(4)
        ref = self.secrets.create(
            f"patron-{self.stage}/{workspace_id}/{source_id}",  # under the stack name: IAM scope
            secret,
            {"patron:workspace": workspace_id, "patron:source": source_id},
        )
        self.store.add_source(
            Source(
                workspace_id=workspace_id,
                source_id=source_id,
                platform=plat,
                shop_domain=key,
                secret_ref=ref,
                default_region=region,
                timezone=timezone,
                birthday_meta_key=birthday_meta_key,
                email_consent_keys=email_keys,
                sms_consent_keys=sms_keys,
            )
        )
        if timezone is not None:
            self.store.adopt_default_zone(workspace_id, timezone)
        return SourceInfo(
            workspace_id=workspace_id,
            source_id=source_id,
            platform=plat.value,
            shop_domain=key,
            webhook_path=f"/webhooks/{plat.value}",
        )

    def set_consent_keys(
        self, source: Source, email_consent_keys: str | None, sms_consent_keys: str | None
    ) -> dict[str, Any]:
        """Which WooCommerce meta keys this source reads as marketing consent (docs/webhooks.md)."""
        email_keys, sms_keys = consent_keys(email_consent_keys), consent_keys(sms_consent_keys)
        self.store.set_consent_keys(source, email_keys, sms_keys)
        return {
            "source_id": source.source_id,
            "email_consent_keys": "default" if email_keys is None else list(email_keys),
            "sms_consent_keys": "default" if sms_keys is None else list(sms_keys),
        }

    def connect_source(
        self,
        source: Source,
        *,
        access_token: str | None = None,
        api_version: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        endpoint: str | None = None,
    ) -> dict[str, Any]:
        """Give a source its store's Admin API credentials (Secrets Manager, one secret per
        source, overwritten on reconnecting); the source items keep its ref, the pinned API
        version and the endpoint override. What it returns names no credential."""
        credentials = admin_credentials(
            source.platform, access_token, api_version, consumer_key, consumer_secret
        )
        if endpoint is not None and not _ENDPOINT.match(endpoint):
            raise BadRequest("endpoint must be an http(s) URL such as https://shop.example")
        ref = self.secrets.save_admin_credentials(
            f"patron-{self.stage}/{source.workspace_id}/{source.source_id}/admin",  # IAM scope
            credentials,
            {"patron:workspace": source.workspace_id, "patron:source": source.source_id},
            source.admin_ref,
        )
        version = credentials.api_version if isinstance(credentials, ShopifyCredentials) else None
        connected = source.model_copy(
            update={"admin_ref": ref, "admin_api_version": version, "admin_endpoint": endpoint}
        )
        self.store.set_admin_api(connected)
        return admin_api_shown(connected)

    def rotate_secret(self, source: Source, new_secret: str) -> None:
        """Start a rotation: both the old and the new secret verify until it is finished."""
        if len(new_secret) < 16:
            raise BadRequest("webhook secret must be at least 16 characters")
        self.secrets.rotate(source.secret_ref, new_secret)

    def finish_rotation(self, source: Source) -> None:
        self.secrets.finish_rotation(source.secret_ref)

    def set_rate(self, workspace_id: str, currency: str, rate: str) -> None:
        currency = currency.upper()
        if not _CURRENCY.match(currency):
            raise BadRequest("currency must be an ISO 4217 code")
        try:
            value = Decimal(rate)
        except ArithmeticError as exc:
            raise BadRequest("rate must be a decimal number") from exc
        if not value.is_finite() or value <= 0:
            raise BadRequest("rate must be positive")
        self.store.set_rate(workspace_id, currency, value)


def admin_credentials(
    platform: Platform,
    access_token: str | None,
    api_version: str | None,
    consumer_key: str | None,
    consumer_secret: str | None,
) -> AdminCredentials:
    """The credentials a platform's Admin API takes, checked (messages name no value)."""
    if platform is Platform.SHOPIFY:
        if consumer_key or consumer_secret:
            raise BadRequest("a Shopify source takes --access-token, not a consumer key")
        if not access_token or not _CREDENTIAL.match(access_token):
            raise BadRequest("give the custom app's Admin API access token (--access-token)")
        version = api_version or SHOPIFY_API_VERSION
        if not _API_VERSION.match(version):
            raise BadRequest("api version must be a release, e.g. 2025-07")
        return ShopifyCredentials(access_token=access_token, api_version=version)
    if platform is Platform.WOOCOMMERCE:
        if access_token or api_version:
            raise BadRequest("a WooCommerce source takes --consumer-key and --consumer-secret")
        if not (consumer_key and consumer_key.startswith("ck_") and _CREDENTIAL.match(consumer_key)):
            raise BadRequest("give the consumer key (--consumer-key ck_...)")
        if not (consumer_secret and consumer_secret.startswith("cs_") and _CREDENTIAL.match(consumer_secret)):
            raise BadRequest("give the consumer secret (--consumer-secret cs_...)")
        return WooCommerceCredentials(consumer_key=consumer_key, consumer_secret=consumer_secret)
    raise BadRequest("a generic source has no Admin API to connect")


def admin_api_shown(source: Source) -> dict[str, Any]:
    """Whether a source is connected to its store's Admin API, never a credential."""
    shown: dict[str, Any] = {"connected": source.admin_ref is not None}
    if source.admin_api_version:
        shown["api_version"] = source.admin_api_version
    if source.admin_endpoint:
        shown["endpoint"] = source.admin_endpoint
    return {"source_id": source.source_id, "platform": source.platform.value, "admin_api": shown}
