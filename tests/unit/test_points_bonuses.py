"""Bonus points for custom actions on the fakes: credited once per (action, id) however often
and in whatever order the actions are replayed, available at once, refused (409 reason) for
an action without a bonus, an automatic action and loyalty off; the rules check bonuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.adjust import PointsRefused
from chalicelib.domain.loyalty.bonuses import ActionIn, BirthdayBonus, FirstOrderBonus, PointsActions
from chalicelib.domain.loyalty.ledger import PointsService
from chalicelib.domain.loyalty.model import EntryKey
from chalicelib.domain.loyalty.rules import RulesError, check_bonuses, parse_bonuses, parse_caps, period_key
from chalicelib.domain.workspace_settings import ActionCap, LoyaltyRules
from tests.unit.fake_points import FakePointsLedger
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order

NOW = PAID_AT


class Profiles:
    def load(self, workspace_id: str, customer_id: str) -> Any:
        return SimpleNamespace(customer_id=CID) if customer_id in (CID, "c_merged") else None


def setup(rules: LoyaltyRules | None = None) -> tuple[PointsActions, FakePointsLedger]:
    rules = rules or replace(on(), bonuses={"review": 50, "referral": 200})
    ledger = FakePointsLedger()
    return PointsActions(ledger, Settings(rules), Profiles()), ledger  # type: ignore[arg-type]


def award(service: PointsActions, action: str, external_id: str, cid: str = CID) -> Any:
    return service.award(WS, cid, ActionIn(action=action, id=external_id), NOW)


def test_an_action_credits_its_bonus_once_available_at_once():
    # Given a workspace whose review earns 50 points
    service, ledger = setup()
    # When review r-1 is delivered three times (once through a merged-away id)
    answers = [
        award(service, "review", "r-1"),
        award(service, "review", "r-1"),
        award(service, "review", "r-1", "c_merged"),
    ]
    # Then one entry (review, r-1, bonus) of 50 points, available now, answers every delivery
    (entry,) = ledger.entries(WS, CID, 10, None)[0]
    assert entry.key == EntryKey("review", "r-1", "bonus")
    assert (entry.points, entry.at, entry.available_on) == (50, NOW, None)
    assert all(a == entry for a in answers)
    view = ledger.balance(WS, CID).view(NOW.date())
    assert (view.available, view.pending) == (50, 0)


@given(st.lists(st.sampled_from([("review", "r-1"), ("review", "r-2"), ("referral", "f-1")]), max_size=12))
def test_any_replay_in_any_order_gives_one_bonus_per_action_and_id(deliveries):
    # Given a workspace with bonuses for reviews (50) and referrals (200)
    service, ledger = setup()
    # When the deliveries arrive, each any number of times, in any order
    for action, external_id in deliveries:
        award(service, action, external_id)
    # Then the balance is the sum of one bonus per distinct (action, id), and the ledger too
    expected = sum({"review": 50, "referral": 200}[a] for a, _ in set(deliveries))
    entries = ledger.entries(WS, CID, 100, None)[0]
    assert len(entries) == len(set(deliveries))
    assert ledger.balance(WS, CID).total == sum(e.points for e in entries) == expected


@pytest.mark.parametrize(
    ("rules", "action", "reason"),
    [
        (replace(on(), bonuses={"review": 50}), "referral", "unknown_action"),
        (replace(on(), bonuses={"first_order": 50}), "first_order", "automatic_action"),
        (LoyaltyRules(enabled=False, bonuses={"review": 50}), "review", "loyalty_off"),
    ],
)
def test_refused_actions_write_nothing(rules, action, reason):
    # Given a workspace's rules
    service, ledger = setup(rules)
    # When an action without a bonus, an automatic one, or any with loyalty off is delivered
    with pytest.raises(PointsRefused) as refused:
        award(service, action, "x-1")
    # Then it is refused with its reason and nothing is written
    assert refused.value.reason == reason
    assert ledger.entries(WS, CID, 10, None)[0] == [] and ledger.balance(WS, CID).total == 0


def test_an_unknown_customer_is_not_found_and_bad_bodies_are_invalid():
    # Given a workspace with a review bonus
    service, ledger = setup()
    # When an unknown customer's review is delivered, or a body with a bad action or id
    with pytest.raises(NotFound):
        award(service, "review", "r-1", cid="c_nobody")
    # Then nothing is written, and the bodies do not validate
    assert ledger.ledgers == {}
    for body in (
        {"action": "Review", "id": "r"},
        {"action": "review", "id": "a#b"},
        {"action": "review", "id": ""},
    ):
        with pytest.raises(ValidationError):
            ActionIn.model_validate(body)


def test_bonus_rules_are_checked_and_edited_by_action():
    # Given a review bonus of 50
    current = {"review": 50}
    # When options add a referral, change the review, and remove it
    added = parse_bonuses(["referral=200", "review=60"], current)
    removed = parse_bonuses(["review=0"], added)
    # Then the bonuses follow, and a bad name, a negative or huge bonus, a bad option are refused
    assert added == {"review": 60, "referral": 200} and removed == {"referral": 200}
    for bad in ({"Review": 5}, {"review": -1}, {"review": 10**9}, {"review": True}):
        with pytest.raises(RulesError):
            check_bonuses(bad)
    with pytest.raises(RulesError):
        parse_bonuses(["review"], current)


def capped(max_: int = 2, period: str = "day") -> LoyaltyRules:
    return replace(on(), bonuses={"review": 50}, caps={"review": ActionCap(max_, period)})


def test_a_capped_action_stops_at_its_cap_per_period_and_replays_never_count():
    # Given reviews capped at 2 a day
    service, ledger = setup(capped())
    # When reviews r-1 (three times), r-2 and r-3 arrive on one day, r-4 the next day
    for _ in range(3):
        award(service, "review", "r-1")
    award(service, "review", "r-2")
    with pytest.raises(PointsRefused) as refused:
        award(service, "review", "r-3")
    next_day = service.award(WS, CID, ActionIn(action="review", id="r-4"), NOW + timedelta(days=1))
    # Then r-1 and r-2 earn, r-3 is refused (cap_reached) and writes nothing, r-4 earns
    assert refused.value.reason == "cap_reached"
    ids = [e.key.external_id for e in ledger.entries(WS, CID, 10, None)[0]]
    assert ids == ["r-1", "r-2", "r-4"] and next_day.points == 50
    assert ledger.balance(WS, CID).total == 150


@given(
    st.lists(st.sampled_from(["r-1", "r-2", "r-3", "r-4"]), max_size=12),
    st.integers(min_value=1, max_value=3),
)
def test_any_replays_in_any_order_never_exceed_the_cap(ids, max_):
    # Given reviews capped at max_ for the customer's lifetime
    service, ledger = setup(capped(max_, "lifetime"))
    # When the reviews arrive, each any number of times, in any order
    for external_id in ids:
        try:
            award(service, "review", external_id)
        except PointsRefused as refused:
            assert refused.reason == "cap_reached"
    # Then the first max_ distinct reviews earn, once each; the balance is their sum
    first = list(dict.fromkeys(ids))[:max_]
    assert [e.key.external_id for e in ledger.entries(WS, CID, 10, None)[0]] == sorted(first)
    assert ledger.balance(WS, CID).total == 50 * len(first)


def test_periods_are_utc_calendar_days_months_years_or_lifetime():
    # Given a moment late on 31 December, UTC
    at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    # When its period keys are asked for
    keys = [period_key(p, at) for p in ("day", "month", "year", "lifetime")]
    # Then they are the UTC calendar's, and caps are checked
    assert keys == ["2026-12-31", "2026-12", "2026", "all"]
    assert parse_caps(["review=3/month"], {}) == {"review": ActionCap(3, "month")}
    assert parse_caps(["review=0"], {"review": ActionCap(3, "month")}) == {}
    for bad in (["review=3/week"], ["review=0/day"], ["review=3"], ["Bad=3/day"]):
        with pytest.raises(RulesError):
            parse_caps(bad, {})


def first_order_setup(rules: LoyaltyRules) -> tuple[FirstOrderBonus, FakePointsLedger]:
    ledger, settings = FakePointsLedger(), Settings(rules)
    points = PointsService(ledger, settings)  # type: ignore[arg-type]
    actions = PointsActions(ledger, settings, Profiles())  # type: ignore[arg-type]
    return FirstOrderBonus(points, actions), ledger


@given(st.permutations(["1001", "1001", "1002", "1003", "1002"]))
def test_the_first_order_bonus_is_credited_once_ever_whatever_the_orders_and_replays(order_ids):
    # Given a first-order bonus of 25 points
    service, ledger = first_order_setup(replace(on(), bonuses={"first_order": 25}))
    # When a customer's orders (100.00 each) arrive, replayed, in any order
    for order_id in order_ids:
        service.on_order(order(order_id=order_id), NOW, CID)
    # Then each order earns once and the bonus ("bonus", "first_order", "bonus") is there once
    entries = ledger.entries(WS, CID, 20, None)[0]
    bonuses = [e for e in entries if e.key.kind == "bonus"]
    assert [(b.key.source, b.key.external_id, b.points) for b in bonuses] == [("bonus", "first_order", 25)]
    assert ledger.balance(WS, CID).total == 3 * 100 + 25


def test_no_first_order_bonus_without_the_rule_or_an_earning():
    # Given a workspace without a first-order bonus, and one with it but loyalty off
    without, ledger = first_order_setup(on())
    off, off_ledger = first_order_setup(LoyaltyRules(enabled=False, bonuses={"first_order": 25}))
    # When an order arrives in each
    written = without.on_order(order(), NOW, CID)
    nothing = off.on_order(order(), NOW, CID)
    # Then the first earns its points only, the second nothing
    assert [e.key.kind for e in written] == ["earn"] and ledger.balance(WS, CID).total == 100
    assert nothing == [] and off_ledger.ledgers == {}


def birthday_setup(rules: LoyaltyRules | None = None) -> tuple[BirthdayBonus, FakePointsLedger]:
    rules = rules or replace(on(), bonuses={"birthday": 40})
    ledger = FakePointsLedger()
    return BirthdayBonus(PointsActions(ledger, Settings(rules), Profiles())), ledger  # type: ignore[arg-type]


def jane(birthday: str = "12-06", zone: str | None = "America/New_York") -> CustomerProfile:
    return CustomerProfile(WS, CID, birthday=birthday, timezone=zone)


def test_the_birthday_bonus_is_credited_on_the_day_in_the_customers_zone_once_a_year():
    # Given Jane, born on 6 December, in New York (UTC-5), and a birthday bonus of 40
    service, ledger = birthday_setup()
    # When the nightly walk sees her at 02:00 UTC on 6 December (the 5th in New York), then
    # at 02:00 UTC on 7 December (the 6th there) three times, and a year later
    before = service.on_profiles(WS, [jane()], datetime(2026, 12, 6, 2, 0, tzinfo=UTC))
    on_the_day = [
        service.on_profiles(WS, [jane()], datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) for _ in range(3)
    ]
    next_year = service.on_profiles(WS, [jane()], datetime(2027, 12, 7, 2, 0, tzinfo=UTC))
    # Then one bonus a year, keyed by the year, available at once
    assert (before, on_the_day, next_year) == (0, [1, 0, 0], 1)
    keys = [e.key for e in ledger.entries(WS, CID, 10, None)[0]]
    assert keys == [EntryKey("bonus", "birthday:2026", "bonus"), EntryKey("bonus", "birthday:2027", "bonus")]
    assert ledger.balance(WS, CID).view(date(2027, 12, 7)).available == 80


def test_no_birthday_bonus_without_the_rule_a_birthday_or_a_known_day():
    # Given a workspace without a birthday bonus, and one with it
    without, without_ledger = birthday_setup(on())
    service, ledger = birthday_setup()
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    # When the walk sees customers with no birthday, another day, a bad one, or (with the
    # zone unknown: the workspace's default, UTC) 29 February in a common year on the 28th
    counts = [
        without.on_profiles(WS, [jane(zone=None)], at),
        service.on_profiles(WS, [jane(birthday=None)], at),
        service.on_profiles(WS, [jane(birthday="12-07")], at),
        service.on_profiles(WS, [jane(birthday="banana")], at),
        service.on_profiles(
            WS, [jane(birthday="02-29", zone=None)], datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
        ),
    ]
    # Then only the last is credited
    assert counts == [0, 0, 0, 0, 1]
    assert without_ledger.ledgers == {} and ledger.balance(WS, CID).total == 40
