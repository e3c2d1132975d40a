"""History import: a store's past orders and customers, written like webhooks, quietly.

Each record of an export file becomes the same canonical payload a webhook parser makes,
and is written through the same ingest store: the same item key and the same versioning,
so a re-run, or a state that also arrives by webhook, changes nothing (docs/import.md).
The import's version of a state takes the state's own update time as its trigger time:
a webhook of that state (triggered at or after it, or without a trigger time) is never
older, so the import never overwrites what a webhook stored. Its delivery is marked
`imported`: no notification, flow or attribution follows (domain/pipeline.py skips it).
`HistoryImport` prepares and counts each record's write; the batch engine
(domain/batch_import.py) writes them a chunk at a time, builds the profiles and
recomputes once at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.models import (
    Checkout,
    Customer,
    Delivery,
    IngestPayload,
    Order,
    Person,
    RefundEvent,
    Source,
)


@dataclass(frozen=True)
class ImportRecord:
    """One record of an export file: its payload, or why it was refused."""

    row: int  # the file's line or row number (1-based): the resume cursor
    digest: str  # a hash of the record's text: the same record again is a duplicate
    payload: IngestPayload | None = None
    reason: str | None = None  # why it was refused (no personal data: field names and rules)
    rows: int = 1  # the file rows the record spans (a Shopify CSV order: one per line item)


# (the import's base delivery) -> the file's records, in file order
Reader = Callable[[Delivery], Iterable[ImportRecord]]


@dataclass
class ImportSummary:
    rows: int = 0
    orders: int = 0
    customers: int = 0  # distinct customers named by the imported records
    refunds: int = 0
    stored: int = 0
    unchanged: int = 0  # duplicates and stale states: already there (a re-run, a webhook)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {row, reason}
    currencies: set[str] = field(default_factory=set)
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    cursor: int = 0  # the last row done: `--resume-from` this to go on after it
    recomputed: dict[str, Any] | None = None  # the end's recompute (domain/batch_import.py)
    _people: set[str] = field(default_factory=set, repr=False)

    def as_dict(self) -> dict[str, Any]:
        def at(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "rows": self.rows,
            "orders": self.orders,
            "customers": self.customers,
            "refunds": self.refunds,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "currencies": sorted(self.currencies),
            "date_range": [at(self.first_order_at), at(self.last_order_at)],
            "cursor": self.cursor,
        } | ({"recomputed": self.recomputed} if self.recomputed is not None else {})

    def count_person(self, person: Person) -> None:
        key = person.ext or person.email or person.phone
        if key and key not in self._people:
            self._people.add(key)
            self.customers += 1

    def count_order(self, order: Order) -> None:
        self.orders += 1
        self.currencies.add(order.currency)
        at = order.created_at
        if self.first_order_at is None or at < self.first_order_at:
            self.first_order_at = at
        if self.last_order_at is None or at > self.last_order_at:
            self.last_order_at = at


class HistoryImport:
    """What every import engine shares: the base delivery, a record's write, its count."""

    @staticmethod
    def base_delivery(source: Source, now: datetime, topic: str = "import") -> Delivery:
        return Delivery(
            workspace_id=source.workspace_id,
            source_id=source.source_id,
            platform=source.platform,
            topic=topic,
            received_at=now,
            default_region=source.default_region,
            birthday_meta_key=source.birthday_meta_key,
            email_consent_keys=source.email_consent_keys,
            sms_consent_keys=source.sms_consent_keys,
            shop_domain=source.shop_domain,
            imported=True,
        )

    @staticmethod
    def prepare(
        base: Delivery, record: ImportRecord, summary: ImportSummary
    ) -> tuple[Delivery, IngestPayload] | None:
        """The delivery and payload one record writes (None: rejected, and counted so)."""
        payload = record.payload
        if payload is None or not isinstance(payload, Order | Customer | RefundEvent | Checkout):
            reason = record.reason or f"not importable: {type(payload).__name__}"
            summary.rejected.append({"row": record.row, "reason": reason})
            return None
        updated = None if isinstance(payload, RefundEvent) else payload.updated_at
        delivery = base.model_copy(
            update={"topic": payload.kind, "triggered_at": updated, "body_hash": "i" + record.digest}
        )
        return delivery, payload

    @staticmethod
    def count(outcome: str, payload: IngestPayload, summary: ImportSummary) -> None:
        if outcome == "stored":
            summary.stored += 1
        else:
            summary.unchanged += 1
        if isinstance(payload, Order):
            summary.count_order(payload)
            summary.refunds += len(payload.refunds)
            summary.count_person(payload.person)
        elif isinstance(payload, RefundEvent):
            summary.refunds += 1
        elif isinstance(payload, Customer | Checkout):
            summary.count_person(payload.person)
