"""A store with one paid order of two lines, its customer and loyalty on, for the returns
tests (domain/service/returns.py): fakes only, times fixed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.models import Delivery, Platform, ReturnLineIn, ReturnUpdate
from chalicelib.domain.order_snapshot import OrderDetail, OrderLine
from chalicelib.domain.service.return_model import StoredReturn
from chalicelib.domain.service.returns import ReturnService
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.fakes_returns import FakeReturnOutbox, FakeReturnStore
from tests.fakes_tickets import FakeTicketStore
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order

TOTAL = "77.00"  # lines 1 x 30.00 + 2 x 20.00 = 70.00, with shipping and tax 77.00
ORDER = "s1.1001"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # the return requested (after payment)
LINES = (
    OrderLine("p1", "SKU-A", "Shirt", 1, Decimal("30.00"), None, line_id="9001"),
    OrderLine("p2", "SKU-B", "Socks", 2, Decimal("20.00"), None, line_id="9002"),
)


class Orders:
    def __init__(self) -> None:
        image = order(TOTAL).order
        assert image is not None
        self.detail = OrderDetail(
            snapshot=image.snapshot,
            number="#1001",
            status="paid",
            financial_status="paid",
            fulfillment_status="fulfilled",
            total=Decimal(TOTAL),
            created_at=PAID_AT.isoformat(),
            updated_at=PAID_AT.isoformat(),
            cancelled_at=None,
            lines=LINES,
        )

    def order_details(self, workspace_id: str, order_ids: list[str]) -> list[OrderDetail]:
        return [self.detail] if workspace_id == WS and ORDER in order_ids else []


class Profiles:
    def __init__(self) -> None:
        self.profile = CustomerProfile(WS, CID, emails={"jane@example.com"}, email="jane@example.com")

    def load(self, workspace_id: str, customer_id: str) -> CustomerProfile | None:
        return self.profile if customer_id == CID else None

    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        return [self.profile] if set(keys) & self.profile.identity_keys() else []


class Workspaces:
    def __init__(self, notifications: frozenset[str]) -> None:
        self.value = WorkspaceSettings(WS, "EUR", "salt", name="Shop", notifications=notifications)

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        return self.value if workspace_id == WS else None


@dataclass
class Messages:
    """The message port, recording (the messaging service's guardrails are its own tests')."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, ret: StoredReturn, kind: str, now: datetime) -> Any:
        key = f"txn:return:{ret.key}:{kind}"
        if key not in [k for k, _ in self.sent]:  # the message ledger's claim: once per key
            self.sent.append((key, kind))


@dataclass
class World:
    returns: ReturnService
    tickets: FakeTicketStore
    store: FakeReturnStore
    ledger: FakePointsLedger
    points: PointsService
    messages: Messages


def world(notifications: frozenset[str] = frozenset()) -> World:
    """The order paid and its 77 points earned (1 point per EUR)."""
    tickets = FakeTicketStore()
    store = FakeReturnStore(tickets)
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    points.on_order(order(TOTAL), PAID_AT, CID)
    messages = Messages()
    returns = ReturnService(
        store,
        tickets,
        Orders(),
        Profiles(),
        Workspaces(notifications),
        points=points,
        outbox=FakeReturnOutbox(),
        notify=messages,
    )
    return World(returns, tickets, store, ledger, points, messages)


def delivery(topic: str, at: datetime, late: timedelta = timedelta(0)) -> Delivery:
    return Delivery(
        workspace_id=WS,
        source_id="s1",
        platform=Platform.SHOPIFY,
        topic=topic,
        triggered_at=at,
        received_at=at + late,
    )


def update(status: str, lines: tuple[tuple[str, int], ...] = (("9002", 1),)) -> ReturnUpdate:
    return ReturnUpdate(
        return_id="7001",
        status=status,
        order_id="1001",
        name="#1001-R1",
        lines=tuple(ReturnLineIn(line_item_id=i, quantity=q) for i, q in lines),
    )
