"""Merges' last gaps (docs/loyalty.md#merged-profiles-one-balance): a merged id without a
balance is closed all the same, so a late earning for it follows to the survivor; and a
once-ever bonus (first order, enrolment) is once per person after a merge, whatever the
order of the merge, the earnings, the enrolments and their replays (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.loyalty.bonuses import FirstOrderBonus, PointsActions
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.merge import LedgerMerges
from chalicelib.domain.loyalty.model import EARN, MERGE, EntryKey
from chalicelib.domain.loyalty.once_ever import DUPLICATE, claim_points
from chalicelib.domain.loyalty.rules import BONUS
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import PAID_AT, WS, Settings, on, order

X, S = "c_gone", "c_kept"
NOW = PAID_AT + timedelta(days=3)
FIRST, JOINED = 50, 25
RULES = replace(on("1", window=0), bonuses={"first_order": FIRST, "enrolment": JOINED})


def profiles(merged: bool) -> Any:
    """S's profile before and after X was merged into it."""
    before = SimpleNamespace(workspace_id=WS, customer_id=S, merged_ids=[])
    return before, SimpleNamespace(workspace_id=WS, customer_id=S, merged_ids=[X] if merged else [])


def first_orders(ledger: FakePointsLedger) -> FirstOrderBonus:
    """Orders' points with the first-order bonus (no profile read: credit takes the id)."""
    return FirstOrderBonus(
        PointsService(ledger, Settings(RULES)),
        PointsActions(ledger, Settings(RULES), None),  # type: ignore[arg-type]
    )


def ledger_total(ledger: FakePointsLedger) -> int:
    return sum(e.points for entries in ledger.ledgers.values() for e in entries.values())


def bonus_points(ledger: FakePointsLedger, action: str) -> int:
    """The points of `action`'s bonus the person holds: every bonus entry, less the reversals."""
    entries = [e for entries in ledger.ledgers.values() for e in entries.values()]
    given_ = sum(e.points for e in entries if e.key == EntryKey(BONUS, action, BONUS))
    taken = sum(e.points for e in entries if e.key.kind == DUPLICATE and e.key.external_id.endswith(action))
    return given_ + taken


def test_a_merged_id_without_a_balance_is_closed_and_a_late_earning_follows_to_the_survivor():
    # Given S with an order, and X (no points, no balance item) merged into S
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    points.on_order(order("30.00", order_id="1"), NOW, S)
    before, after = profiles(merged=True)
    LedgerMerges(ledger).on_profile(before, after, NOW)
    # When a late delivery of X's order arrives after the merge, three times
    for _ in range(3):
        points.on_order(order("100.00", order_id="2"), NOW, X)
    # Then X's balance is closed into S and empty, the earning is on S once
    gone, kept = ledger.balance(WS, X), ledger.balance(WS, S)
    assert (gone.recorded, gone.moved_to, gone.total) == (True, S, 0)
    assert EntryKey("order", "s1.2", EARN) in ledger.ledgers[(WS, S)]
    assert ledger.ledgers.get((WS, X), {}) == {}
    assert kept.total == 130 == ledger_total(ledger)


def test_a_replayed_merge_of_an_id_without_a_balance_writes_nothing_more():
    # Given X (no balance) merged into S
    ledger = FakePointsLedger()
    before, after = profiles(merged=True)
    merges = LedgerMerges(ledger)
    # When the profile change is handed over three times
    results = [merges.on_profile(before, after, NOW) for _ in range(3)]
    # Then nothing was moved, X is closed into S, and no entry exists anywhere
    assert results == [[], [], []]
    assert ledger.balance(WS, X).moved_to == S and ledger_total(ledger) == 0


def test_both_profiles_first_order_bonus_leaves_one_after_the_merge_replayed():
    # Given X and S each with a first order (and its bonus of 50)
    ledger = FakePointsLedger()
    earning = first_orders(ledger)
    earning.on_order(order("100.00", order_id="1"), NOW, X)
    earning.on_order(order("30.00", order_id="2"), NOW, S)
    assert bonus_points(ledger, "first_order") == 2 * FIRST
    # When X is merged into S, and the merge is replayed twice
    before, after = profiles(merged=True)
    written = [LedgerMerges(ledger).on_profile(before, after, NOW) for _ in range(3)]
    # Then X's bonus was taken back on S by one keyed entry; the replays wrote nothing
    dup = ledger.ledgers[(WS, S)][EntryKey(MERGE, f"{X}.first_order", DUPLICATE)]
    assert dup.points == -FIRST
    assert [e.key for e in written[0]] == [EntryKey(MERGE, X, "transfer_in"), dup.key]
    assert written[1:] == [[], []]
    assert bonus_points(ledger, "first_order") == FIRST
    assert ledger.balance(WS, S).total == 100 + 30 + FIRST == ledger_total(ledger)


