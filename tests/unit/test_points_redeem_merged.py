"""A code redemption the store fails after a merge closed the customer's balance
(docs/loyalty.md#redemption): the give-back follows the closed balance to the survivor (the
RESTORE entry on the survivor's ledger, the redemption on the merged one marked
`given_back`, one transaction), once; a replay after the merge finds the redemption on the
merged ledger and writes nothing more. On the fake here; on moto in
tests/integration/test_points_redeem_merged.py. And (hypothesis) any order of redemptions,
store failures, the merge and replays loses and doubles no point."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import StoreFailed
from chalicelib.domain.loyalty.adjust import PointsRefused
from chalicelib.domain.loyalty.merge import LedgerMerges
from chalicelib.domain.loyalty.model import (
    GIVEN_BACK,
    MADE,
    REDEEM,
    RESTORE,
    EntryKey,
    LedgerEntry,
)
from chalicelib.domain.loyalty.redeem import PointsRedemptions, RedeemIn
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import PAID_AT, Settings, on
from tests.unit.test_points_redeem import CID, D1, D2, NOW, WS, Discounts, Profiles, Sources

X, S = CID, "c_kept"  # X redeems, then is merged into S
OWN = 40  # S's own points


class MergedProfiles(Profiles):
    """X's profile until the merge; then X (and S) load S's profile, listing X as merged."""

    def __init__(self) -> None:
        super().__init__()
        self.merged = False

    def load(self, workspace_id: str, customer_id: str) -> Any:
        if customer_id not in (X, S):
            return None
        if not self.merged:
            return self.profile if customer_id == X else None
        return replace(self.profile, customer_id=S, merged_ids=[X])


class Store(Discounts):
    """The store's Admin API: fails for good for the keys in `failing`; for the keys in
    `merge_during`, X is merged into S while the store is being asked."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.failing: set[str] = set()
        self.merge_during: set[str] = set()
        self.asked: list[str] = []

    def create(self, source: Any, coupon: Any, store_customer_id: Any, email: Any) -> Any:
        key = coupon.message_key.removeprefix("redeem:")
        self.asked.append(key)
        if key in self.merge_during:
            self.world.merge()
        self.fail = key in self.failing
        return super().create(source, coupon, store_customer_id, email)


