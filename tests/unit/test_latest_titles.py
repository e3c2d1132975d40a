"""`last_product`: the first line title of the latest order that counts, derived from the
order entries (each counted one keeps its first title; the moved ones' summary keeps the
latest of theirs), so it depends on the set of the orders' states only, not on the order
or grouping in which they arrive. An older release's stored `lpt` is read until an entry
supersedes it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import records
from chalicelib.adapters.profile_items import order_entry_item, profile_item, profile_of
from chalicelib.domain.customer_profile import LatestTitles
from chalicelib.domain.profiles import Profile
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.unit.test_bounded_profiles import BASKET, START, State, apply_all, delivery

USD = Decimal("20.00")
SETTINGS = WorkspaceSettings("ws_test", "USD", "salt")


def placed(order: int, day: int, cancelled: bool = False, version: int = 1) -> State:
    return State(order, version, day, "USD", USD, Decimal(0), cancelled, (order % len(BASKET),))


def title(order: int) -> str:
    return f"{BASKET[order % len(BASKET)][0]} of order {order}"


def test_an_order_cancelled_after_creation_and_one_arriving_cancelled_leave_the_same_last_product():
    # Given a customer's order 1 (day 1) and order 2 (day 2), and order 2's cancellation
    first, second = placed(1, 1), placed(2, 2)
    cancelled = placed(2, 2, cancelled=True, version=2)
    # When one stream delivers order 2 created, then cancelled, and another delivers it
    # once, already cancelled (before order 1)
    both_states = apply_all([delivery(first), delivery(second), delivery(cancelled)]).profile()
    once = apply_all([delivery(cancelled), delivery(first)]).profile()
    # Then both profiles name order 1's product: the cancelled order's titles are gone
    assert profile_of(both_states).last_product == profile_of(once).last_product == title(1)
    assert both_states["o"] == once["o"]
    # And a fully refunded order still counts, as it does for the order count
    refunded = State(1, 2, 1, "USD", USD, USD, False, first.products)
    profile = profile_of(apply_all([delivery(first), delivery(refunded)]).profile())
    assert profile.orders_count == 1 and profile.last_product == title(1)


def _histories(draw: Any) -> list[list[State]]:
    out = []
    for order in range(draw(st.integers(1, 6))):
        day = draw(st.integers(0, 4))
        states = [placed(order, day)]
        if draw(st.booleans()):
            states.append(State(order, 2, day, "USD", USD, USD, False, states[0].products))  # refunded
        if draw(st.booleans()):
            states.append(placed(order, day, cancelled=True, version=len(states) + 1))
        out.append(states)
    return out


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), bound=st.sampled_from([1, 2, 8]))
def test_last_product_depends_on_the_orders_states_only(data: st.DataObject, bound: int):
    # Given a customer's orders, some refunded, some cancelled, placed on a few days
    histories = _histories(data.draw)
    # And a schedule: each order's states, some skipped (a later state arrives alone),
    # in any order, some delivered twice, with a profile bound that moves entries out
    sent = [s for h in histories for s in h if s is h[-1] or data.draw(st.booleans())]
    sent += data.draw(st.lists(st.sampled_from(sent), max_size=4))
    schedule = data.draw(st.permutations(sent))
    # When they are applied
    profile = profile_of(apply_all([delivery(s) for s in schedule], bound=bound).profile())
    # Then last_product is the first title of the latest counted order's final state
    final = [h[-1] for h in histories if not h[-1].cancelled]
    latest = max(final, key=lambda s: (s.day, s.order), default=None)
    assert profile.last_product == (title(latest.order) if latest is not None else None)


# -- a profile an older release stored, with its `lpt` and entries without titles --------


def _at(day: int) -> int:
    return int((START + timedelta(days=day)).timestamp())


def _legacy(order_day: int, counted: bool = True) -> Profile:
    entry: dict[str, Any] = {"v": 1, "t": _at(order_day), "a": USD}
    if not counted:
        entry["x"] = True
    item: dict[str, Any] = {
        "pk": "W#ws_test#P#c_1",
        "sk": "P",
        "t": "profile",
        "ws": "ws_test",
        "cid": "c_1",
        "rev": 1,
        "lpt": {"t": _at(order_day), "n": ["Old hook", "Old line"]},
        "o": {"src_1.old": entry},
    }
    assert profile_item(profile_of(item)) == item  # it round-trips as it was
    return Profile.load(profile_of(item))


def _set(profile: Profile, key: str, state: State) -> None:
    profile.set_order(key, records.snapshot(delivery(state)), SETTINGS)
    profile.recompute(SETTINGS)


def test_an_older_release_s_lpt_is_read_until_an_entry_supersedes_it():
    # Given a profile stored by an older release: its lpt names its order of day 20
    profile = _legacy(20)
    assert profile.state.last_product == "Old hook"
    # When an earlier order arrives, with its title
    _set(profile, "src_1.G-1", placed(1, 1))
    # Then the old lpt still wins (it is later), and stays stored
    assert profile.state.last_product == "Old hook"
    assert profile_item(profile.state)["lpt"]["n"] == ["Old hook", "Old line"]
    assert order_entry_item(profile.state.orders["src_1.G-1"])["n"] == title(1)
    # When a later order arrives
    _set(profile, "src_1.G-2", placed(2, 40))
    # Then it is the last product, and the old lpt is no longer stored
    assert profile.state.last_product == title(2)
    assert "lpt" not in {k: v for k, v in profile_item(profile.state).items() if v is not None}


def test_an_older_release_s_lpt_goes_when_its_order_stops_counting():
    # Given an older release's profile whose lpt order is now held cancelled
    profile = _legacy(20, counted=False)
    # When any write recomputes it
    profile.recompute(SETTINGS)
    # Then the old titles are gone: nothing counted has a title
    assert profile.state.latest_titles is None and profile.state.last_product is None


def test_merging_keeps_the_later_of_two_older_releases_titles_until_entries_supersede_them():
    # Given two older-release profiles of one person, with lpt of days 20 and 30
    mine, theirs = _legacy(20), _legacy(30)
    theirs.state.customer_id = "c_2"
    theirs.state.orders = {"src_1.older": theirs.state.orders.pop("src_1.old")}
    # When they merge
    mine.merge_from(theirs)
    mine.recompute(SETTINGS)
    # Then the later one is the last product
    assert mine.state.latest_titles == LatestTitles(_at(30), ["Old hook", "Old line"])
    assert mine.state.last_product == "Old hook"
