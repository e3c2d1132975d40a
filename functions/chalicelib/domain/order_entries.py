"""What a profile knows of a set of its order entries, in bounded space.

A profile keeps its most recent order entries (`o`) and moves older ones to their own
items (`W#<ws>#P#<cid>` / `O#<order key>`). What the moved entries contribute is kept in
the profile as a `Summary` (`so`): counts, sums, product, category, source and channel
sets, first and last times, and the days with an order as a bitmap. Summaries of two
disjoint sets of entries combine exactly, so every aggregate of the whole history is
`combine(so, summarize(o))`, recomputed on each write from bounded state. Nothing is
ever subtracted from `so`: it only grows when an entry moves out of `o`, and it is
rebuilt from the moved items when one of them changes or profiles merge.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain import timemath
from chalicelib.domain.money import round_money

if TYPE_CHECKING:
    from chalicelib.domain.ports import MovedEntries

DAY_SECONDS = 86400
CENT = Decimal("0.01")


def entry_partitions(item: dict[str, Any]) -> list[str]:
    """Customer ids under whose partitions the profile's moved entries live: its own and
    those of the profiles merged into it (their moved entries stay where they are)."""
    return list(dict.fromkeys([item["cid"], *item.get("mrg", [])]))


def all_entries(store: MovedEntries, workspace_id: str, item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every order entry of a profile item: its recent ones (`o`) over the moved ones, read
    with one query per partition, and only when some have moved (`so`)."""
    recent = dict(item.get("o") or {})
    if not item.get("so"):
        return recent
    moved = store.moved_entries(workspace_id, entry_partitions(item))
    return {k: e for k, e in moved.items() if k not in recent} | recent


def entry_source(order_key: str) -> str:
    return order_key.split(".", 1)[0]


def _value(entry: dict[str, Any]) -> Decimal:
    """An order's value for the models: net of refunds, 0 without a converted amount."""
    return Decimal(entry.get("a", 0) or 0) - Decimal(entry.get("r", 0) or 0)


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
            _pick(min, self.first, other.first),
            _pick(max, self.last, other.last),
            self.timed + other.timed,
            value=self.value + other.value,
        )
        for currency, amount in other.unconverted.items():
            out.unconverted[currency] = out.unconverted.get(currency, Decimal(0)) + amount
        out.day0 = _pick(min, self.day0, other.day0)
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

    # -- stored form (the profile's `so` map) --------------------------------------
    def to_item(self) -> dict[str, Any] | None:
        if not self.entries:
            return None
        item: dict[str, Any] = {
            "c": self.entries,
            "n": self.counted,
            "nc": self.converted,
            "s": self.spent,
            "r": self.refunded,
            "nt": self.timed,
            "v": self.value,
        }
        sets = {"ch": self.channels, "p": self.products, "k": self.categories, "src": self.sources}
        item |= {name: set(values) for name, values in sets.items() if values}
        if self.unconverted:
            item["u"] = dict(self.unconverted)
        if self.first is not None and self.last is not None:
            item["t0"], item["t1"] = self.first, self.last
        if self.day0 is not None:
            item["d0"], item["d0v"] = self.day0, self.day0_value
            # zlib: a year of daily orders is 46 bytes, and a date decades off (a test order
            # dated 1970) costs a few bytes of zeros, not kilobytes
            item["dm"] = zlib.compress(self.days.to_bytes((self.days.bit_length() + 7) // 8, "little"))
        return item

    @classmethod
    def of_item(cls, item: dict[str, Any] | None) -> Summary:
        if not item:
            return cls()
        return cls(
            int(item.get("c", 0)),
            int(item.get("n", 0)),
            int(item.get("nc", 0)),
            Decimal(item.get("s", 0)),
            Decimal(item.get("r", 0)),
            {k: Decimal(v) for k, v in (item.get("u") or {}).items()},
            set(item.get("ch") or ()),
            set(item.get("p") or ()),
            set(item.get("k") or ()),
            set(item.get("src") or ()),
            int(item["t0"]) if item.get("t0") is not None else None,
            int(item["t1"]) if item.get("t1") is not None else None,
            int(item.get("nt", 0)),
            int(item["d0"]) if item.get("d0") is not None else None,
            int.from_bytes(zlib.decompress(bytes(item["dm"])), "little") if item.get("dm") else 0,
            Decimal(item.get("d0v", 0)),
            Decimal(item.get("v", 0)),
        )


def _pick(choose: Any, a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return int(choose(a, b))


def summarize(entries: dict[str, dict[str, Any]]) -> Summary:
    """The summary of a set of entries, keyed by order key."""
    out = Summary()
    day_values: dict[int, Decimal] = {}
    for key, entry in entries.items():
        out.entries += 1
        out.sources.add(entry_source(key))
        if entry.get("x"):
            continue
        out.counted += 1
        out.channels.add(entry.get("ch", "web"))
        out.products.update(entry.get("p") or ())
        out.categories.update(entry.get("k") or ())
        if "a" in entry:
            out.converted += 1
            out.spent += Decimal(entry["a"])
            out.refunded += Decimal(entry.get("r", 0))
        elif entry.get("cur"):
            cur = entry["cur"]
            out.unconverted[cur] = out.unconverted.get(cur, Decimal(0)) + Decimal(entry["oa"])
        if entry.get("t") is None:
            continue
        t = int(entry["t"])
        out.timed += 1
        out.first = _pick(min, out.first, t)
        out.last = _pick(max, out.last, t)
        day = t // DAY_SECONDS
        day_values[day] = day_values.get(day, Decimal(0)) + _value(entry)
        out.value += _value(entry)
    if day_values:
        out.day0 = min(day_values)
        out.day0_value = day_values[out.day0]
        for day in day_values:
            out.days |= 1 << (day - out.day0)
    return out


def of_profile(item: dict[str, Any]) -> Summary:
    """Every order of a profile: the moved entries' summary and the recent entries'."""
    return Summary.of_item(item.get("so")).combine(summarize(item.get("o") or {}))


def _iso_seconds(epoch: int | None) -> str | None:
    return None if epoch is None else timemath.iso(timemath.from_epoch(epoch))


def aggregates(summary: Summary, currency: str) -> dict[str, Any]:
    """The profile's figures from the summary of all its orders."""
    s = summary
    gap = None
    if s.timed >= 2 and s.first is not None and s.last is not None:
        gap = (Decimal(s.last - s.first) / Decimal(DAY_SECONDS) / (s.timed - 1)).quantize(CENT)
    return {
        "n": s.counted,
        "cur": currency,
        "spent": s.spent,
        "refd": s.refunded,
        "net": s.spent - s.refunded,
        "aov": round_money(s.spent / s.converted, currency) if s.converted else None,
        "first": _iso_seconds(s.first),
        "last": _iso_seconds(s.last),
        "gap": gap,
        "unconv": dict(s.unconverted) or None,
        "chs": set(s.channels) or None,
    }