def test_a_merged_ids_bonus_claims_the_key_so_the_survivors_first_order_earns_none():
    # Given X with a first order (bonus 50), merged into S who has none
    ledger = FakePointsLedger()
    earning = first_orders(ledger)
    earning.on_order(order("100.00", order_id="1"), NOW, X)
    before, after = profiles(merged=True)
    LedgerMerges(ledger).on_profile(before, after, NOW)
    # When S's own first order arrives afterwards
    written = earning.on_order(order("30.00", order_id="2"), NOW, S)
    # Then it earns its points, and no second first-order bonus: S holds X's claim
    assert [e.key.kind for e in written] == [EARN]
    claim = ledger.ledgers[(WS, S)][EntryKey(BONUS, "first_order", BONUS)]
    assert (claim.points, claim_points(claim)) == (0, FIRST)
    assert bonus_points(ledger, "first_order") == FIRST
    assert ledger.balance(WS, S).total == 100 + 30 + FIRST == ledger_total(ledger)


# any order of: an order or an enrolment of X or S, the merge; each replayed 1 to 3 times
steps = st.lists(
    st.tuples(
        st.sampled_from(["order", "enrol", "merge"]),
        st.sampled_from([X, S]),
        st.sampled_from(["1", "2", "3"]),
    ),
    max_size=10,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps, replays=st.lists(st.integers(min_value=1, max_value=3), min_size=11, max_size=11))
def test_any_order_of_merge_earnings_and_enrolments_replayed_keeps_one_bonus_per_person(steps, replays):
    # Given first-order and enrolment bonuses, X and S as one person once merged
    ledger = FakePointsLedger()
    actions = PointsActions(ledger, Settings(RULES), None)  # type: ignore[arg-type]
    earning = FirstOrderBonus(PointsService(ledger, Settings(RULES)), actions)
    merges = LedgerMerges(ledger)
    steps = [*steps, ("merge", S, "")]  # the merge happens (at the end at the latest)
    ordered, enrolled = set(), False
    # When every step runs one to three times (a stale step after the merge still names X)
    for n, (kind, cid, order_id) in enumerate(steps):
        for _ in range(replays[n]):
            if kind == "order":
                earning.on_order(order("100.00", order_id=order_id), NOW, cid)
                ordered.add(order_id)
            elif kind == "enrol":
                actions.credit(WS, cid, "enrolment", NOW)
                enrolled = True
            else:
                merges.on_profile(*profiles(merged=True), NOW)
    # Then the survivor's balance is the sum of every entry of both ledgers (X's closed at 0)
    gone, kept = ledger.balance(WS, X), ledger.balance(WS, S)
    assert (gone.moved_to, gone.total) == (S, 0)
    assert kept.total == ledger_total(ledger) == sum(kept.lots.values()) - kept.debt
    # And the person holds each once-ever bonus once (or never)
    assert bonus_points(ledger, "first_order") == (FIRST if ordered else 0)
    assert bonus_points(ledger, "enrolment") == (JOINED if enrolled else 0)
    assert kept.total == 100 * len(ordered) + (FIRST if ordered else 0) + (JOINED if enrolled else 0)


def test_a_birthday_bonus_of_the_same_year_on_both_profiles_is_kept_once():
    # Given X and S each credited the birthday bonus of 2026 (and X that of 2025)
    ledger = FakePointsLedger()
    rules = replace(RULES, bonuses={**RULES.bonuses, "birthday": 10})
    actions = PointsActions(ledger, Settings(rules), None)  # type: ignore[arg-type]
    for cid, year in ((X, 2025), (X, 2026), (S, 2026)):
        assert actions.credit(WS, cid, "birthday", NOW, f"birthday:{year}") is not None
    # When X is merged into S (and the merge replayed)
    for _ in range(2):
        LedgerMerges(ledger).on_profile(*profiles(merged=True), NOW)
    # Then 2026's is held once (X's taken back), 2025's becomes S's claim: 2026's and
    # 2025's birthdays credit S nothing more
    assert bonus_points(ledger, "birthday:2026") == 10 and bonus_points(ledger, "birthday:2025") == 10
    assert actions.credit(WS, S, "birthday", NOW, "birthday:2025") is None
    assert ledger.balance(WS, S).total == 20 == ledger_total(ledger)
