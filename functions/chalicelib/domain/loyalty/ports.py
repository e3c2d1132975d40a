"""The loyalty context's ports: Protocols over its values (adapters/points_ledger.py, the
fake in tests/unit/fake_points.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.customer_profile import EnrolmentAudit
from chalicelib.domain.ingest_images import IngestChange, OrderImage
from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry, PointsBalance
from chalicelib.domain.loyalty.rules import CapCounter
from chalicelib.domain.loyalty.tally import PointsTally
from chalicelib.domain.loyalty.tiers import TierChange, TierState
from chalicelib.domain.loyalty.views import LoyaltyEvent, LoyaltySummary
from chalicelib.domain.segment_eval import LoyaltyFacts
from chalicelib.domain.workspace_settings import WorkspaceSettings


class PointsLedger(Protocol):
    """A customer's append-only ledger and its balance, written together."""

    def entry(self, workspace_id: str, customer_id: str, key: EntryKey) -> LedgerEntry | None: ...

    def earning_of(self, workspace_id: str, order_id: str) -> LedgerEntry | None:
        """An order's earning entry, whichever customer's ledger holds it."""
        ...

    def earn(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        """Writes the entry if its key is new (and the balance is open: no `moved_to`; so for
        every write below), adding its points to the balance and to its
        earned lot (its `lots`, else `available_on` or the day of `at`: any credit, an
        order's earning or a bonus), and, for an order's earning, its pointer from the order,
        in one transaction; False (nothing written) when the key exists. With `list_lots`
        (the workspace expires points), first lists the customer under each lot day it adds
        to (`mark_lot_day`; so `adjust` and `earn_capped`)."""
        ...

    def reverse(
        self,
        earning: LedgerEntry,
        reversal: LedgerEntry,
        refunded: Decimal,
        reversed_points: int,
        returned: Decimal | None = None,
    ) -> bool:
        """Writes `reversal` if its key is new and `earning` still has the `refunded`,
        `returned` and `reversed` read, moving them to the new values (`returned` None: kept;
        and `cancelled` if the reversal is a cancellation), adding its points (negative, or
        positive for a return given back) to the balance and its `lots` / `debt` changes,
        each lot it takes from holding enough: all or nothing. False when any
        condition failed."""
        ...

    def adjust(self, entry: LedgerEntry, list_lots: bool = True) -> bool:
        """Writes any other entry (an adjustment, a redemption, its give-back) if its key is
        new, adding its points to the balance and its `lots` / `debt` changes (a credit
        without lots: to its earned lot), in one transaction, each lot it takes from and the
        debt it settles conditioned on holding enough. False (nothing written) when the key
        exists or a lot or the debt was short (a concurrent spender: read again)."""
        ...

    def balance(self, workspace_id: str, customer_id: str) -> PointsBalance: ...

    def entries(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        """A page of the ledger in key order (by source, external id, kind), and the cursor
        of the next page (None: the last)."""
        ...


class RedemptionAnnouncer(Protocol):
    """Loyalty's flow triggers as the redemption service starts `points.redeemed` once the
    code is made (domain/loyalty/flow_events.py)."""

    def on_entry(self, entry: LedgerEntry) -> list[str]: ...


class LoyaltyItems(Protocol):
    """A customer's points balance and (`with_tier`) tier state in one read
    (adapters/loyalty_items.py: one `BatchGetItem`)."""

    def balance_and_tier(
        self, workspace_id: str, customer_id: str, with_tier: bool
    ) -> tuple[PointsBalance, TierState | None]: ...


class ProfileLoyalty(Protocol):
    """The profile's `loyalty` block and its timeline events (domain/loyalty/summary.py)."""

    def summary(self, workspace_id: str, customer_id: str) -> LoyaltySummary | None: ...

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str] = ()
    ) -> list[LoyaltyEvent]: ...


class LoyaltyFactsReader(Protocol):
    """A customer's points and tier for segments (domain/loyalty/summary.py): read once per
    evaluation, and only when a segment of the workspace uses a loyalty field."""

    def loyalty_facts(self, workspace_id: str, customer_id: str, at: datetime) -> LoyaltyFacts: ...


class ExpiringLedger(PointsLedger, Protocol):
    """The ledger as the expiry sweep reads it (docs/loyalty.md#expiry): every write that adds
    to a lot also records, in its transaction, that the customer has a lot of that day."""

    def customers_with_lot(self, workspace_id: str, lot_day: date) -> Iterator[str]:
        """The customers whose ledger credited the lot of `lot_day` (a keyed read per shard,
        never a scan; each id once; their lot may since be spent)."""
        ...

    def mark_lot_day(self, workspace_id: str, customer_id: str, day: date) -> None:
        """Lists the customer under `day` (idempotent): the sweep of that day's lots visits
        them (the inactivity policy's next look)."""
        ...

    def expire_inactive(self, entry: LedgerEntry, last_activity: datetime) -> bool:
        """As `adjust`, and only while the balance's last activity is still `last_activity`:
        False (nothing written) when the key exists, a lot or the debt was short, or there
        was activity since."""


class RedemptionLedger(ExpiringLedger, Protocol):
    """A code redemption settled once: made in the store or given back, never both (a lot
    given back after its day is listed for the expiry sweep)."""

    def confirm(self, entry: LedgerEntry) -> bool:
        """Marks the redemption `made` (the store made its code), only while it is `pending`
        (or has no state); False when it was given back or already made."""
        ...

    def give_back(self, entry: LedgerEntry, back: LedgerEntry) -> bool:
        """Writes `back` (its RESTORE entry, as `adjust`, on `back.customer_id`'s ledger and
        balance: the redemption's own, or a merge's survivor's) and marks the redemption
        `given_back` on its ledger, only while it is `pending` (or has no state), in one
        transaction; False (nothing written) when it was made, given back already, or the
        balance refused (closed by a merge: follow it)."""
        ...


