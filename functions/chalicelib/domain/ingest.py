"""Webhook ingest: find the source, verify the signature, parse, store once.

The synchronous path does reads that are cached across invocations (source,
secret) and exactly one conditional write; everything else happens in the
stream processor. (A storefront contact form is the exception: it opens its ticket, and
makes a guest's profile, on the request: docs/service.md.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from chalicelib.domain import signatures
from chalicelib.domain.errors import InvalidPayload, PayloadTooLarge, Unauthorized
from chalicelib.domain.ingest_ports import ContactForms, ReturnReceiver
from chalicelib.domain.models import (
    ContactForm,
    Delivery,
    Platform,
    Product,
    ProductDeletion,
    ReturnUpdate,
    ShopSettings,
    Source,
    now_utc,
)
from chalicelib.domain.ports import (
    CatalogueStore,
    IngestStore,
    Quarantine,
    SecretStore,
    SourceDirectory,
    WriteOutcome,
)
from chalicelib.domain.translation import Parser, PayloadError, run_parser


@dataclass(frozen=True)
class PlatformHeaders:
    source: str
    topic: str
    signature: str
    webhook_id: str
    triggered_at: str | None


HEADERS = {
    Platform.SHOPIFY: PlatformHeaders(
        "x-shopify-shop-domain",
        "x-shopify-topic",
        "x-shopify-hmac-sha256",
        "x-shopify-webhook-id",
        "x-shopify-triggered-at",
    ),
    Platform.WOOCOMMERCE: PlatformHeaders(
        "x-wc-webhook-source",
        "x-wc-webhook-topic",
        "x-wc-webhook-signature",
        "x-wc-webhook-delivery-id",
        None,
    ),
    Platform.GENERIC: PlatformHeaders(
        "x-patron-source",
        "x-patron-topic",
        "x-patron-signature",
        "x-patron-webhook-id",
        "x-patron-triggered-at",
    ),
}

_WOO_PING = re.compile(rb"^webhook_id=\d+$")


def shop_key(value: str) -> str:
    """Normalize a shop identifier: 'https://Shop.Example.org/' -> 'shop.example.org'."""
    key = value.strip().lower()
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key.rstrip("/")


class IngestResult(BaseModel):
    status: str  # stored | duplicate | stale | ping
    topic: str | None = None
    webhook_id: str | None = None


class WebhookRejected(Unauthorized):
    def __init__(self, reason: str, platform: str, shop: str | None) -> None:
        super().__init__("webhook signature could not be verified", {"reason": reason})
        self.reason = reason
        self.platform = platform
        self.shop = shop


def body_hash(body: bytes) -> str:
    return "b" + hashlib.blake2b(body, digest_size=9).hexdigest()


def signature_hash(signature: str) -> str:
    return "s" + signature.strip()[:16]


def _parse_time(value: str | None) -> datetime | None:
    """A header's time in UTC; None when absent, unreadable or off the calendar in UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else None
    except (ValueError, OverflowError):
        return None


