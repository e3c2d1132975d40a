"""Dated lots: which points a credit adds, which a spend or a reversal takes, and the
balance's view (docs/loyalty.md#lots-and-debt).

Every credit adds its points to an *earned lot*, keyed by the day they become available
(an order's earning: its `available_on`; any other credit: the UTC day of its `at`). A
spend takes available lots, oldest first, and first settles any debt; a reversal takes its
own earning's lot first, then the oldest others, and what it cannot find (the points were
spent) becomes debt. Each entry records the lots and debt it moved (`lots`, `debt`), so the
balance item obeys, always:

    total == sum(lots) - debt,  every lot >= 0,  debt >= 0

(`tests/unit/test_points_lots.py`, hypothesis over interleavings and replays).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta

from chalicelib.domain.loyalty.model import LedgerEntry, Lots, PointsBalance


def credit_day(entry: LedgerEntry) -> date:
    """The lot a credit adds to: the day its points become available."""
    return entry.available_on or entry.at.astimezone(UTC).date()


def with_credit_lot(entry: LedgerEntry) -> LedgerEntry:
    """A credit without lots (an earning, a bonus) gets its earned lot; others as they are."""
    if entry.lots or entry.points <= 0:
        return entry
    return replace(entry, lots=((credit_day(entry), entry.points),))


def oldest_first(lots: Mapping[date, int], n: int, first: date | None = None) -> dict[date, int]:
    """Up to `n` points taken from `lots` (`first` first, then the oldest): {day: taken}."""
    order = ([first] if first is not None and first in lots else []) + sorted(d for d in lots if d != first)
    taken: dict[date, int] = {}
    for day in order:
        if n <= 0:
            break
        got = min(lots[day], n)
        if got > 0:
            taken[day] = got
            n -= got
    return taken


@dataclass(frozen=True)
class Plan:
    lots: Lots  # signed changes of the balance's lots, by day
    debt: int  # the signed change of the balance's debt


def as_lots(changes: Mapping[date, int], sign: int) -> Lots:
    return tuple(sorted((day, sign * n) for day, n in changes.items() if n))


def available_lots(lots: Mapping[date, int], today: date) -> dict[date, int]:
    return {day: n for day, n in lots.items() if day <= today and n > 0}


def spend_refusal(lots: Mapping[date, int], debt: int, today: date, n: int) -> tuple[str, int] | None:
    """Why `n` points cannot be spent today (a reason and the points available), or None."""
    have = sum(available_lots(lots, today).values())
    if debt > have:
        return "debt", 0
    if have - debt < n:
        return "insufficient_points", have - debt
    return None


def plan_spend(lots: Mapping[date, int], debt: int, today: date, n: int) -> Plan:
    """A spend of `n` available points: it settles the debt, then takes `n`, from the
    oldest available lots (the caller checked `spend_refusal` first)."""
    taken = oldest_first(available_lots(lots, today), debt + n)
    return Plan(as_lots(taken, -1), -debt)


def plan_reversal(lots: Mapping[date, int], own: date | None, n: int) -> Plan:
    """A reversal of `n` points: from its earning's lot, then the oldest others; the rest
    (spent already) is debt."""
    taken = oldest_first({d: v for d, v in lots.items() if v > 0}, n, own)
    return Plan(as_lots(taken, -1), n - sum(taken.values()))


def restore(entry: LedgerEntry) -> Plan:
    """The exact inverse of a spend's changes: the same lots back, the settled debt back."""
    return Plan(tuple((day, -v) for day, v in entry.lots), -entry.debt)


def expiring_within(lots: Mapping[date, int], today: date, days: int, lot_days: int) -> int:
    """Available points whose lot expires (`lot_days` after its day) within `days` of today.
    In day numbers, so a `today` at the calendar's end (9999-12-31, a report's open `to`)
    counts where a date `days` later does not exist."""
    last = today.toordinal() + days
    return sum(n for day, n in available_lots(lots, today).items() if day.toordinal() + lot_days <= last)


def expiry_schedule(
    balance: PointsBalance, today: date, policy: str, days: int
) -> tuple[tuple[date, int], ...]:
    """(the day they expire, points) of the points available today: under `lots` each lot
    `days` after its day; under `inactivity` the whole available balance `days` after the
    last activity's UTC day; nothing under `none` (docs/loyalty.md#expiry)."""
    if policy == "lots":
        return tuple(
            (day + timedelta(days=days), n) for day, n in sorted(available_lots(balance.lots, today).items())
        )
    available = balance.view(today).available
    if policy == "inactivity" and balance.last_activity is not None and available > 0:
        return ((balance.last_activity.astimezone(UTC).date() + timedelta(days=days), available),)
    return ()
