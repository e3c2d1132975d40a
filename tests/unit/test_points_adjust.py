"""Manual points adjustments on the fakes: once per Idempotency-Key, refused when the key is
reused for another body, when the available points (pending never counts) are short, and
when the workspace's loyalty is off; the entry keeps the reason, the actor and the time."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.enrolment import Actor
from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.adjust import AdjustmentIn, PointsAdjustments, PointsRefused
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order

NOW = PAID_AT + timedelta(days=40)  # the order's points (30-day window) are available
OPERATOR = Actor("api", "key:0123456789ab")


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return SimpleNamespace(customer_id=CID) if customer_id in (CID, "c_merged") else None


def setup(rules: LoyaltyRules | None = None) -> tuple[PointsAdjustments, FakePointsLedger]:
    ledger, settings = FakePointsLedger(), Settings(rules)
    return PointsAdjustments(ledger, settings, Profiles()), ledger  # type: ignore[arg-type]


def adjust(service: PointsAdjustments, points: int, key: str, reason: str = "goodwill", at=NOW) -> Any:
    return service.adjust(WS, CID, AdjustmentIn(points=points, reason=reason), key, OPERATOR, at)


def test_an_adjustment_is_an_entry_with_its_reason_actor_and_time_written_once():
    # Given a member with no points
    service, ledger = setup()
    # When an operator adds 50 points, and the request is replayed twice with the same key
    answers = [adjust(service, 50, "k-1") for _ in range(3)]
    # Then one entry holds 50 points, the reason, who and when; every replay answers it
    assert ledger.balance(WS, CID).total == 50
    (entry,) = ledger.entries(WS, CID, 10, None)[0]
    assert (entry.key.source, entry.key.external_id, entry.key.kind) == ("manual", "k-1", "adjustment")
    assert (entry.points, entry.reason, entry.actor, entry.at) == (50, "goodwill", "key:0123456789ab", NOW)
    assert all(a == entry for a in answers)


def test_the_same_key_with_another_body_is_refused_and_adds_nothing():
    # Given an adjustment of 50 points under key k-1
    service, ledger = setup()
    adjust(service, 50, "k-1")
    # When k-1 comes again with 60 points, or with another reason
    for points, reason in ((60, "goodwill"), (50, "other")):
        with pytest.raises(PointsRefused) as refused:
            adjust(service, points, "k-1", reason)
        # Then it is refused as a reused key, and the balance stays 50
        assert refused.value.reason == "idempotency_key_reused"
    assert ledger.balance(WS, CID).total == 50


def test_a_deduction_never_takes_the_available_points_below_zero_pending_ones_do_not_count():
    # Given 100 points available from an old order and 30 added by hand, and a new order's pending 100
    service, ledger = setup(on("1", window=30))
    earner = PointsService(ledger, Settings(on("1", window=30)))
    earner.on_order(order("100.00"), PAID_AT, CID)
    pending = EntryKey("order", "s1.1002", EARN)
    ledger.earn(LedgerEntry(WS, CID, pending, 100, NOW, available_on=NOW.date() + timedelta(days=30)))
    adjust(service, 30, "k-add")
    # When 131 points are deducted (more than the 130 available, less than the total 230)
    with pytest.raises(PointsRefused) as refused:
        adjust(service, -131, "k-too-much")
    # Then it is refused as insufficient and nothing is written
    assert refused.value.reason == "insufficient_points"
    assert ledger.entry(WS, CID, EntryKey("manual", "k-too-much", "adjustment")) is None
    assert ledger.balance(WS, CID).total == 230
    # When exactly the 130 available points are deducted
    adjust(service, -130, "k-all")
    # Then none is available, the pending 100 stay pending
    view = ledger.balance(WS, CID).view(NOW.date())
    assert (view.available, view.pending, view.debt) == (0, 100, 0)


def test_loyalty_off_unknown_customer_and_zero_points_are_refused():
    # Given a workspace whose loyalty is off
    service, ledger = setup(LoyaltyRules(enabled=False))
    # When an operator adjusts a customer's points
    with pytest.raises(PointsRefused) as refused:
        adjust(service, 10, "k-1")
    # Then it is refused (loyalty_off) and nothing is written
    assert refused.value.reason == "loyalty_off" and ledger.balance(WS, CID).total == 0
    # And with loyalty on, an unknown customer is not found, and zero points is no adjustment
    service, _ = setup()
    with pytest.raises(NotFound):
        service.adjust(WS, "c_nobody", AdjustmentIn(points=5, reason="x"), "k-2", OPERATOR, NOW)
    with pytest.raises(ValidationError):
        AdjustmentIn(points=0, reason="x")
    with pytest.raises(ValidationError):
        AdjustmentIn(points=5, reason="")
