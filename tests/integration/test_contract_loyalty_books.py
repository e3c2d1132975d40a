"""The LoyaltyBooks port's contract (the analytics report's liability reads): one suite,
run against the unit tests' fake and the DynamoDB adapter on moto. A page of customer ids
gives the balances and tiers of those who have one, each read in one batch, equal to what
the ledger and the tier store answer one by one; the tally is the eraser's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.adapters.loyalty_books import DynamoLoyaltyBooks
from chalicelib.adapters.points_ledger import DynamoPointsLedger, ledger_owner, ledger_pk
from chalicelib.adapters.points_tally import DynamoPointsTally
from chalicelib.adapters.tier_store import DynamoTierStore
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.tiers import TierState
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_loyalty_books import FakeLoyaltyBooks
from tests.unit.fake_points_tally import FakePointsTally
from tests.unit.points_orders import PAID_AT, WS, Settings, order

__all__ = ["moto_stage"]  # the fixture the moto side asks for
LATER = PAID_AT + timedelta(days=3)


@dataclass
class Books:
    books: Any
    ledger: Any
    tiers: Any
    eraser: Any
    batches: Any  # () -> the number of batch reads made so far


def _fake() -> Books:
    books = FakeLoyaltyBooks(eraser=FakePointsTally())
    return Books(books, books.ledger, books.tier_store, books.eraser, lambda: len(books.batches))


def _on_moto(stage: MotoStage) -> Books:
    crm = stage.crm
    client = crm.client
    real = client.batch_get_item
    calls: list[int] = []

    def batch_get_item(**kwargs: Any) -> Any:
        calls.append(1)
        return real(**kwargs)

    client.batch_get_item = batch_get_item
    return Books(
        DynamoLoyaltyBooks(crm),
        DynamoPointsLedger(crm),
        DynamoTierStore(crm),
        DynamoPointsTally(crm),
        lambda: len(calls),
    )


books = port_fixture(_fake, _on_moto)


def _history(b: Books) -> None:
    """c_1 earned 100 (gold), c_2 earned 40 (no tier recorded), c_3 earned 25 then was erased."""
    points = PointsService(b.ledger, Settings())
    points.on_order(order("100.00", order_id="1"), LATER, "c_1")
    points.on_order(order("40.00", order_id="2"), LATER, "c_2")
    points.on_order(order("25.00", order_id="3"), LATER, "c_3")
    b.eraser.fold(WS, "c_3")
    assert b.tiers.save(TierState(WS, "c_1", tier="gold", since=LATER), None)


def test_a_page_of_ids_gives_the_balances_and_tiers_of_those_who_have_them(books):
    # Given three customers' ledgers (one erased) and one recorded tier
    _history(books)
    before = books.batches()
    ids = ["c_1", "c_2", "c_3", "c_none"]
    # When a page of ids is read
    balances = books.books.balances_of(WS, ids)
    tiers = books.books.tiers_of(WS, ids)
    # Then each customer with a balance item has it, as the ledger reads it one by one
    assert balances == {cid: books.ledger.balance(WS, cid) for cid in ("c_1", "c_2")}
    assert (balances["c_1"].total, balances["c_2"].total) == (100, 40)
    # And only the recorded tier is there
    assert tiers == {"c_1": "gold"}
    # And each read was one batch
    assert books.batches() - before == 2


def test_the_tally_is_the_erased_customers_and_no_ids_read_nothing(books):
    # Given the same books
    _history(books)
    # When the tally is read, and an empty page
    tally = books.books.tally(WS)
    # Then the tally holds the erased customer's 25 points, and an empty page has nothing
    assert (tally.total, tally.customers) == (25, 1)
    assert books.books.balances_of(WS, []) == {} and books.books.tiers_of(WS, []) == {}


def test_a_balance_key_gives_back_its_customer():
    # Given customer ids, some with the key's separators
    for cid in ("c_1", "c#2", "PTS"):
        # Then the balance item's key names its customer again
        assert ledger_owner(ledger_pk(WS, cid)) == (WS, cid)
