"""A history import's points under the "historical" policy (domain/loyalty/history.py),
on fakes: one entry per customer from all their historical paid orders, whatever the
imports' order, replays and resumptions (hypothesis); the rate it first earned at; none
under "none"; and the CRM stream's consumer skips ledger items (nothing downstream)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.workspace_store import loyalty_from_item, loyalty_item
from chalicelib.domain.customer_profile import CustomerProfile, OrderEntry
from chalicelib.domain.ingest_images import OrderImage
from chalicelib.domain.loyalty.history import HISTORICAL, HistoricalPoints
from chalicelib.domain.models import OrderStatus
from chalicelib.domain.workspace_settings import LoyaltyRules
from tests.unit.fake_points_history import FakeHistoricalPoints, FakeOrders
from tests.unit.points_orders import CID, PAID_AT, WS, Settings, on, order


class Profiles:
    def __init__(self) -> None:
        self.profiles: dict[str, CustomerProfile] = {}

    def add_order(self, customer_id: str, order_id: str) -> None:
        profile = self.profiles.get(customer_id) or CustomerProfile(
            WS, customer_id, created_at=PAID_AT.isoformat()
        )
        self.profiles[customer_id] = replace(
            profile, orders={**profile.orders, order_id: OrderEntry(version=1)}
        )

    def load_many(self, workspace_id: str, customer_ids: list[str]) -> dict[str, CustomerProfile]:
        return {c: self.profiles[c] for c in customer_ids if c in self.profiles}

    def moved_entries(self, workspace_id: str, customer_ids: list[str], keys: list[str] | None = None):
        return {}


def historical(policy: str = "historical", rate: str = "2") -> Settings:
    return Settings(replace(on(rate), import_policy=policy))


def imported(oid: str, total: str, status: OrderStatus, refunded: str = "0", days: int = 0) -> OrderImage:
    refunds = (("r1", refunded, PAID_AT + timedelta(days=days + 1)),) if Decimal(refunded) else ()
    image = order(total, status, refunds, order_id=oid).order
    assert image is not None
    snap = replace(image.snapshot, created_at=PAID_AT + timedelta(days=days))
    return replace(image, snapshot=snap, imported=True, historical=True)


def setup(settings: Settings):
    history = FakeHistoricalPoints()
    orders, profiles = FakeOrders(), Profiles()
    service = HistoricalPoints(history.ledger, history, orders, profiles, settings)  # type: ignore[arg-type]
    return service, history.ledger, orders, profiles


def bring(orders: FakeOrders, profiles: Profiles, image: OrderImage) -> None:
    orders.put(image)
    profiles.add_order(CID, f"s1.{image.snapshot.order_id}")


def test_one_entry_of_the_net_paid_history_dated_at_the_latest_payment():
    # Given imported orders: 30 paid, 56 with 20 refunded, 19 cancelled, one still pending
    service, ledger, orders, profiles = setup(historical())
    for image in (
        imported("1", "30.00", OrderStatus.PAID),
        imported("2", "56.00", OrderStatus.PARTIALLY_REFUNDED, "20.00", days=40),
        imported("3", "19.00", OrderStatus.CANCELLED, days=50),
        imported("4", "11.00", OrderStatus.PENDING, days=60),
    ):
        bring(orders, profiles, image)
    # When the import's recompute runs, twice
    first = service.apply(WS, [CID], PAID_AT)
    again = service.apply(WS, [CID, CID], PAID_AT)
    # Then one entry of floor(66 x 2) = 132, at the second order's payment, no lot, written once
    entry = ledger.entry(WS, CID, HISTORICAL)
    assert (first["entries_written"], again["entries_written"]) == (1, 0)
    assert entry is not None and (entry.points, entry.base, entry.at) == (
        132,
        Decimal("66.00"),
        PAID_AT + timedelta(days=40),
    )
    assert entry.available_on is None and entry.rate == 2
    balance = ledger.balance(WS, CID)
    # (available at once: in the lot of its date)
    assert (balance.total, balance.lots) == (132, {entry.at.date(): 132})


def test_the_none_policy_and_loyalty_off_write_nothing():
    # Given an imported paid order, with the policy "none", or loyalty off
    for rules in (historical("none"), Settings(replace(LoyaltyRules(), import_policy="historical"))):
        service, ledger, orders, profiles = setup(rules)
        bring(orders, profiles, imported("1", "30.00", OrderStatus.PAID))
        # When the recompute runs
        result = service.apply(WS, [CID], PAID_AT)
        # Then there is no entry
        assert result["entries_written"] == 0 and ledger.entry(WS, CID, HISTORICAL) is None


def test_a_later_import_moves_the_entry_at_the_rate_it_first_earned_at():
    # Given a historical entry earned at 2 points per unit
    rules = historical(rate="2")
    service, ledger, orders, profiles = setup(rules)
    bring(orders, profiles, imported("1", "30.00", OrderStatus.PAID))
    service.apply(WS, [CID], PAID_AT)
    # When the rule changes to 5, and a later import brings another paid order of 10
    rules.value = replace(rules.value, loyalty=replace(rules.value.loyalty, points_per_unit=Decimal(5)))
    bring(orders, profiles, imported("5", "10.00", OrderStatus.PAID, days=90))
    written = service.apply(WS, [CID], PAID_AT)["entries_written"]
    # Then the one entry is 40 x 2 = 80 (its own rate), dated at the new order, the balance 80
    entry = ledger.entry(WS, CID, HISTORICAL)
    assert written == 1 and entry is not None
    assert (entry.points, entry.at, ledger.balance(WS, CID).total) == (80, PAID_AT + timedelta(days=90), 80)
    assert len(ledger.entries(WS, CID, 50, None)[0]) == 1
    # When both orders turn out cancelled (a later import's states)
    bring(orders, profiles, imported("1", "30.00", OrderStatus.CANCELLED))
    bring(orders, profiles, imported("5", "10.00", OrderStatus.CANCELLED, days=90))
    service.apply(WS, [CID], PAID_AT)
    # Then the entry holds 0 points, and so does the balance
    assert (ledger.entry(WS, CID, HISTORICAL).points, ledger.balance(WS, CID).total) == (0, 0)


ORDERS = [
    ("1", "30.00", OrderStatus.PAID, "0"),
    ("2", "56.00", OrderStatus.PARTIALLY_REFUNDED, "20.00"),
    ("3", "19.00", OrderStatus.CANCELLED, "0"),
    ("4", "12.35", OrderStatus.FULFILLED, "0"),
    ("5", "9.99", OrderStatus.REFUNDED, "9.99"),
]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, len(ORDERS) - 1), max_size=4), min_size=1, max_size=6))
def test_any_imports_in_any_order_replayed_give_the_entry_of_everything_imported(runs):
    # Given imports, each bringing some of a customer's orders (repeats: re-runs, resumptions)
    service, ledger, orders, profiles = setup(historical())
    seen: set[int] = set()
    # When each import's recompute runs after it
    for run in runs:
        for i in run:
            oid, total, status, refunded = ORDERS[i]
            bring(orders, profiles, imported(oid, total, status, refunded, days=i))
            seen.add(i)
        service.apply(WS, [CID], PAID_AT)
    # Then one entry (or none) holds floor(net paid x 2) of every order imported so far, the
    # balance is its points, and a further run writes nothing
    net = sum(
        (
            Decimal(ORDERS[i][1]) - Decimal(ORDERS[i][3])
            for i in seen
            if ORDERS[i][2] is not OrderStatus.CANCELLED
        ),
        Decimal(0),
    )
    points = int(net * 2)
    entries = ledger.entries(WS, CID, 50, None)[0]
    assert [e.points for e in entries] == ([points] if entries or points else [])
    assert ledger.balance(WS, CID).total == points
    assert service.apply(WS, [CID], PAID_AT)["entries_written"] == 0


def test_the_import_policy_round_trips_through_the_workspace_item():
    # Given rules with each policy, and an item stored before the policy existed
    for policy in ("none", "historical"):
        rules = replace(on("2"), import_policy=policy)
        # When they are stored and read back
        back = loyalty_from_item(loyalty_item(rules))
        # Then they are the same
        assert back == rules
    assert loyalty_from_item({"on": True}).import_policy == "none"


def test_the_crm_stream_consumer_skips_ledger_items(monkeypatch):
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from chalicelib.adapters.codec import to_item
    from chalicelib.adapters.points_ledger import entry_item
    from chalicelib.domain.loyalty.model import LedgerEntry
    from chalicelib.handlers import streams

    # Given the historical entry's item as the CRM stream carries it
    entry = LedgerEntry(WS, CID, HISTORICAL, 132, PAID_AT, rate=Decimal(2), base=Decimal(66))
    item = entry_item(entry)
    record = DynamoDBRecord(
        {"dynamodb": {"Keys": to_item({"pk": item["pk"], "sk": item["sk"]}), "NewImage": to_item(item)}}
    )
    calls: list[str] = []
    monkeypatch.setattr(streams, "container", lambda: calls.append("container"))
    # When the CRM stream's consumer handles it
    outcome = streams.handle_profile_record(record)
    # Then it is skipped: no flow trigger, membership or message follows
    assert outcome == "skipped" and calls == []


def test_a_merged_ids_historical_points_are_not_counted_twice_after_the_merge():
    # Given X's imported order of 30.00 (60 points, its own entry), then X merged into S,
    # whose profile now holds X's order and its own of 56.00
    from chalicelib.domain.loyalty.merge import LedgerMerges

    service, ledger, orders, profiles = setup(historical())
    x, s = "c_gone", "c_kept"
    orders.put(imported("1", "30.00", OrderStatus.PAID))
    orders.put(imported("2", "56.00", OrderStatus.PAID, days=3))
    profiles.add_order(x, "s1.1")
    service.apply(WS, [x], PAID_AT)
    profiles.add_order(s, "s1.1")
    profiles.add_order(s, "s1.2")
    profiles.profiles[s] = replace(profiles.profiles[s], merged_ids=[x])
    LedgerMerges(ledger).transfer(WS, x, s, PAID_AT)
    # When the import's recompute runs for S, twice
    service.apply(WS, [s], PAID_AT)
    service.apply(WS, [s], PAID_AT)
    # Then S holds floor(86 x 2) = 172 in all: X's 60 moved in, and its own entry of 112
    assert ledger.entry(WS, s, HISTORICAL).points == 112
    assert (ledger.balance(WS, s).total, ledger.balance(WS, x).total) == (172, 0)
