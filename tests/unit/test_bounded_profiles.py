"""A profile stays bounded however many orders its customer places, with exact aggregates.

Older order entries move to their own items; the profile keeps the recent ones and a
summary of the moved ones (docs/data-model.md, "Profiles"). The reference below is the
straightforward sum over every order's latest state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.codec import to_item
from chalicelib.adapters.order_items import ingest_change, order_detail
from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain import predict, profiles, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.customers import CustomerService, ProfileView
from chalicelib.domain.models import Platform
from chalicelib.domain.money import round_money
from chalicelib.domain.order_snapshot import OrderDetail, public_order_id
from chalicelib.domain.profiles import RECENT_ORDERS
from patron.bench.capacity import item_size
from tests.conftest import load_event
from tests.unit.fakes import FakeWorkspaces, new_service, order_item

JANE = "jane.doe@example.com"
BASKET = [("sku-a", "tea"), ("sku-b", "tea"), ("sku-c", "cups"), ("sku-d", "cups"), ("sku-e", "gifts")]
RATES = {"USD": Decimal(1), "EUR": Decimal("1.10")}  # FakeWorkspaces' table; GBP has no rate
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class State:
    """One state of one order, as the storefront sends it."""

    order: int
    version: int
    day: int
    currency: str
    total: Decimal
    refund: Decimal
    cancelled: bool
    products: tuple[int, ...]


def body(s: State) -> dict[str, Any]:
    created = (START + timedelta(days=s.day, minutes=s.order)).isoformat()
    updated = (START + timedelta(days=s.day, minutes=s.order, hours=s.version)).isoformat()
    order = load_event("generic/order.json")
    order.update(
        id=f"G-{s.order}",
        currency=s.currency,
        total=str(s.total),
        status="cancelled" if s.cancelled else "paid",
        channel="pos" if s.order % 3 == 0 else "web",
        created_at=created,
        updated_at=updated,
        customer={"email": JANE},
        line_items=[
            {
                "product_id": BASKET[i][0],
                "title": f"{BASKET[i][0]} of order {s.order}",  # `last_product` names its order
                "quantity": 1,
                "price": "1.00",
                "category": BASKET[i][1],
            }
            for i in s.products
        ],
        refunds=(
            [{"id": f"R-{s.order}", "amount": str(s.refund), "created_at": updated}] if s.refund else []
        ),
    )
    return order


def delivery(s: State) -> dict[str, Any]:
    return order_item(Platform.GENERIC, "order", body(s), v=s.version)


def histories(rng: random.Random, orders: int) -> list[list[State]]:
    """Each order's states: placed, then maybe edited or refunded, then maybe cancelled."""
    out = []
    for n in range(orders):
        day = rng.randrange(0, 40)
        currency = rng.choice(["USD", "USD", "EUR", "GBP"])
        total = Decimal(rng.randrange(500, 9000)) / 100
        products = tuple(sorted(rng.sample(range(len(BASKET)), rng.randint(1, 3))))
        states = [State(n, 1, day, currency, total, Decimal(0), False, products)]
        if rng.random() < 0.4:
            refund = (total / 4).quantize(Decimal("0.01"))
            states.append(State(n, 2, day, currency, total, refund, False, products))
        if rng.random() < 0.2:
            last = states[-1]
            states.append(State(n, len(states) + 1, day, currency, total, last.refund, True, products))
        out.append(states)
    return out


def straightforward(final: list[State]) -> dict[str, Any]:
    """The aggregates summed directly over every order's latest state."""
    counted = [s for s in final if not s.cancelled]
    converted = [s for s in counted if s.currency in RATES]
    # converted into the USD workspace, rounded half up to cents (chalicelib.domain.money)
    spent = sum((round_money(s.total * RATES[s.currency], "USD") for s in converted), Decimal(0))
    refunded = sum((round_money(s.refund * RATES[s.currency], "USD") for s in converted), Decimal(0))
    times = sorted(START + timedelta(days=s.day, minutes=s.order) for s in counted)
    unconverted: dict[str, Decimal] = {}
    for s in counted:
        if s.currency not in RATES:
            unconverted[s.currency] = unconverted.get(s.currency, Decimal(0)) + s.total
    gap = None
    if len(times) >= 2:
        gap = (Decimal((times[-1] - times[0]).total_seconds()) / 86400 / (len(times) - 1)).quantize(
            Decimal("0.01")
        )
    return {
        "orders_count": len(counted),
        "total_spent": spent,
        "total_refunded": refunded,
        "net_spent": spent - refunded,
        "unconverted_spent": unconverted,
        "first_order_at": times[0] if times else None,
        "last_order_at": times[-1] if times else None,
        "average_days_between_orders": gap,
        "products": sorted({BASKET[i][0] for s in counted for i in s.products}),
        "categories": sorted({BASKET[i][1] for s in counted for i in s.products}),
        "channels": sorted({"pos" if s.order % 3 == 0 else "web" for s in counted}),
        # the first line of the latest order that counts (a refunded one still counts)
        "last_product": max(
            ((s.day, s.order, f"{BASKET[s.products[0]][0]} of order {s.order}") for s in counted),
            default=(None, None, None),
        )[2],
    }