class MergeLedger(PointsLedger, Protocol):
    """The ledger as a merge's transfer writes it (domain/loyalty/merge.py)."""

    def transfer(self, out: LedgerEntry, into: LedgerEntry, read: PointsBalance) -> bool:
        """Writes `out` on the merged-away ledger and `into` on the survivor's (each if its
        key is new), adds `out`'s points, lots and debt to the merged-away balance and closes
        it (`moved_to` = `into.customer_id`) only if it is still open and its total, every
        lot and the debt are exactly `read`'s, and adds `into`'s to the survivor's balance
        (open): all or nothing. False when any condition failed."""
        ...

    def mark_lot_day(self, workspace_id: str, customer_id: str, day: date) -> None:
        """Lists the customer under `day` (idempotent): the survivor under a moved lot's day."""
        ...

    def close(self, workspace_id: str, customer_id: str, into: str) -> bool:
        """Puts an empty balance closed into `into` for a merged id that has none, only if
        it still has none: False (nothing written) when a balance item exists."""
        ...


class LoyaltySettings(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...


class OrderPoints(Protocol):
    """The ingest consumer's collaborator: a live order's points (earned, reversed)."""

    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> list[Any]: ...


class BonusLedger(PointsLedger, Protocol):
    """The ledger as action bonuses write it: an entry counted against its cap."""

    def earn_capped(self, entry: LedgerEntry, cap: CapCounter, list_lots: bool = True) -> bool:
        """As `earn`, and in the same transaction adds 1 to the cap's counter, only while it
        is below `cap.max`: all or nothing. False (nothing written, nothing counted) when the
        key exists or the cap is reached."""
        ...


class OrderTiers(Protocol):
    """The ingest consumer's collaborator after the points: a customer's tier, up at once."""

    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> Any: ...


class TierReader(Protocol):
    """A customer's current tier (None: no tier), for the earning rate's multiplier."""

    def tier_of(self, workspace_id: str, customer_id: str) -> str | None: ...


class TierStore(TierReader, Protocol):
    """Customers' tier states and their audit (adapters/tier_store.py, tests/unit/fake_tiers.py)."""

    def get(self, workspace_id: str, customer_id: str) -> TierState | None: ...

    def save(self, state: TierState, change: TierChange | None) -> bool:
        """Writes `state` as version `state.version + 1` if the stored version is still
        `state.version` (0: none stored), with the audit entry `change`, in one transaction;
        False (nothing written) when another writer got there first."""
        ...

    def states(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[TierState], str | None]:
        """A page of the workspace's recorded tier states (a Query, never a scan), in
        customer-id order; the cursor is the page's last customer id, and any customer id
        given as `cursor` starts after it (the daily evaluation resumes there)."""
        ...

    def changes(self, workspace_id: str, customer_id: str) -> list[TierChange]:
        """A customer's audit entries, oldest first."""
        ...


class LedgerEraser(Protocol):
    """Erasure's side of the ledger: a customer's entries folded into the workspace's
    anonymous tally (domain/loyalty/tally.py), then their balance deleted."""

    def fold(self, workspace_id: str, customer_id: str) -> int:
        """Moves every entry of the customer's ledger into the tally, a page at a time:
        each page's entries (and their earnings' order pointers) deleted, subtracted from
        the balance and added to the tally, all or nothing, each entry only if it is still
        there (a retry folds none twice); then deletes the balance once it is 0. Returns
        the entries this call folded."""
        ...

    def tally(self, workspace_id: str) -> PointsTally: ...


class HistoricalLedger(Protocol):
    """A customer's one historical entry (domain/loyalty/history.py), written or moved."""

    def set_historical(self, stored: LedgerEntry | None, entry: LedgerEntry, change: LedgerEntry) -> bool:
        """Writes `entry` (no order pointer, no pending lot; its `lots`/`debt` all it moved):
        if `stored` is None, only if none is there; else only if the stored entry still has
        `stored`'s points, moving them (and its base, date, lots and debt) to the entry's;
        with the balance's `ADD` of `change` (the difference: its points, lots and debt, each
        lot taken conditioned as a reversal's) in the same transaction. False (nothing
        written) when a condition failed."""
        ...


class HistoricalOrders(Protocol):
    def order_images_of(self, workspace_id: str, order_ids: list[str]) -> list[OrderImage]:
        """The stored orders of these public ids (`source.order`), decoded."""
        ...


class ImportPoints(Protocol):
    """The history import's end-of-run points (domain/loyalty/history.py)."""

    def apply(self, workspace_id: str, customer_ids: Sequence[str], now: datetime) -> dict[str, Any]: ...


class EnrolmentAuditReader(Protocol):
    """The enrolment audit of one customer id, read a page at a time (adapters/enrolment_store.py)."""

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[EnrolmentAudit], str | None]:
        """Up to `limit` entries, newest first, after `cursor`; and the next page's cursor
        (None: the last)."""
        ...


class LoyaltyBooks(Protocol):
    """The analytics report's reads of the points liability (domain/loyalty/liability.py):
    a page of customers' balances and tiers in one batch read each, and the anonymous tally
    (adapters/loyalty_books.py, tests/unit/fake_loyalty_books.py)."""

    def balances_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, PointsBalance]:
        """The balance of each listed customer who has a balance item (absent: none)."""
        ...

    def tiers_of(self, workspace_id: str, customer_ids: Sequence[str]) -> dict[str, str | None]:
        """The tier of each listed customer who has a tier state (absent: none recorded)."""
        ...

    def tally(self, workspace_id: str) -> PointsTally: ...
