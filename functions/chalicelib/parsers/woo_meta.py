"""What WooCommerce plugins keep in order and customer `meta_data` (docs/webhooks.md#woocommerce-meta).

WooCommerce core has no marketing-consent field: opt-in plugins write their own meta
keys. Each source names the keys it trusts (`patron source add|update
--email-consent-keys/--sms-consent-keys`); without them, DEFAULT_*_CONSENT_KEYS, the keys
the most used opt-in plugins write. A key may name a second key holding the time of the
choice, as `KEY@TIME_KEY` (a unix timestamp or an ISO time).

The Shipment Tracking extension keeps the order's shipments under
`_wc_shipment_tracking_items`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.models import Consent, ConsentState
from chalicelib.parsers.dates import EARLIEST, FUTURE_DAYS

# Order and customer (user) meta the opt-in plugins write; see docs/webhooks.md for sources.
DEFAULT_EMAIL_CONSENT_KEYS: tuple[str, ...] = (
    # Mailchimp for WooCommerce: "1"/"0" (or true/false) on the order and the user; the
    # time of the last change on the user, as a unix timestamp
    "mailchimp_woocommerce_is_subscribed@mailchimp_woocommerce_marketing_status_updated_at",
    "cc_woo_customer_agrees_to_marketing",  # Constant Contact for WooCommerce: "yes"/"no", order and user
    "ckwc_opt_in",  # Kit (ConvertKit) for WooCommerce: "yes"/"no", order
)
DEFAULT_SMS_CONSENT_KEYS: tuple[str, ...] = (
    "mailchimp_woocommerce_sms_subscribed",  # Mailchimp for WooCommerce's SMS opt-in: "1"/"0", user
)
TRACKING_KEY = "_wc_shipment_tracking_items"

TRUE = frozenset({"1", "yes", "y", "on", "true", "subscribed", "opt-in", "optin", "checked", "accept"})
FALSE = frozenset(
    {"0", "no", "n", "off", "false", "unsubscribed", "opt-out", "optout", "unchecked", "revoke"}
)


class WooMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str | None = None
    value: Any = None


def as_map(meta: Iterable[WooMeta]) -> dict[str, Any]:
    """Meta by key; the last entry of a key wins (WordPress returns them in insertion order)."""
    return {m.key: m.value for m in meta if m.key is not None}


def truthy(value: Any) -> bool | None:
    """True for an opt-in ("yes", "1", "on", true, 1 ...), False for a refusal, None when
    the value says neither (empty, unknown text, a list)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    return None


def _time(value: Any, received: datetime) -> datetime | None:
    """A meta time in the accepted window (a unix timestamp or an ISO time), else None."""
    at: datetime | None = None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            at = datetime.fromtimestamp(int(value), UTC)
        elif isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            at = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    if at is None or not EARLIEST <= at <= received + timedelta(days=FUTURE_DAYS):
        return None
    return at


def consent(
    meta: Mapping[str, Any], keys: Iterable[str], record_at: datetime, received: datetime
) -> Consent | None:
    """The first configured key present with a yes or a no, as a consent report. Its time
    is the key's own time key when given and readable, else the record's time (then it
    never overrides a withdrawal Patron recorded: `Consent.record_time`)."""
    for spec in keys:
        key, _, time_key = spec.partition("@")
        said = truthy(meta.get(key))
        if said is None:
            continue
        state = ConsentState.SUBSCRIBED if said else ConsentState.NOT_SUBSCRIBED
        own = _time(meta.get(time_key), received) if time_key else None
        if own is not None:
            return Consent(state=state, updated_at=own)
        return Consent(state=state, updated_at=record_at, record_time=True)
    return None


# One item of `_wc_shipment_tracking_items`, as WC_Shipment_Tracking_Actions::add_tracking_item
# stores it: tracking_provider, custom_tracking_provider, custom_tracking_link,
# tracking_number, date_shipped (a unix timestamp), tracking_id. A predefined provider's link
# is built at display time and not stored; the REST API's formatted item (and some forks)
# carry `tracking_link` / `formatted_tracking_link`.
LINK_FIELDS = ("custom_tracking_link", "tracking_link", "formatted_tracking_link")


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def shipments(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The shipments' tracking links (the number where no link is kept). Plugin meta is not
    validated: entries that are not objects, or without a number or link, are skipped."""
    raw = meta.get(TRACKING_KEY)
    items = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    tracking: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = next((_text(item.get(f)) for f in LINK_FIELDS if _text(item.get(f))), "")
        value = link or _text(item.get("tracking_number"))
        if not value:
            continue
        tracking.append(value[:500])
    return tuple(dict.fromkeys(tracking))
