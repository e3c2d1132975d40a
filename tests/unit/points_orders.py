"""Order images and workspace settings for the points tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain.ingest_images import IngestChange, OrderImage
from chalicelib.domain.models import OrderStatus, Person
from chalicelib.domain.order_snapshot import OrderRefund, OrderSnapshot
from chalicelib.domain.workspace_settings import LoyaltyRules, WorkspaceSettings

WS, CID = "ws_1", "c_1"
PAID_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class Settings:
    def __init__(self, rules: LoyaltyRules | None = None, currency: str = "EUR") -> None:
        self.value = WorkspaceSettings(
            WS, currency, "salt", rates={"USD": Decimal("0.9")}, loyalty=rules or on()
        )

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return self.value if workspace_id == WS else None


def on(rate: str = "1", window: int = 30) -> LoyaltyRules:
    return LoyaltyRules(enabled=True, points_per_unit=Decimal(rate), return_window_days=window)


def order(
    total: str = "100.00",
    status: OrderStatus = OrderStatus.PAID,
    refunds: tuple[tuple[str, str, datetime], ...] = (),
    currency: str = "EUR",
    order_id: str = "1001",
    imported: bool = False,
) -> IngestChange:
    snapshot = OrderSnapshot(
        workspace_id=WS,
        source_id="s1",
        order_id=order_id,
        version=1,
        is_order=True,
        status=status,
        currency=currency,
        total=Decimal(total),
        refunded=sum((Decimal(a) for _, a, _ in refunds), Decimal(0)),
        created_at=PAID_AT,
        channel="web",
        person=Person(email="jane@example.com"),
    )
    image = OrderImage(
        key=f"W#{WS}#O#s1#{order_id}",
        snapshot=snapshot,
        imported=imported,
        refunds=tuple(OrderRefund(rid, Decimal(a), at.isoformat()) for rid, a, at in refunds),
    )
    return IngestChange(after=image)


def cancelled(change: IngestChange, at: datetime) -> IngestChange:
    image = change.order
    assert image is not None
    snapshot = replace(
        image.snapshot,
        status=OrderStatus.CANCELLED,
        history=(("paid", PAID_AT.isoformat()), ("cancelled", at.isoformat())),
    )
    return IngestChange(after=replace(image, snapshot=snapshot))