class World:
    """X with 350 points (150 on 1 Nov, 200 on 20 Nov), S with 40, the redemption service."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.profiles = MergedProfiles()
        self.store = Store(self)
        self.service = PointsRedemptions(
            ledger,
            Settings(on()),
            self.profiles,
            Sources(),
            self.store,  # type: ignore[arg-type]
        )
        for cid, day, n, key in ((X, D1, 150, "c1"), (X, D2, 200, "c2"), (S, D1, OWN, "c3")):
            entry = LedgerEntry(WS, cid, EntryKey("manual", key, "adjustment"), n, PAID_AT, lots=((day, n),))
            assert ledger.adjust(entry)

    def merge(self) -> None:
        LedgerMerges(self.ledger).transfer(WS, X, S, NOW)
        self.profiles.merged = True

    def redeem(self, points: int, key: str) -> LedgerEntry:
        return self.service.redeem(WS, X, RedeemIn(points=points), key, NOW)

    def entries(self, cid: str) -> list[LedgerEntry]:
        page, cursor = self.ledger.entries(WS, cid, 1000, None)
        assert cursor is None
        return page


def test_a_give_back_after_a_merge_restores_the_points_on_the_survivor_once():
    give_back_after_a_merge(FakePointsLedger())


def give_back_after_a_merge(ledger: Any) -> None:
    # Given X with 350 points, S with 40, and a store that fails for good while X is merged into S
    world = World(ledger)
    world.store.failing.add("r-1")
    world.store.merge_during.add("r-1")
    # When X redeems 250 points (spent on X, then the merge moves X's other 100 to S, then the
    # store fails)
    with pytest.raises(StoreFailed) as failed:
        world.redeem(250, "r-1")
    # Then the answer says the 250 points were given back
    assert failed.value.details == {"reason": "store_failed", "restored_points": 250}
    # And the redemption on X's (closed) ledger is `given_back`, its RESTORE on S's, same lots
    redemption = world.ledger.entry(WS, X, EntryKey(REDEEM, "r-1", REDEEM))
    assert redemption is not None and redemption.state == GIVEN_BACK
    back = world.ledger.entry(WS, S, EntryKey(REDEEM, "r-1", RESTORE))
    assert back is not None and (back.points, back.lots) == (250, ((D1, 150), (D2, 100)))
    assert world.ledger.entry(WS, X, EntryKey(REDEEM, "r-1", RESTORE)) is None
    # And every point is back, on S: 350 + 40, each balance the sum of its ledger
    gone, kept = world.ledger.balance(WS, X), world.ledger.balance(WS, S)
    assert (gone.total, gone.moved_to) == (0, S) and sum(e.points for e in world.entries(X)) == 0
    assert kept.total == 390 == sum(e.points for e in world.entries(S))
    assert (kept.lots, kept.debt) == ({D1: 150 + OWN, D2: 200}, 0)
    # When the request is replayed twice (X now loads S's profile)
    before = (world.entries(X), world.entries(S))
    for _ in range(2):
        with pytest.raises(StoreFailed) as again:
            world.redeem(250, "r-1")
        assert again.value.details == {"reason": "store_failed", "restored_points": 250}
    # Then nothing more is written, on either ledger, and the store was asked once
    assert (world.entries(X), world.entries(S)) == before
    assert world.store.asked == ["r-1"]


# any order: redemptions by X (the store fails or not, X merged during the call or not),
# the merge on its own, each step replayed one to three times
steps = st.lists(
    st.one_of(
        st.tuples(st.just("redeem"), st.integers(min_value=100, max_value=200), st.booleans(), st.booleans()),
        st.tuples(st.just("merge"), st.just(0), st.just(False), st.just(False)),
    ),
    max_size=8,
)


def check_no_point_lost_or_doubled(world: World) -> None:
    """Each balance is the sum of its ledger; X is closed at 0; every redemption is once,
    given back once (its RESTORE on one ledger) or made and never given back; S holds what
    was there less what was redeemed for a code made."""
    entries = {cid: world.entries(cid) for cid in (X, S)}
    for cid in (X, S):
        balance = world.ledger.balance(WS, cid)
        assert balance.total == sum(e.points for e in entries[cid])
        assert balance.total == sum(balance.lots.values()) - balance.debt and balance.debt >= 0
    assert world.ledger.balance(WS, X).total == 0
    redemptions = [e for cid in (X, S) for e in entries[cid] if e.key.kind == REDEEM]
    restores = [e for cid in (X, S) for e in entries[cid] if e.key.kind == RESTORE]
    keys = [e.key.external_id for e in redemptions]
    assert len(keys) == len(set(keys))
    given_back = sorted(e.key.external_id for e in redemptions if e.state == GIVEN_BACK)
    assert sorted(e.key.external_id for e in restores) == given_back
    assert {e.state for e in redemptions} <= {MADE, GIVEN_BACK}
    spent = sum(-e.points for e in redemptions if e.state == MADE)
    assert world.ledger.balance(WS, S).total == 350 + OWN - spent


@settings(max_examples=150, deadline=None)
@given(plan=steps, replays=st.lists(st.integers(min_value=1, max_value=3), min_size=8, max_size=8))
def test_any_order_of_redemptions_failures_merge_and_replays_loses_and_doubles_no_point(plan, replays):
    # Given X with 350 points and S with 40
    world = World(FakePointsLedger())
    # When each step runs one to three times (the merge at the end at the latest)
    for n, (kind, points, fails, merge_during) in enumerate([*plan, ("merge", 0, False, False)]):
        key = f"r-{n}"
        if fails:
            world.store.failing.add(key)
        if merge_during:
            world.store.merge_during.add(key)
        for _ in range(replays[n % len(replays)]):
            if kind == "merge":
                world.merge()
                continue
            with contextlib.suppress(PointsRefused, StoreFailed):
                world.redeem(points, key)
    # Then no point was lost or doubled, over both ids
    check_no_point_lost_or_doubled(world)
