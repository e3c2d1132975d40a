"""Erasure folds ledgers into the anonymous tally: whatever the ledgers, whichever
customers are erased, and wherever an erasure stops before its retry, the tally plus the
remaining ledgers hold what the ledgers held, per kind and per lot, and each entry is
folded once (hypothesis, on the fake)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.tally import PointsTally, fold
from tests.unit import fake_points_tally
from tests.unit.fake_points_tally import Crash, FakePointsTally
from tests.unit.points_orders import PAID_AT, WS

DAY = date(2026, 12, 3)
CUSTOMERS = ["c_1", "c_2", "c_3"]

entries = st.lists(
    st.tuples(
        st.sampled_from(CUSTOMERS),
        st.sampled_from(["earn", "reverse", "adjustment", "redeem"]),
        st.integers(-500, 500),
        st.one_of(st.none(), st.integers(0, 3)),  # an earning's lot's day
    ),
    max_size=30,
)


def _books(rows: list[tuple[str, str, int, int | None]]) -> FakePointsTally:
    eraser = FakePointsTally()
    for i, (cid, kind, points, lot) in enumerate(rows):
        day = DAY + timedelta(days=lot) if lot is not None else None
        entry = LedgerEntry(
            WS,
            cid,
            EntryKey("order" if kind == EARN else "x", f"s1.{i}", kind),
            points,
            PAID_AT,
            order_id=f"s1.{i}" if kind == EARN else None,
            available_on=day if kind == EARN else None,
            # a credit adds to its lot (the ledger gives one); a debit here is a debt
            debt=-points if points < 0 else 0,
        )
        assert eraser.ledger.earn(entry)
    return eraser


def _everything(eraser: FakePointsTally) -> PointsTally:
    """The tally plus every remaining ledger, as one tally (ledger counts aside)."""
    rest = fold(e for ledger in eraser.ledger.ledgers.values() for e in ledger.values())
    whole = eraser.tally(WS).plus(rest)
    return PointsTally(
        whole.total, {k: n for k, n in whole.by_kind.items() if n}, _nonzero(whole.lots), debt=whole.debt
    )


def _nonzero(lots: dict[date, int]) -> dict[date, int]:
    return {d: n for d, n in lots.items() if n}


@settings(max_examples=150, deadline=None)
@given(entries, st.sets(st.sampled_from(CUSTOMERS)), st.integers(0, 4), st.integers(1, 5))
def test_the_tally_and_the_remaining_ledgers_always_hold_what_the_ledgers_held(rows, erased, stop, page):
    # Given ledgers of any entries, folded `page` entries at a time
    eraser = _books(rows)
    before = _everything(eraser)
    balances = sum(eraser.ledger.balance(WS, c).total for c in CUSTOMERS)
    fake_points_tally.PAGE = page
    try:
        # When some customers are erased, the first erasure stopping after `stop` pages, and
        # every erasure is retried
        for i, cid in enumerate(sorted(erased)):
            eraser.pages_before_crash = stop if i == 0 else None
            try:
                eraser.fold(WS, cid)
            except Crash:
                assert _everything(eraser) == before  # half-way too
            eraser.fold(WS, cid)
            eraser.fold(WS, cid)
    finally:
        fake_points_tally.PAGE = 40
    # Then the sums per kind and per lot are what they were, each erased entry was folded once,
    # the erased customers have no entry, and the tally plus the balances is the old sum
    tally = eraser.tally(WS)
    assert _everything(eraser) == before
    assert tally.entries == sum(1 for row in rows if row[0] in erased)
    assert tally.customers == len({row[0] for row in rows if row[0] in erased})
    assert all(not eraser.ledger.ledgers.get((WS, cid)) for cid in erased)
    assert tally.total + sum(eraser.ledger.balance(WS, c).total for c in CUSTOMERS) == balances
