"""The points ledger's values: entries keyed by their idempotency key, and the balance.

An entry is written once, by its key (source, external id, kind): a replay finds it and
adds nothing. The balance is the sum of the entries, kept by atomic additions in the same
transaction as each entry (docs/data-model.md#points-ledger); the part still pending is
kept as dated lots, read lazily against the day asked about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

EARN = "earn"
CANCEL = "cancel"
REVERSE = "reverse"
MANUAL = "manual"  # the source of an operator's adjustment (its key: the Idempotency-Key)
ADJUSTMENT = "adjustment"
REDEEM = "redeem"  # a redemption's source and kind (its key: the Idempotency-Key)
RESTORE = "restore"  # the give-back of a redemption the store could not make
# a code redemption's state (`LedgerEntry.state`; docs/loyalty.md#redemption): written
# `pending`, then `made` once the store made the code, or `given_back` (RESTORE written):
# never both. A store-credit redemption (and one written before states) has none: final.
PENDING = "pending"
MADE = "made"
GIVEN_BACK = "given_back"
MERGE = (
    "merge"  # a merge's transfer: ("merge", survivor, "transfer_out"), ("merge", merged id, "transfer_in")
)
TRANSFER_OUT = "transfer_out"
TRANSFER_IN = "transfer_in"

Lots = tuple[tuple[date, int], ...]  # (day, signed points) by day


@dataclass(frozen=True)
class EntryKey:
    """What makes an entry happen once: ("order", order id, "earn" | "cancel") or
    ("refund", order id + "." + refund id, "reverse")."""

    source: str
    external_id: str
    kind: str


@dataclass(frozen=True)
class LedgerEntry:
    workspace_id: str
    customer_id: str
    key: EntryKey
    points: int  # signed: earned > 0, reversed < 0
    at: datetime  # when what it records happened (payment, refund, cancellation)
    order_id: str | None = None  # the public order id (`SOURCE.ORDER`)
    # an earning entry: the rate and base it earned at (a reversal reads these, never the
    # current rule), the order's currency, the day its points become available
    rate: Decimal | None = None
    base: Decimal | None = None  # the order's total as paid, in the order's currency
    currency: str | None = None
    available_on: date | None = None
    refunded: Decimal = Decimal(0)  # refunds reversed so far (order currency)
    # approved returns' share of `base` covered so far (docs/service.md#returns-and-exchanges):
    # the refunds that follow cover the same units, so the reversal follows the larger sum
    returned: Decimal = Decimal(0)
    reversed: int = 0  # points reversed so far (>= 0, never above `points`)
    cancelled: bool = False
    # a reversal: the refunded amount it answers
    amount: Decimal | None = None
    # the balance's lots and debt this entry moved (docs/loyalty.md#lots-and-debt): a credit
    # adds to its lot, a spend takes oldest first and settles debt (`debt` < 0), a
    # reversal takes its earning's lot first and what it cannot find is debt (`debt` > 0)
    lots: Lots = ()
    debt: int = 0
    # a manual adjustment: the operator's reason and who made it (`cli` or `key:<hash prefix>`)
    reason: str | None = None
    actor: str | None = None
    # a redemption: the code made in the store (None: store credit), from which source;
    # its money value is `amount` in `currency`
    code: str | None = None
    store_source: str | None = None
    state: str | None = None  # a code redemption's: PENDING, MADE or GIVEN_BACK


@dataclass(frozen=True)
class PointsView:
    available: int
    pending: int
    debt: int  # points reversed after they were spent: shown, blocks redemption, never dropped


@dataclass(frozen=True)
class PointsBalance:
    """The balance item: `total` = the sum of every entry; `lots` the earned points not yet
    spent nor reversed, by the day they become available (later than today: pending);
    `debt` points reversed after they were spent. `total == sum(lots) - debt`.
    `moved_to`: the survivor a merge moved the balance to (docs/loyalty.md#merged-profiles-one-balance):
    the balance is closed (all 0), every write goes there instead. `recorded`: a stored item."""

    total: int = 0
    lots: dict[date, int] = field(default_factory=dict)
    debt: int = 0
    # the `at` of the latest write that counts as activity (an earning, a bonus, an
    # adjustment, a redemption: `is_activity`), for the inactivity policy; None: none yet
    last_activity: datetime | None = None
    moved_to: str | None = None
    recorded: bool = False

    def view(self, today: date) -> PointsView:
        pending = sum(n for day, n in self.lots.items() if day > today)
        spendable = self.total - pending
        return PointsView(available=max(spendable, 0), pending=pending, debt=max(-spendable, 0))


ACTIVITY_KINDS = frozenset({EARN, "bonus", ADJUSTMENT, REDEEM})


def is_activity(entry: LedgerEntry) -> bool:
    """An entry that counts as the customer's activity (docs/loyalty.md#expiry): an earning,
    a bonus, an adjustment or a redemption; never a reversal, an expiry or a give-back."""
    return entry.points != 0 and entry.key.kind in ACTIVITY_KINDS


def earned_points(base: Decimal, rate: Decimal) -> int:
    """Whole points for an earning base at a rate, rounded down (never a fraction)."""
    return int((base * rate).to_integral_value(rounding=ROUND_FLOOR)) if base > 0 else 0


def reversed_target(points: int, base: Decimal, refunded: Decimal, cancelled: bool) -> int:
    """Points reversed in all once `refunded` of `base` is refunded: the refunded share of the
    earned points, rounded half up, never more than were earned (all of them if cancelled)."""
    if cancelled or base <= 0:
        return points
    share = min(refunded, base) / base
    return min(points, int((points * share).to_integral_value(rounding=ROUND_HALF_UP)))


def covered(refunded: Decimal, returned: Decimal) -> Decimal:
    """The amount of an earning's base its reversals answer: the refunds, or the approved
    returns' lines when more (a return's refund covers the units the return covered)."""
    return max(refunded, returned)


def available_on(paid_at: datetime, window_days: int) -> date:
    """Pending until the start of the UTC day after payment + the return window."""
    return (paid_at.astimezone(UTC) + timedelta(days=window_days)).date() + timedelta(days=1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
