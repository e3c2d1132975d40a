"""The loyalty context's ports: Protocols over its values (adapters/points_ledger.py, the
fake in tests/unit/fake_points.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.customer_profile import EnrolmentAudit
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.model import EntryKey, LedgerEntry, PointsBalance
from chalicelib.domain.workspace_settings import WorkspaceSettings


class PointsLedger(Protocol):
    """A customer's append-only ledger and its balance, written together."""

    def entry(self, workspace_id: str, customer_id: str, key: EntryKey) -> LedgerEntry | None: ...

    def earning_of(self, workspace_id: str, order_id: str) -> LedgerEntry | None:
        """An order's earning entry, whichever customer's ledger holds it."""
        ...

    def earn(self, entry: LedgerEntry) -> bool:
        """Writes the entry if its key is new, adding its points to the balance and its
        pending lot (and, for an order's earning, its pointer from the order), in one
        transaction; False (nothing written) when the key exists."""
        ...

    def reverse(
        self, earning: LedgerEntry, reversal: LedgerEntry, refunded: Decimal, reversed_points: int
    ) -> bool:
        """Writes `reversal` if its key is new and `earning` still has the `refunded` and
        `reversed` read, moving them to the new values (and `cancelled` if the reversal is a
        cancellation), adding its (negative) points to the balance and to its pending lot if
        it has one: all or nothing. False when either condition failed."""
        ...

    def adjust(self, entry: LedgerEntry, min_total: int | None) -> bool:
        """Writes the entry if its key is new, adding its points to the balance, in one
        transaction; when `min_total` is given, only if the balance's total is at least that
        (checked on the balance item in the transaction). False (nothing written) when the
        key exists or the balance was short."""
        ...

    def balance(self, workspace_id: str, customer_id: str) -> PointsBalance: ...

    def entries(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        """A page of the ledger in key order (by source, external id, kind), and the cursor
        of the next page (None: the last)."""
        ...


class LoyaltySettings(Protocol):
    def settings(self, workspace_id: str) -> WorkspaceSettings | None: ...


class OrderPoints(Protocol):
    """The ingest consumer's collaborator: a live order's points (earned, reversed)."""

    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> list[Any]: ...


class EnrolmentAuditReader(Protocol):
    """The enrolment audit of one customer id, read a page at a time (adapters/enrolment_store.py)."""

    def audit_page(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[EnrolmentAudit], str | None]:
        """Up to `limit` entries, newest first, after `cursor`; and the next page's cursor
        (None: the last)."""
        ...