def figures(profile: CustomerProfile) -> dict[str, Any]:
    v = ProfileView.of(profile)

    def at(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    return {
        "orders_count": v.orders_count,
        "total_spent": Decimal(v.total_spent),
        "total_refunded": Decimal(v.total_refunded),
        "net_spent": Decimal(v.net_spent),
        "unconverted_spent": {k: Decimal(a) for k, a in v.unconverted_spent.items()},
        "first_order_at": at(v.first_order_at),
        "last_order_at": at(v.last_order_at),
        "average_days_between_orders": (
            Decimal(v.average_days_between_orders) if v.average_days_between_orders else None
        ),
        "products": v.products,
        "categories": v.categories,
        "channels": v.channels,
        "last_product": profile.last_product,
    }


def apply_all(deliveries: list[dict[str, Any]], bound: int = RECENT_ORDERS) -> Any:
    service, store = new_service()
    with mock.patch.object(profiles, "RECENT_ORDERS", bound):
        for item in deliveries:
            service.apply_change(ingest_change(None, item))
    return store


def test_a_customer_with_many_more_orders_than_the_bound_keeps_a_small_profile_with_exact_aggregates():
    # Given one customer's 120 orders (15 times the bound), some refunded, some in euros or
    # pounds (no rate), some cancelled after payment, every state delivered in order
    rng = random.Random(7)
    orders = histories(rng, 120)
    deliveries = [delivery(s) for states in orders for s in states]
    # When the ingest stream applies them
    service, store = new_service()
    sizes = []
    for item in deliveries:
        service.apply_change(ingest_change(None, item))
        sizes.append(item_size(to_item(store.profile())))
    # Then the profile item never grew past a fixed size: the first orders' profile, plus
    # the bound's worth of entries and the summary of the moved ones
    assert max(sizes) < 3000
    assert max(sizes[-100:]) <= max(sizes[:40]) + 200
    profile = store.profile()
    assert len(profile["o"]) <= RECENT_ORDERS
    # And every aggregate is the straightforward sum over every order's latest state
    assert figures(profile_of(profile)) == straightforward([states[-1] for states in orders])
    # And the moved orders are in their own items, each at its latest version
    moved = store.moved_entries("ws_test", [profile["cid"]])
    assert len(moved) + len(profile["o"]) == 120
    assert {e.version for e in moved.values()} <= {1, 2, 3}


def test_moved_orders_stay_on_the_timeline_and_in_the_model_inputs():
    # Given a customer with 30 orders, most of them moved out of the profile
    orders = histories(random.Random(3), 30)
    deliveries = [delivery(s) for states in orders for s in states]
    bounded = apply_all(deliveries)
    everything = apply_all(deliveries, bound=10**6)  # the profile as it was: every entry in it
    # When the timeline and the model's summary are read
    latest = _Orders([delivery(history[-1]) for history in orders])
    customers = CustomerService(bounded, orders=latest, workspaces=FakeWorkspaces())
    detail = customers.get("ws_test", bounded.profile()["cid"])
    # Then the timeline asks for the 30 orders, newest first, moved ones included
    placed = {k: i["ca"] for k, i in latest.items.items()}
    assert sorted(latest.asked) == sorted(placed)
    assert [placed[k] for k in latest.asked] == sorted(placed.values(), reverse=True)
    assert len([e for e in detail.timeline if e.type == "order_placed"]) == 30
    # And the model inputs and bought products are those of the profile holding every entry
    bounded_profile, everything_profile = profile_of(bounded.profile()), profile_of(everything.profile())
    assert predict.summary(bounded_profile, NOW) == predict.summary(everything_profile, NOW)
    assert bounded_profile.products_bought() == everything_profile.products_bought()


class _Orders:
    """The ingest table's order items, by key."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = {public_order_id(i["src"], i["oid"]): i for i in items}
        self.asked: list[str] = []

    def order_details(self, workspace_id: str, order_ids: list[str]) -> list[OrderDetail]:
        self.asked.extend(order_ids)
        return [order_detail(self.items[k]) for k in order_ids if k in self.items]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), orders=st.integers(RECENT_ORDERS + 1, 3 * RECENT_ORDERS), data=st.data())
def test_any_permutation_and_duplication_of_deliveries_gives_the_straightforward_aggregates(
    seed: int, orders: int, data: st.DataObject
) -> None:
    # Given one customer's orders, more than the bound, each with its states
    states = histories(random.Random(seed), orders)
    every = [s for history in states for s in history]
    # And the stream delivering them in any order, some of them more than once
    repeats = data.draw(st.lists(st.sampled_from(every), max_size=len(every)))
    deliveries = data.draw(st.permutations(every + repeats))
    # When they are applied
    store = apply_all([delivery(s) for s in deliveries])
    # Then the aggregates are those of every order's latest state, summed directly
    profile = store.profile()
    assert figures(profile_of(profile)) == straightforward([h[-1] for h in states])
    assert len(profile["o"]) <= RECENT_ORDERS + 1
    # And the model inputs equal those of a profile that keeps every entry
    reference = apply_all([delivery(h[-1]) for h in states], bound=10**6)
    assert predict.summary(profile_of(profile), NOW) == predict.summary(profile_of(reference.profile()), NOW)


def test_a_merge_brings_the_moved_orders_of_both_profiles_and_later_changes_stay_exact():
    # Given a phone-only profile and an email-only profile of the same person, each with
    # more orders than the bound (most of them moved out)
    rng = random.Random(11)
    by_phone = histories(rng, 2 * RECENT_ORDERS)
    by_email = [[_renumbered(s, 100) for s in h] for h in histories(rng, 2 * RECENT_ORDERS)]
    service, store = new_service()
    for history in by_phone:
        service.apply_change(ingest_change(None, _with_contact(delivery(history[0]), phone=PHONE)))
    for history in by_email:
        service.apply_change(ingest_change(None, delivery(history[0])))
    assert len(store.profiles()) == 2
    # When an order with both the email and the phone merges them
    both = State(500, 1, 45, "USD", Decimal("12.00"), Decimal(0), False, (0,))
    result = service.apply_change(ingest_change(None, _with_contact(delivery(both), phone=PHONE)))
    # Then one profile holds all of them, moved ones of the merged-away profile included
    assert result.merged
    placed = [h[0] for h in by_phone + by_email] + [both]
    assert figures(profile_of(store.profile())) == straightforward(placed)
    # And a later change of a moved order of the merged-away profile (a refund, then a
    # cancellation), delivered twice, is counted exactly once
    lost = by_email if result.customer_id != _email_id() else by_phone
    merged_away = min((h[0] for h in lost), key=lambda s: (s.day, s.order))  # moved out before
    survivor = store.profile()
    assert f"src_1.G-{merged_away.order}" not in survivor["o"]
    assert f"src_1.G-{merged_away.order}" in store.moved_entries("ws_test", survivor["mrg"])
    refunded = State(
        merged_away.order,
        2,
        merged_away.day,
        merged_away.currency,
        merged_away.total,
        Decimal("1.00"),
        False,
        merged_away.products,
    )
    cancelled = State(
        refunded.order,
        3,
        refunded.day,
        refunded.currency,
        refunded.total,
        refunded.refund,
        True,
        refunded.products,
    )
    for later in (refunded, refunded, cancelled, cancelled):
        item = delivery(later)
        if lost is by_phone:
            item = _with_contact(item, phone=PHONE)
        service.apply_change(ingest_change(None, item))
    final = [cancelled if s.order == merged_away.order else s for s in placed]
    assert figures(profile_of(store.profile())) == straightforward(final)
    # And the merge record counts every order the merged-away profile held
    (record,) = store.of_type("merge")
    assert record["orders_moved"] == 2 * RECENT_ORDERS


PHONE = "+12125550147"


def _email_id() -> str:
    from chalicelib.domain.identity import customer_id_for
    from tests.unit.fakes import SALT

    return customer_id_for(SALT, "email:" + JANE)


def _renumbered(s: State, offset: int) -> State:
    return State(s.order + offset, s.version, s.day, s.currency, s.total, s.refund, s.cancelled, s.products)


def _with_contact(item: dict[str, Any], phone: str) -> dict[str, Any]:
    """The same order item with the phone as its only contact, or added to the email."""
    person = dict(item["p"])
    person["ph"] = phone
    if item["oid"].startswith("G-") and int(item["oid"][2:]) < 100:
        person.pop("e", None)
    return item | {"p": person}


def test_an_order_dated_decades_away_does_not_inflate_the_profile():
    # Given a customer's orders over a month, and one dated 55 years earlier (a test order)
    states = [State(n, 1, n, "USD", Decimal("10.00"), Decimal(0), False, (0,)) for n in range(20)]
    states.append(State(99, 1, -20_000, "USD", Decimal("10.00"), Decimal(0), False, (0,)))
    # (stored before webhooks refused such dates: the parser takes it dated today, and the
    # stored item is dated as it was)
    old = states[-1]
    stored_old = delivery(State(old.order, 1, 0, "USD", old.total, Decimal(0), False, old.products))
    stored_old["ca"] = timemath.iso(START + timedelta(days=old.day, minutes=old.order))
    # When they are applied, the old one first
    store = apply_all([stored_old] + [delivery(s) for s in states[:-1]])
    # Then the profile stays small (the days with an order are a compressed bitmap) and exact
    profile = store.profile()
    assert item_size(to_item(profile)) < 3000
    assert figures(profile_of(profile)) == straightforward(states)
    reference = apply_all([stored_old] + [delivery(s) for s in states[:-1]], bound=10**6)
    assert predict.summary(profile_of(profile), NOW) == predict.summary(profile_of(reference.profile()), NOW)
