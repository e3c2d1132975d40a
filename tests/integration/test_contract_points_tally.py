"""The LedgerEraser port's contract: one suite, run against the unit tests' fake and the
DynamoDB adapter on moto. Erasing a customer's ledger folds it into the workspace's
anonymous tally: the tally and the remaining ledgers add up to what the ledgers held, a
retried erasure (even one that stopped half-way) folds each entry once, and the
customer's partition and order pointers are gone. The tally item round-trips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.adapters import points_tally
from chalicelib.adapters.points_ledger import DynamoPointsLedger, ledger_pk
from chalicelib.adapters.points_tally import DynamoPointsTally, tally_from_item, tally_item
from chalicelib.domain.enrolment import Actor
from chalicelib.domain.loyalty.adjust import AdjustmentIn, PointsAdjustments
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.tally import PointsTally
from chalicelib.domain.models import OrderStatus
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_points_tally import Crash, FakePointsTally
from tests.unit.points_orders import PAID_AT, WS, Settings, cancelled, order

__all__ = ["moto_stage"]  # the fixture the moto side asks for
ERASED, KEPT = "c_erased", "c_kept"
LATER = PAID_AT + timedelta(days=3)  # before the lots' day: reversals take from the lot


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return type("P", (), {"customer_id": customer_id})()


@dataclass
class Books:
    ledger: Any
    eraser: Any
    crash_after: Any  # (pages) -> None: the next fold stops before the page after these
    stored: Any  # (pk) -> the items left under a partition key


def _fake() -> Books:
    eraser = FakePointsTally()

    def crash_after(pages: int) -> None:
        eraser.pages_before_crash = pages

    def stored(pk: str) -> list[Any]:
        ws, cid = pk.split("#")[1], pk.split("#PTS#")[1]
        return [*eraser.ledger.ledgers.get((ws, cid), {}).values()] + (
            [eraser.ledger.balances[(ws, cid)]] if (ws, cid) in eraser.ledger.balances else []
        )

    return Books(eraser.ledger, eraser, crash_after, stored)


def _on_moto(stage: MotoStage) -> Books:
    crm = stage.crm  # one client: the crash is injected into its transactions
    eraser = DynamoPointsTally(crm)
    client = crm.client
    real = client.transact_write_items
    left: list[int | None] = [None]

    def transact(**kwargs: Any) -> Any:
        if left[0] is not None:
            if left[0] == 0:
                left[0] = None
                raise Crash()
            left[0] -= 1
        return real(**kwargs)

    client.transact_write_items = transact

    def crash_after(pages: int) -> None:
        left[0] = pages

    def stored(pk: str) -> list[Any]:
        return client.query(
            TableName=crm.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )["Items"]

    return Books(DynamoPointsLedger(crm), eraser, crash_after, stored)


books = port_fixture(_fake, _on_moto)


def _history(ledger: Any) -> None:
    """The erased customer earned 100 (30 refunded), 50 cancelled, and an operator added 20
    with a reason naming them; the kept customer earned 40."""
    points = PointsService(ledger, Settings())
    points.on_order(order("100.00", OrderStatus.PAID, order_id="1001"), LATER, ERASED)
    refunded = order("100.00", OrderStatus.PARTIALLY_REFUNDED, (("r1", "30.00", LATER),), order_id="1001")
    points.on_order(refunded, LATER, ERASED)
    points.on_order(order("50.00", order_id="1002"), LATER, ERASED)
    points.on_order(cancelled(order("50.00", order_id="1002"), LATER), LATER, ERASED)
    points.on_order(order("40.00", order_id="2001"), LATER, KEPT)
    adjust = PointsAdjustments(ledger, Settings(), Profiles())  # type: ignore[arg-type]
    body = AdjustmentIn(points=20, reason="Jane's birthday call")
    adjust.adjust(WS, ERASED, body, "k-1", Actor("cli", "cli"), LATER)


def _by_kind(ledger: Any, cid: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in ledger.entries(WS, cid, 100, None)[0]:
        out[e.key.kind] = out.get(e.key.kind, 0) + e.points
    return out


def test_erasure_folds_the_ledger_into_the_tally_and_the_books_still_add_up(books):
    # Given a customer with earned, refunded, cancelled and adjusted points, and another customer
    _history(books.ledger)
    lot = PAID_AT.date() + timedelta(days=31)
    before = books.ledger.balance(WS, ERASED)
    # 100 - 30 + 50 - 50 pending in the orders' lot, + 20 available at once in its own
    assert (before.total, before.lots) == (90, {lot: 70, LATER.date(): 20})
    assert _by_kind(books.ledger, ERASED) == {"earn": 150, "reverse": -30, "cancel": -50, "adjustment": 20}
    # When the customer's ledger is erased
    folded = books.eraser.fold(WS, ERASED)
    # Then the tally holds its sums, and the tally plus the kept ledger is what both held
    tally = books.eraser.tally(WS)
    assert folded == 5
    assert tally == PointsTally(
        total=90,
        by_kind={"earn": 150, "reverse": -30, "cancel": -50, "adjustment": 20},
        lots={lot: 70, LATER.date(): 20},
        entries=5,
        customers=1,
    )
    assert tally.total + books.ledger.balance(WS, KEPT).total == 90 + 40
    assert tally.view(lot - timedelta(days=1)).pending == 70 and tally.view(lot).available == 90
    # And nothing of the customer remains: no entry (no reason), no balance, no order pointer
    assert books.stored(ledger_pk(WS, ERASED)) == []
    assert books.ledger.earning_of(WS, "s1.1001") is None
    assert books.ledger.earning_of(WS, "s1.2001").points == 40
    assert books.ledger.balance(WS, KEPT).total == 40


def test_a_retried_erasure_folds_each_entry_once_even_after_stopping_half_way(books, monkeypatch):
    # Given the same books, folded two entries a page, and an erasure that stops after one page
    _history(books.ledger)
    monkeypatch.setattr(points_tally, "PAGE", 2)
    monkeypatch.setattr("tests.unit.fake_points_tally.PAGE", 2)
    books.crash_after(1)
    with pytest.raises(Crash):
        books.eraser.fold(WS, ERASED)
    half = books.eraser.tally(WS)
    # Then at that moment too the tally and the ledgers add up to what they held
    assert half.entries == 2 and half.customers == 0
    assert half.total + books.ledger.balance(WS, ERASED).total == 90
    # When the erasure is retried, twice
    again = books.eraser.fold(WS, ERASED)
    third = books.eraser.fold(WS, ERASED)
    # Then the rest is folded once, and the ledger closed once
    tally = books.eraser.tally(WS)
    assert (again, third) == (3, 0)
    assert (tally.total, tally.entries, tally.customers) == (90, 5, 1)
    assert tally.by_kind == {"earn": 150, "reverse": -30, "cancel": -50, "adjustment": 20}
    assert books.stored(ledger_pk(WS, ERASED)) == []


def test_erasing_a_customer_without_points_changes_nothing(books):
    # Given a workspace where only another customer has points
    _history(books.ledger)
    # When a customer who never had points is erased
    folded = books.eraser.fold(WS, "c_none")
    # Then nothing is folded, and the tally stays empty
    assert folded == 0
    assert books.eraser.tally(WS) == PointsTally()


def test_the_tally_item_round_trips():
    # Given a tally with kinds, lots and counts
    tally = PointsTally(
        total=-5, by_kind={"earn": 10, "redeem": -15}, lots={date(2026, 12, 3): 4}, entries=3, customers=2
    )
    # When it is stored and read back
    back = tally_from_item(tally_item(WS, tally))
    # Then it is the same
    assert back == tally
    assert tally_from_item(None) == PointsTally()
