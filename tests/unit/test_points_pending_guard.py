"""The pending guard: a deduction can never take pending points, even when an order's
earning lands between its read of the balance and its write (the known gap of the first
adjustments, closed by conditioning the spend on the lots themselves)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.adjust import AdjustmentIn, PointsAdjustments, PointsRefused
from chalicelib.domain.loyalty.ledger import PointsService
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, cancelled, on, order
from tests.unit.test_points_adjust import OPERATOR, Profiles

NOW = PAID_AT + timedelta(days=40)


def paid_now(change: IngestChange) -> IngestChange:
    image = change.order
    assert image is not None
    return IngestChange(after=replace(image, snapshot=replace(image.snapshot, created_at=NOW)))


class EarningLandsAfterTheRead(FakePointsLedger):
    """The fake, where a new order's earning commits just after the deduction reads."""

    def __init__(self, points: PointsService | None = None) -> None:
        super().__init__()
        self.points = points
        self.reads = 0

    def balance(self, workspace_id: str, customer_id: str) -> Any:
        read = super().balance(workspace_id, customer_id)
        self.reads += 1
        if self.points is not None and self.reads == 1:  # after the read: the old order cancelled,
            self.points.on_order(cancelled(order("100.00"), NOW), NOW, CID)  # and a new one paid
            self.points.on_order(paid_now(order("300.00", order_id="2002")), NOW, CID)
        return read


def test_a_deduction_racing_a_new_earning_never_takes_pending_points():
    # Given 100 available points (an old order), 1 point per unit, a 30-day window
    ledger, rules = EarningLandsAfterTheRead(), Settings(on("1", window=30))
    PointsService(ledger, rules).on_order(order("100.00"), PAID_AT, CID)
    ledger.points = PointsService(ledger, rules)
    # When an operator deducts those 100 while, after the read, the old order is cancelled
    # (its 100 reversed) and a new order's 300 pending points land
    service = PointsAdjustments(ledger, rules, Profiles())  # type: ignore[arg-type]
    with pytest.raises(PointsRefused) as refused:
        service.adjust(WS, CID, AdjustmentIn(points=-100, reason="x"), "k-1", OPERATOR, NOW)
    # Then the deduction is refused (nothing is available any more): the pending 300 are
    # untouched, and no debt was made by spending pending points
    balance = ledger.balance(WS, CID)
    view = balance.view(NOW.date())
    assert refused.value.reason == "insufficient_points"
    assert (balance.total, view.pending, view.available, view.debt) == (300, 300, 0, 0)
