"""The window of storefront dates Patron accepts (docs/webhooks.md#dates).

Every date a storefront sends that feeds a computation (placed, updated, cancelled,
refunded, delivered, consent given, checkout completed) must fall between EARLIEST and
FUTURE_DAYS days after the delivery was received. Anything else is a field error: the
body is refused with 400 and quarantined, so a year-9999 or epoch-0 order never reaches
a profile. Parsers validate with `window(delivery)` as the pydantic context; the check
falls back to the current time without one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, ValidationInfo
from pydantic_core import PydanticCustomError

from chalicelib.domain.models import Delivery, now_utc

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_DAYS = 2  # clocks of shops and of their servers disagree; no more than this
EARLIEST_BIRTH_YEAR = 1900


def window(delivery: Delivery) -> dict[str, Any]:
    """The validation context that bounds a delivery's dates."""
    return {"received_at": delivery.received_at}


def _received(info: ValidationInfo) -> datetime:
    received = (info.context or {}).get("received_at")
    return received if isinstance(received, datetime) else now_utc()


def _in_window(value: datetime, info: ValidationInfo) -> datetime:
    latest = _received(info) + timedelta(days=FUTURE_DAYS)
    try:  # a naive time is UTC here (WooCommerce's *_gmt); Shopify's are refused later
        at = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # an offset that takes it past year 9999 or before year 1
        at = None
    if at is None or not EARLIEST <= at <= latest:
        raise PydanticCustomError(
            "date_out_of_range",
            "date outside the accepted window: from {earliest} to {days} days after receipt ({latest})",
            {"earliest": "2000-01-01T00:00:00Z", "days": FUTURE_DAYS, "latest": _text(latest)},
        )
    return value


def _text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


# A storefront date in the window: `Stamp` may be naive (checked as UTC), `AwareStamp` not.
Stamp = Annotated[datetime, AfterValidator(_in_window)]
AwareStamp = Annotated[AwareDatetime, AfterValidator(_in_window)]


_BIRTHDAY = re.compile(r"((?P<y>[0-9]{4})-)?(?P<m>[0-9]{2})-(?P<d>[0-9]{2})")


def birth_month_day(value: str, info: ValidationInfo) -> str:
    """'YYYY-MM-DD' or 'MM-DD' as 'MM-DD': a real calendar day (29 February included), and a
    year, when given, from EARLIEST_BIRTH_YEAR to the year the delivery was received."""
    found = month_day_or_none(value, _received(info))
    if found is not None:
        return found
    raise PydanticCustomError(
        "birthday",
        "birthday must be a real date, YYYY-MM-DD (born {earliest} or later) or MM-DD",
        {"earliest": EARLIEST_BIRTH_YEAR},
    )


def month_day_or_none(value: object, received: datetime) -> str | None:
    """`birth_month_day` for a value a store keeps in free-form meta (a Shopify metafield, a
    WooCommerce meta key): 'MM-DD', or None when it is not a real birth date."""
    match = _BIRTHDAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day = match.group("y"), int(match.group("m")), int(match.group("d"))
    try:
        born = date(int(year) if year else 2000, month, day)  # 2000 is a leap year: 02-29
    except ValueError:
        return None
    if year and not EARLIEST_BIRTH_YEAR <= born.year <= received.year:
        return None
    return f"{month:02d}-{day:02d}"
