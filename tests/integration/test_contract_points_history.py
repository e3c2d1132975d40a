"""The HistoricalLedger port's contract: one suite, run against the unit tests' fake and
the DynamoDB adapter on moto. The historical entry is written once, moved only from the
points read (compare-and-set), with the balance following in the same write."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.adapters.points_history import DynamoHistoricalPoints
from chalicelib.adapters.points_ledger import DynamoPointsLedger
from chalicelib.domain.loyalty.history import HISTORICAL
from chalicelib.domain.loyalty.model import LedgerEntry
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_points_history import FakeHistoricalPoints

__all__ = ["moto_stage"]  # the fixture the moto side asks for
WS, CID = "ws_1", "c_1"
AT = datetime(2024, 11, 28, 19, 45, tzinfo=UTC)


@dataclass
class Pair:
    history: Any
    ledger: Any


def _fake() -> Pair:
    history = FakeHistoricalPoints()
    return Pair(history, history.ledger)


def _on_moto(stage: MotoStage) -> Pair:
    return Pair(DynamoHistoricalPoints(stage.crm), DynamoPointsLedger(stage.crm))


pair = port_fixture(_fake, _on_moto)


def entry(points: int, base: str, at: datetime = AT) -> LedgerEntry:
    return LedgerEntry(WS, CID, HISTORICAL, points, at, rate=Decimal(2), base=Decimal(base), currency="USD")


def _set(pair: Any, stored: LedgerEntry | None, new: LedgerEntry) -> bool:
    """The entry with all its points in the lot of its first date, and the change to add."""
    day = (stored or new).at.date()
    delta = new.points - (stored.points if stored is not None else 0)
    change = replace(new, points=delta, lots=((day, delta),))
    return pair.history.set_historical(stored, replace(new, lots=((day, new.points),)), change)


def test_the_historical_entry_is_written_once_and_moved_only_from_what_was_read(pair):
    # Given no historical entry
    # When it is written, and written again as new (a concurrent run that read nothing)
    first = _set(pair, None, entry(132, "66.00"))
    twice = _set(pair, None, entry(132, "66.00"))
    # Then it is there once, available at once, and the balance holds its points
    stored = pair.ledger.entry(WS, CID, HISTORICAL)
    assert (first, twice) == (True, False)
    assert (stored.points, stored.base, stored.at, stored.rate) == (132, Decimal("66.00"), AT, Decimal(2))
    assert (pair.ledger.balance(WS, CID).total, pair.ledger.balance(WS, CID).lots) == (132, {AT.date(): 132})
    # When a later import moves it from what was read to 152, then a stale run from 132 again
    later = replace(entry(152, "76.00"), at=AT.replace(year=2025))
    moved = _set(pair, stored, later)
    stale = _set(pair, stored, entry(999, "1.00"))
    # Then only the first move happened: the entry and the balance are 152
    now = pair.ledger.entry(WS, CID, HISTORICAL)
    assert (moved, stale) == (True, False)
    assert (now.points, now.base, now.at) == (152, Decimal("76.00"), AT.replace(year=2025))
    assert (pair.ledger.balance(WS, CID).total, pair.ledger.balance(WS, CID).lots) == (152, {AT.date(): 152})
    assert len(pair.ledger.entries(WS, CID, 50, None)[0]) == 1
