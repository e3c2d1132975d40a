"""What a profile knows of a set of its order entries, in bounded space.

A profile keeps its most recent order entries (`CustomerProfile.orders`) and moves older
ones to their own items (docs/data-model.md, "Profiles"). What the moved entries
contribute is kept in the profile as a `Summary` (`CustomerProfile.moved`): counts, sums,
product, category, source and channel sets, first and last times, and the days with an
order as a bitmap. Summaries of two disjoint sets of entries combine exactly, so every
aggregate of the whole history is `combine(moved, summarize(orders))`, recomputed on each
write from bounded state. Nothing is ever subtracted from the moved summary: it only
grows when an entry moves out of the recent ones, and it is rebuilt from the moved
entries when one of them changes or profiles merge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import OrderEntry, ProfileFigures, entry_source
from chalicelib.domain.money import round_money
from chalicelib.domain.order_summary import Summary, pick

if TYPE_CHECKING:
    from chalicelib.domain.customer_profile import CustomerProfile
    from chalicelib.domain.ports import MovedEntries

__all__ = ["Summary", "aggregates", "all_entries", "entry_source", "of_profile", "summarize"]

DAY_SECONDS = 86400
CENT = Decimal("0.01")


def all_entries(store: MovedEntries, workspace_id: str, profile: CustomerProfile) -> dict[str, OrderEntry]:
    """Every order entry of a profile: its recent ones over the moved ones, read with one
    query per partition, and only when some have moved."""
    recent = dict(profile.orders)
    if profile.moved is None:
        return recent
    moved = store.moved_entries(workspace_id, profile.entry_partitions())
    return {k: e for k, e in moved.items() if k not in recent} | recent


def summarize(entries: dict[str, OrderEntry]) -> Summary:
    """The summary of a set of entries, keyed by order key."""
    out = Summary()
    day_values: dict[int, Decimal] = {}
    for key, entry in entries.items():
        out.entries += 1
        out.sources.add(entry_source(key))
        if not entry.counted:
            continue
        out.counted += 1
        out.channels.add(entry.channel_name)
        out.products.update(entry.products or ())
        out.categories.update(entry.categories or ())
        if entry.amount is not None:
            out.converted += 1
            out.spent += entry.amount
            out.refunded += entry.refunded or Decimal(0)
        elif entry.currency:
            cur = entry.currency
            out.unconverted[cur] = out.unconverted.get(cur, Decimal(0)) + Decimal(entry.original_amount or 0)
        if entry.placed_at is None:
            continue
        t = entry.placed_at
        if entry.title is not None:
            out.latest = max(out.latest or (t, entry.title), (t, entry.title))
        out.timed += 1
        out.first = pick(min, out.first, t)
        out.last = pick(max, out.last, t)
        day = t // DAY_SECONDS
        day_values[day] = day_values.get(day, Decimal(0)) + entry.net_value
        out.value += entry.net_value
    if day_values:
        out.day0 = min(day_values)
        out.day0_value = day_values[out.day0]
        for day in day_values:
            out.days |= 1 << (day - out.day0)
    return out


def of_profile(profile: CustomerProfile) -> Summary:
    """Every order of a profile: the moved entries' summary and the recent entries'."""
    return (profile.moved or Summary()).combine(summarize(profile.orders))


def _iso_seconds(epoch: int | None) -> str | None:
    return None if epoch is None else timemath.iso(timemath.from_epoch(epoch))


def aggregates(summary: Summary, currency: str) -> ProfileFigures:
    """The profile's figures from the summary of all its orders (its sources apart: they
    include the sources an erasure keeps listed, which only the profile knows)."""
    s = summary
    gap = None
    if s.timed >= 2 and s.first is not None and s.last is not None:
        gap = (Decimal(s.last - s.first) / Decimal(DAY_SECONDS) / (s.timed - 1)).quantize(CENT)
    return ProfileFigures(
        orders=s.counted,
        currency=currency,
        spent=s.spent,
        refunded=s.refunded,
        net=s.spent - s.refunded,
        average_order_value=round_money(s.spent / s.converted, currency) if s.converted else None,
        first_order_at=_iso_seconds(s.first),
        last_order_at=_iso_seconds(s.last),
        average_gap_days=gap,
        unconverted=dict(s.unconverted) or None,
        channels=set(s.channels) or None,
    )