class IngestService:
    def __init__(
        self,
        sources: SourceDirectory,
        secrets: SecretStore,
        store: IngestStore,
        quarantine: Quarantine,
        parsers: Mapping[Platform, Mapping[str, Parser]],
        max_body_bytes: int = 256 * 1024,
        people: Callable[[str, bytes], list[str]] | None = None,
        catalogue: CatalogueStore | None = None,
        contact_forms: ContactForms | None = None,
        returns: ReturnReceiver | None = None,
    ) -> None:
        self.sources = sources
        self.secrets = secrets
        self.store = store
        self.quarantine = quarantine
        self.parsers = parsers
        self.max_body_bytes = max_body_bytes
        self.people = people  # (workspace, raw body) -> the customer ids of the emails in it
        self.catalogue = catalogue  # products: kept apart from orders, they reach no profile
        self.contact_forms = contact_forms  # storefront contact forms: tickets (docs/service.md)
        self.returns = returns  # a storefront's returns: the service desk's, not a record

    def receive(self, platform: Platform, headers: Mapping[str, str], body: bytes) -> IngestResult:
        """Handle one delivery. `headers` must have lower-cased names."""
        names = HEADERS[platform]
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(
                f"webhook body over {self.max_body_bytes} bytes", {"limit": self.max_body_bytes}
            )
        if platform is Platform.WOOCOMMERCE and names.topic not in headers and _WOO_PING.match(body.strip()):
            # WooCommerce pings a new webhook unsigned and form-encoded; nothing is stored.
            return IngestResult(status="ping")
        shop = headers.get(names.source)
        if not shop:
            raise WebhookRejected("missing_source_header", platform, None)
        source = self.sources.find_source(platform, shop_key(shop))
        if source is None:
            raise WebhookRejected("unknown_source", platform, shop_key(shop))
        secrets = self.secrets.webhook_secrets(source.secret_ref)
        if not signatures.verify(secrets, body, headers.get(names.signature)):
            reason = "missing_signature" if not headers.get(names.signature) else "bad_signature"
            raise WebhookRejected(reason, platform, source.shop_domain)
        if source.erasing:  # shop/redact: nothing more is taken from it (docs/data-model.md)
            raise WebhookRejected("source_erased", platform, source.shop_domain)
        topic = headers.get(names.topic, "")
        delivery = Delivery(
            workspace_id=source.workspace_id,
            source_id=source.source_id,
            platform=platform,
            topic=topic,
            webhook_id=headers.get(names.webhook_id),
            triggered_at=_parse_time(headers.get(names.triggered_at)) if names.triggered_at else None,
            received_at=now_utc(),
            # The verified signature is a keyed hash of the body: the same body again
            # (a retry, another topic of the same state) carries the same value.
            body_hash=signature_hash(headers[names.signature]),
            default_region=source.default_region,
            birthday_meta_key=source.birthday_meta_key,
            email_consent_keys=source.email_consent_keys,
            sms_consent_keys=source.sms_consent_keys,
            shop_domain=source.shop_domain,
        )
        return self.ingest(source, delivery, headers, body)

    def replay(self, source: Source, headers: Mapping[str, str], body: bytes) -> IngestResult:
        """Ingest a kept body again (quarantine replay); a failure is reported, not re-kept."""
        names = HEADERS[source.platform]
        delivery = Delivery(
            workspace_id=source.workspace_id,
            source_id=source.source_id,
            platform=source.platform,
            topic=headers.get(names.topic, ""),
            webhook_id=headers.get(names.webhook_id),
            triggered_at=_parse_time(headers.get(names.triggered_at)) if names.triggered_at else None,
            received_at=now_utc(),
            body_hash=body_hash(body),
            default_region=source.default_region,
            birthday_meta_key=source.birthday_meta_key,
            email_consent_keys=source.email_consent_keys,
            sms_consent_keys=source.sms_consent_keys,
            shop_domain=source.shop_domain,
        )
        return self.ingest(source, delivery, headers, body, quarantine=False)

    def ingest(
        self,
        source: Source,
        delivery: Delivery,
        headers: Mapping[str, str],
        body: bytes,
        quarantine: bool = True,
    ) -> IngestResult:
        """Parse and store a verified delivery (also the path quarantine replays take)."""
        try:
            payload = run_parser(self.parsers[source.platform], body, delivery)
        except PayloadError as exc:
            qid = None
            if quarantine:
                qid = self.quarantine.put(
                    source.workspace_id,
                    source.source_id,
                    source.platform,
                    _kept_headers(headers),
                    body,
                    exc.errors,
                    self.people(source.workspace_id, body) if self.people is not None else (),
                )
            raise InvalidPayload(str(exc), exc.errors, quarantine_id=qid) from exc
        if isinstance(payload, ShopSettings):  # the store's own settings, not a record
            changed = payload.timezone is not None and self.sources.set_shop_zone(source, payload.timezone)
            return IngestResult(
                status="stored" if changed else "duplicate",
                topic=delivery.topic,
                webhook_id=delivery.webhook_id,
            )
        if isinstance(payload, Product | ProductDeletion):
            return self._catalogue(delivery, payload)
        if isinstance(payload, ContactForm):  # opens a ticket; not a record of the store's
            if self.contact_forms is None:
                raise TypeError("a contact form needs the service desk")
            status = self.contact_forms.contact_form(delivery.workspace_id, delivery.source_id, payload)
            return IngestResult(status=status, topic=delivery.topic, webhook_id=delivery.webhook_id)
        if isinstance(payload, ReturnUpdate):
            if self.returns is None:
                raise TypeError("a return delivery needs the returns service")
            status = self.returns.receive(delivery, payload)
            return IngestResult(status=status, topic=delivery.topic, webhook_id=delivery.webhook_id)
        outcome: WriteOutcome = self.store.apply(delivery, payload)
        return IngestResult(status=outcome, topic=delivery.topic, webhook_id=delivery.webhook_id)

    def _catalogue(self, delivery: Delivery, payload: Product | ProductDeletion) -> IngestResult:
        """A product goes to the catalogue, never to the ingest table: no profile, no flow."""
        if self.catalogue is None:
            raise TypeError("a product delivery needs the catalogue store")
        if isinstance(payload, Product):
            outcome = self.catalogue.save(delivery, payload)
        else:
            outcome = self.catalogue.delete(delivery, payload)
        return IngestResult(status=outcome, topic=delivery.topic, webhook_id=delivery.webhook_id)


def _kept_headers(headers: Mapping[str, str]) -> dict[str, Any]:
    """Headers worth keeping for a replay: platform metadata, never auth material."""
    keep = ("x-shopify-", "x-wc-webhook-", "x-patron-", "content-type")
    drop = ("signature", "hmac")
    return {k: v for k, v in headers.items() if k.startswith(keep) and not any(d in k for d in drop)}
