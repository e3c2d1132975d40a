"""Any order of an order's deliveries (paid, refunds, cancellation), each replayed up to
three times, gives the same balance, the same entries, and a balance that is the sum of
the ledger (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import reversed_target
from chalicelib.domain.models import OrderStatus
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, cancelled, on, order

TOTAL = "87.35"
LATER = date(2027, 6, 1)


def stored_states(deliveries: list[str], refunds: dict[str, str]):
    """What the ingest store keeps after each delivery (a stale or duplicate one changes
    nothing, and the stream may still hand the consumer its state again): refunds add up
    by id, a cancellation is final, a paid state after it is stale."""
    paid = is_cancelled = False
    seen: dict[str, str] = {}
    for delivery in deliveries:
        if delivery == "paid" and not is_cancelled:
            paid = True
        elif delivery == "cancel":
            is_cancelled = True
        elif delivery in refunds:
            seen[delivery] = refunds[delivery]
        if not paid and not is_cancelled:
            continue  # a refund alone: no order yet
        at = PAID_AT + timedelta(days=5)
        lines = tuple((rid, amount, at) for rid, amount in sorted(seen.items()))
        state = order(TOTAL, OrderStatus.PARTIALLY_REFUNDED if seen else OrderStatus.PAID, lines)
        if is_cancelled:
            state = cancelled(state, at) if paid else _cancelled_unpaid(state)
        yield state


def _cancelled_unpaid(change: IngestChange) -> IngestChange:
    image = change.order
    assert image is not None
    return IngestChange(after=replace(image, snapshot=replace(image.snapshot, status=OrderStatus.CANCELLED)))


def run(deliveries: list[str], refunds: dict[str, str]) -> FakePointsLedger:
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1.7")))
    for state in stored_states(deliveries, refunds):
        points.on_order(state, PAID_AT + timedelta(days=6), CID)
    return ledger


def entries(ledger: FakePointsLedger) -> dict:
    return {key: entry.points for key, entry in ledger.ledgers.get((WS, CID), {}).items()}


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2).map(str)


@settings(max_examples=150, deadline=None)
@given(
    refund_amounts=st.lists(amounts, max_size=3),
    cancel=st.booleans(),
    data=st.data(),
)
def test_any_order_and_replay_of_deliveries_gives_the_same_entries_and_balance(refund_amounts, cancel, data):
    # Given an order's deliveries: paid, its refunds (by id), perhaps its cancellation
    refunds = {f"r{n}": amount for n, amount in enumerate(refund_amounts)}
    in_order = ["paid", *refunds, *(["cancel"] if cancel else [])]
    # When they arrive in any order, each one to three times
    shuffled = data.draw(st.permutations(in_order))
    repeats = data.draw(st.lists(st.integers(1, 3), min_size=len(shuffled), max_size=len(shuffled)))
    deliveries = [d for d, n in zip(shuffled, repeats, strict=True) for _ in range(n)]
    ledger, reference = run(deliveries, refunds), run(in_order, refunds)

    # Then the balance is the sum of the ledger's entries, and the same as in order
    balance = ledger.balance(WS, CID)
    assert balance.total == sum(entries(ledger).values())
    earned = int(Decimal(TOTAL) * Decimal("1.7"))
    refunded = sum((Decimal(a) for a in refunds.values()), Decimal(0))
    expected = 0 if cancel else earned - reversed_target(earned, Decimal(TOTAL), refunded, False)
    assert balance.total == reference.balance(WS, CID).total == expected
    # And the same entries were written, unless the cancellation came before the payment
    # (the paid state is then stale: nothing was ever earned)
    if not cancel or shuffled.index("paid") < shuffled.index("cancel"):
        assert entries(ledger).keys() == entries(reference).keys()
    else:
        assert entries(ledger) == {}
    # And nothing pending remains past the lot's day, nothing reversed past what was earned
    assert balance.view(LATER).pending == 0
    assert all(e.reversed <= e.points for e in ledger.ledgers.get((WS, CID), {}).values() if e.rate)
