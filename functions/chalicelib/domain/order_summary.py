"""What a set of a profile's order entries adds up to, in bounded space (`Summary`).

A leaf value type: the profile (`chalicelib.domain.customer_profile`) holds the summary of
its moved entries, and `chalicelib.domain.order_entries` summarizes entries into one.
Summaries of two disjoint sets of entries combine exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Summary:
    entries: int = 0  # every entry, counted or not
    counted: int = 0
    converted: int = 0  # counted, with an amount in the workspace currency
    spent: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    unconverted: dict[str, Decimal] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    first: int | None = None  # epoch seconds of the first and last counted order
    last: int | None = None
    timed: int = 0  # counted orders with a time
    day0: int | None = None  # first counted day (days since the epoch)
    days: int = 0  # bit i: an order on day0 + i
    day0_value: Decimal = Decimal(0)
    value: Decimal = Decimal(0)  # net value of the counted orders with a time
    # (placed_at, first line title) of the latest counted timed entry with a title:
    # `last_product` when no recent entry is later (equal times: the greater title)
    latest: tuple[int, str] | None = None

    def combine(self, other: Summary) -> Summary:
        """The summary of the union of two disjoint sets of entries."""
        out = Summary(
            self.entries + other.entries,
            self.counted + other.counted,
            self.converted + other.converted,
            self.spent + other.spent,
            self.refunded + other.refunded,
            dict(self.unconverted),
            self.channels | other.channels,
            self.products | other.products,
            self.categories | other.categories,
            self.sources | other.sources,
            pick(min, self.first, other.first),
            pick(max, self.last, other.last),
            self.timed + other.timed,
            value=self.value + other.value,
            latest=max((t for t in (self.latest, other.latest) if t is not None), default=None),
        )
        for currency, amount in other.unconverted.items():
            out.unconverted[currency] = out.unconverted.get(currency, Decimal(0)) + amount
        out.day0 = pick(min, self.day0, other.day0)
        for part in (self, other):
            if part.day0 is not None and out.day0 is not None:
                out.days |= part.days << (part.day0 - out.day0)
                if part.day0 == out.day0:
                    out.day0_value += part.day0_value
        return out

    def order_days(self) -> int:
        return self.days.bit_count()

    def last_day(self) -> int | None:
        return None if self.day0 is None else self.day0 + self.days.bit_length() - 1


def pick(choose: Callable[[int, int], int], a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return int(choose(a, b))
