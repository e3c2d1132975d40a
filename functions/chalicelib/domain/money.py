"""Money rounding by each currency's minor units (ISO 4217).

The minor units come from the `iso4217` package (pinned; it ships the ISO 4217
maintenance agency's list, table.xml, with its publication date): JPY has 0, KWD 3,
most currencies 2. A code the list does not know, or one without minor units (gold,
XXX), rounds to 2 places. Rounding is ROUND_HALF_UP (commercial rounding: 1234.5 JPY
is 1235 yen), the same in every place money is rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from iso4217 import Currency

DEFAULT_MINOR_UNITS = 2


@cache
def minor_units(currency: str | None) -> int:
    """Digits after the decimal point of `currency` (ISO 4217), 2 when unknown."""
    if not currency:
        return DEFAULT_MINOR_UNITS
    try:
        exponent = Currency(currency.strip().upper()).exponent
    except ValueError:
        return DEFAULT_MINOR_UNITS
    return DEFAULT_MINOR_UNITS if exponent is None else int(exponent)


def quantum(currency: str | None) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    """`amount` rounded half up to the minor units of `currency`."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
