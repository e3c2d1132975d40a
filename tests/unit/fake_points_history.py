"""The historical points entry in memory (the HistoricalLedger port) over the fake ledger,
and the stored orders by public id (HistoricalOrders), for unit tests and the contract."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.ingest_images import OrderImage
from chalicelib.domain.loyalty.model import LedgerEntry
from chalicelib.domain.order_snapshot import public_order_id
from tests.unit.fake_points import FakePointsLedger


class FakeHistoricalPoints:
    def __init__(self, ledger: FakePointsLedger | None = None) -> None:
        self.ledger = ledger or FakePointsLedger()

    def set_historical(self, stored: LedgerEntry | None, entry: LedgerEntry, change: LedgerEntry) -> bool:
        with self.ledger.lock:
            ledger = self.ledger.ledgers.setdefault((entry.workspace_id, entry.customer_id), {})
            now = ledger.get(entry.key)
            if (stored is None) != (now is None) or (now and stored and now.points != stored.points):
                return False
            if not self.ledger._add(change):  # the balance's ADDs, taken lots conditioned
                return False
            ledger[entry.key] = (
                entry
                if now is None
                else replace(
                    now, points=entry.points, base=entry.base, at=entry.at, lots=entry.lots, debt=entry.debt
                )
            )
            return True


class FakeOrders:
    def __init__(self) -> None:
        self.orders: dict[str, OrderImage] = {}

    def put(self, image: OrderImage) -> None:
        self.orders[public_order_id(image.snapshot.source_id, image.snapshot.order_id)] = image

    def order_images_of(self, workspace_id: str, order_ids: list[str]) -> list[OrderImage]:
        return [self.orders[o] for o in dict.fromkeys(order_ids) if o in self.orders]
