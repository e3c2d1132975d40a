"""Profiles from ingest-table changes: exactly-once aggregates, currencies, identity merges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters import records
from chalicelib.adapters.order_items import ingest_change
from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain import timemath
from chalicelib.domain.customers import CustomerService, ProfileView
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.models import Platform
from chalicelib.domain.profiles import MAX_ATTEMPTS, ProfileService
from tests.conftest import load_event
from tests.unit.fakes import (
    SALT,
    WS,
    FakeProfileStore,
    FakeWorkspaces,
    new_service,
    order_item,
    with_refund,
)

SHOPIFY = Platform.SHOPIFY
WOO = Platform.WOOCOMMERCE
GENERIC = Platform.GENERIC
JANE = "jane.doe@example.com"
JANE_PHONE = "+12125550147"


def view(item: dict[str, Any]) -> ProfileView:
    return ProfileView.of(profile_of(item))


def generic_order(
    order_id: str,
    created_at: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    customer_id: str | None = None,
    currency: str = "USD",
    total: str = "10.00",
    status: str = "paid",
) -> dict[str, Any]:
    """A generic-schema order body, from the fixture, for one customer."""
    body = load_event("generic/order.json")
    customer = {k: v for k, v in (("email", email), ("phone", phone), ("id", customer_id)) if v is not None}
    body.update(
        id=order_id,
        currency=currency,
        total=total,
        status=status,
        created_at=created_at,
        updated_at=created_at,
        customer=customer,
        line_items=[],
        refunds=[],
    )
    return body


def shopify_order(fixture: str = "shopify/orders_create.json", v: int = 1) -> dict[str, Any]:
    topic = {"shopify/orders_cancelled.json": "orders/cancelled"}.get(fixture, "orders/updated")
    return order_item(SHOPIFY, topic, fixture, v=v)


# -- idempotence ------------------------------------------------------------------------


def test_applying_the_same_change_twice_changes_nothing():
    # Given a Shopify order applied once
    service, store = new_service()
    item = shopify_order()
    first = service.apply_change(ingest_change(None, item))
    after_first = store.snapshot()
    # When the same stream record is applied again (at-least-once delivery)
    second = service.apply_change(ingest_change(None, item))
    # Then nothing moves: same items, same rev, and the second is reported as already applied
    assert first.outcome == "applied"
    assert second.outcome == "already_applied"
    assert second.customer_id == first.customer_id
    assert store.snapshot() == after_first
    assert store.profile()["rev"] == 1
    assert len(store.saves) == 1
    profile = view(store.profile())
    assert profile.orders_count == 1
    assert profile.total_spent == "122.00"


def test_replaying_an_older_version_after_a_newer_one_changes_nothing():
    # Given an order whose fulfilled version (v2) was applied
    service, store = new_service()
    created = shopify_order("shopify/orders_create.json", v=1)
    fulfilled = shopify_order("shopify/orders_updated_paid.json", v=2)
    service.apply_change(ingest_change(created, fulfilled))
    before = store.snapshot()
    # When the older created version (v1) arrives late
    result = service.apply_change(ingest_change(None, created))
    # Then the profile keeps the newer entry
    assert result.outcome == "already_applied"
    assert store.snapshot() == before
    key = records.public_order_id("src_1", created["oid"])
    assert store.profile()["o"][key]["v"] == 2


def test_a_later_state_that_moves_no_figure_leaves_the_profile_unwritten():
    # Given Jane's order applied when it was created
    service, store = new_service()
    created = shopify_order("shopify/orders_create.json", v=1)
    service.apply_change(ingest_change(None, created))
    saved = store.snapshot()
    # When its paid-and-fulfilled state, then its delivered state arrive (same totals, same person)
    paid = shopify_order("shopify/orders_updated_paid.json", v=2)
    delivered = shopify_order("shopify/orders_updated_delivered.json", v=3)
    results = [
        service.apply_change(ingest_change(created, paid)),
        service.apply_change(ingest_change(paid, delivered)),
    ]
    # Then the profile is not written again: nothing it shows has moved. (It is still read:
    # the comparison is with the profile itself, so a profile that missed a state heals.)
    assert [r.outcome for r in results] == ["already_applied", "already_applied"]
    assert len(store.saves) == 1 and store.snapshot() == saved
    assert results[0].customer_id == store.profile()["cid"]
    # And when a state that does move a figure (a refund) comes after them, it is written
    refunded = with_refund(delivered, "shopify/refunds_create.json")
    assert service.apply_change(ingest_change(delivered, refunded)).outcome == "applied"
    assert len(store.saves) == 2 and view(store.profile()).total_refunded == "42.93"


# -- aggregates -------------------------------------------------------------------------


def test_first_order_sets_the_aggregates():
    # Given an empty workspace
    service, store = new_service()
    item = shopify_order()
    # When Jane's first Shopify order is applied
    result = service.apply_change(ingest_change(None, item))
    # Then one profile holds the order, keyed by her email, with her identities
    profile = store.profile()
    assert result.customer_id == customer_id_for(SALT, "email:" + JANE)
    assert profile["cid"] == result.customer_id
    v = view(profile)
    assert (v.orders_count, v.total_spent, v.total_refunded, v.net_spent) == (1, "122.00", "0.00", "122.00")
    assert v.average_order_value == "122.00"
    assert v.first_order_at == v.last_order_at == "2026-11-20T15:15:30.000000Z"
    assert v.average_days_between_orders is None
    assert v.email == JANE
    assert v.phone == JANE_PHONE
    assert v.is_member is True
    assert v.sources == ["src_1"]
    assert v.channels == ["web"]
    assert profile["phone_k"] == f"{WS}#{JANE_PHONE}"
    assert profile["ext_k"] == f"{WS}#shopify:src_1:7204518390331"


def test_order_then_its_cancellation_counts_nothing():
    # Given Jane's paid order applied
    service, store = new_service()
    created = shopify_order("shopify/orders_create.json", v=1)
    service.apply_change(ingest_change(None, created))
    assert view(store.profile()).orders_count == 1
    # When the order's cancellation (a newer version, refunds included) is applied
    cancelled = shopify_order("shopify/orders_cancelled.json", v=2)
    result = service.apply_change(ingest_change(created, cancelled))
    # Then the order counts for nothing
    assert result.outcome == "applied"
    v = view(store.profile())
    assert v.orders_count == 0
    assert v.total_spent == "0.00"
    assert v.total_refunded == "0.00"
    assert v.net_spent == "0.00"
    assert v.average_order_value is None
    assert v.first_order_at is None


def test_refund_counts_in_total_refunded():
    # Given Jane's order applied
    service, store = new_service()
    created = shopify_order("shopify/orders_create.json", v=1)
    service.apply_change(ingest_change(None, created))
    # When a Shopify refunds/create for that order was written to the same item
    refunded = with_refund(created, "shopify/refunds_create.json")
    result = service.apply_change(ingest_change(created, refunded))
    # Then the refund shows in total_refunded and net, and the order still counts once
    assert result.outcome == "applied"
    v = view(store.profile())
    assert v.orders_count == 1
    assert v.total_spent == "122.00"
    assert v.total_refunded == "42.93"
    assert Decimal(v.net_spent) == Decimal("122.00") - Decimal("42.93")


def test_eur_order_is_converted_at_the_workspace_rate():
    # Given a USD workspace with EUR at 1.10 and a WooCommerce EUR order
    service, store = new_service()
    item = order_item(WOO, "order.created", "woocommerce/order_created.json")
    assert item["cur"] == "EUR"
    # When it is applied
    service.apply_change(ingest_change(None, item))
    # Then the total is converted to USD and rounded to the cent
    profile = store.profile()
    v = view(profile)
    expected = (Decimal(item["tot"]) * Decimal("1.10")).quantize(Decimal("0.01"))
    assert profile["spent"] == expected == Decimal("115.37")
    assert v.total_spent == "115.37"
    assert v.currency == "USD"
    assert v.unconverted_spent == {}
    entry = next(iter(profile["o"].values()))
    assert entry["oa"] == Decimal("104.88")  # the original amount is kept


def test_eur_refund_is_converted_too():
    # Given the WooCommerce EUR order, then its update with a 10.00 EUR refund
    service, store = new_service()
    created = order_item(WOO, "order.created", "woocommerce/order_created.json", v=1)
    updated = order_item(WOO, "order.updated", "woocommerce/order_updated_refunded.json", v=2)
    # When both are applied
    service.apply_change(ingest_change(None, created))
    service.apply_change(ingest_change(created, updated))
    # Then the refund is converted at the same rate
    v = view(store.profile())
    assert v.orders_count == 1
    assert v.total_refunded == "11.00"
    assert v.total_spent == "115.37"


def test_unknown_currency_goes_to_unconverted_not_total_spent():
    # Given a USD workspace without a GBP rate, and a GBP order
    service, store = new_service()
    item = order_item(
        GENERIC,
        "order",
        generic_order("G-1", "2026-11-21T17:02:00+01:00", email=JANE, currency="GBP", total="64.00"),
    )
    # When it is applied
    service.apply_change(ingest_change(None, item))
    # Then it counts as an order, but its amount is kept apart, per currency
    v = view(store.profile())
    assert v.orders_count == 1
    assert v.total_spent == "0.00"
    assert v.unconverted_spent == {"GBP": "64.00"}
    assert v.average_order_value is None


def test_two_orders_give_the_average_days_between_orders():
    # Given Jane's Shopify order and, later, her POS order found by her phone
    service, store = new_service()
    web = shopify_order()
    pos = order_item(GENERIC, "order", "generic/order.json")
    assert pos["p"].get("e") is None  # the POS order knows her phone, not her email
    # When both are applied
    service.apply_change(ingest_change(None, web))
    result = service.apply_change(ingest_change(None, pos))
    # Then one profile holds both, with the days between them
    profile = store.profile()
    assert result.customer_id == profile["cid"]
    first, last = timemath.parse_iso(web["ca"]), timemath.parse_iso(pos["ca"])
    assert isinstance(first, datetime) and isinstance(last, datetime)
    days = Decimal((last - first).total_seconds()) / Decimal(86400)
    v = view(profile)
    assert v.orders_count == 2
    assert Decimal(v.average_days_between_orders or "nan") == days.quantize(Decimal("0.01"))
    assert v.first_order_at == web["ca"]
    assert v.last_order_at == pos["ca"]
    assert Decimal(v.total_spent) == Decimal(web["tot"]) + Decimal(pos["tot"])
    assert v.channels == ["pos", "web"]


def test_three_orders_average_the_gaps():
    # Given three orders on days 1, 4 and 11
    service, store = new_service()
    for n, day in enumerate(("01", "04", "11")):
        body = generic_order(f"G-{n}", f"2026-11-{day}T10:00:00+00:00", email=JANE)
        service.apply_change(ingest_change(None, order_item(GENERIC, "order", body)))
    # When the profile is read
    v = view(store.profile())
    # Then the average gap is (11 - 1) / 2 = 5 days
    assert v.orders_count == 3
    assert Decimal(v.average_days_between_orders or "nan") == Decimal("5.00")


# -- identity ---------------------------------------------------------------------------


def test_phone_only_and_email_only_orders_then_one_with_both_merge_the_profiles():
    # Given a phone-only order and, a day later, an email-only order of the same person
    service, store = new_service()
    phone_only = order_item(
        GENERIC,
        "order",
        generic_order("G-1", "2026-11-01T10:00:00+00:00", phone="+1 212 555 0147", total="10.00"),
    )
    email_only = order_item(
        GENERIC,
        "order",
        generic_order("G-2", "2026-11-02T10:00:00+00:00", email="Jane.Doe@Example.com", total="20.00"),
    )
    service.apply_change(ingest_change(None, phone_only))
    service.apply_change(ingest_change(None, email_only))
    assert len(store.profiles()) == 2
    phone_id = customer_id_for(SALT, "phone:" + JANE_PHONE)
    email_id = customer_id_for(SALT, "email:" + JANE)
    # When an order carrying both her email and her phone arrives
    both = order_item(
        GENERIC,
        "order",
        generic_order("G-3", "2026-11-03T10:00:00+00:00", email=JANE, phone=JANE_PHONE, total="30.00"),
    )
    result = service.apply_change(ingest_change(None, both))
    # Then one live profile remains (the older one), holding all three orders
    assert result.outcome == "applied"
    assert result.customer_id == phone_id
    assert result.merged == [email_id]
    profile = store.profile()
    assert profile["cid"] == phone_id
    v = view(profile)
    assert v.orders_count == 3
    assert Decimal(v.total_spent) == sum(Decimal(i["tot"]) for i in (phone_only, email_only, both))
    assert v.merged_from == [email_id]
    assert v.emails == [JANE]
    assert v.phones == [JANE_PHONE]
    # And the merge was recorded with the save, and the retired profile points to the live one
    save = store.saves[-1]
    (merge,) = [i for i in save["extra"] if i["t"] == "merge"]
    assert (merge["into"], merge["from"]) == (phone_id, email_id)
    assert merge["orders_moved"] == 1
    assert [(r["cid"], rev) for r, rev in save["retired"]] == [(email_id, 1)]
    assert store.of_type("merge") == [merge]
    (pointer,) = store.of_type("pointer")
    assert (pointer["cid"], pointer["into"]) == (email_id, phone_id)


def test_after_a_merge_the_email_finds_the_live_profile():
    # Given two profiles merged by an order carrying both identities
    service, store = new_service()
    for n, (email, phone) in enumerate(((None, JANE_PHONE), (JANE, None), (JANE, JANE_PHONE))):
        body = generic_order(f"G-{n}", f"2026-11-0{n + 1}T10:00:00+00:00", email=email, phone=phone)
        service.apply_change(ingest_change(None, order_item(GENERIC, "order", body)))
    # When the admin API looks her up by email, and a later email-only order arrives
    customers = CustomerService(store, orders=None, workspaces=FakeWorkspaces())  # type: ignore[arg-type]
    found = customers.find_by_email(WS, "JANE.DOE@example.com ")
    later = generic_order("G-9", "2026-11-09T10:00:00+00:00", email=JANE)
    result = service.apply_change(ingest_change(None, order_item(GENERIC, "order", later)))
    # Then both reach the one live profile
    (profile,) = found
    live = store.profile()
    assert profile.customer_id == live["cid"]
    assert result.customer_id == live["cid"]
    assert view(live).orders_count == 4


def test_a_second_email_gets_a_pointer_and_finds_the_profile_again():
    # Given Jane's profile created by an order with her email and phone
    service, store = new_service()
    first = generic_order("G-1", "2026-11-01T10:00:00+00:00", email=JANE, phone=JANE_PHONE)
    service.apply_change(ingest_change(None, order_item(GENERIC, "order", first)))
    # When an order with her work email and the same phone arrives, then one with only the
    # work email
    second = generic_order("G-2", "2026-11-02T10:00:00+00:00", email="jane@work.example", phone=JANE_PHONE)
    service.apply_change(ingest_change(None, order_item(GENERIC, "order", second)))
    third = generic_order("G-3", "2026-11-03T10:00:00+00:00", email="jane@work.example")
    service.apply_change(ingest_change(None, order_item(GENERIC, "order", third)))
    # Then the work email is a pointer into her profile, which holds all three orders
    live = store.profile()
    (pointer,) = store.of_type("pointer")
    assert pointer["cid"] == customer_id_for(SALT, "email:jane@work.example")
    assert pointer["into"] == live["cid"]
    assert view(live).orders_count == 3
    assert view(live).emails == sorted([JANE, "jane@work.example"])


def test_a_third_identity_is_applied_when_a_pointer_already_exists():
    # Given Jane's profile with her email and phone, and a pointer for her work email
    service, store = new_service()
    for n, email in enumerate((JANE, "jane@work.example")):
        body = generic_order(f"G-{n}", f"2026-11-0{n + 1}T10:00:00+00:00", email=email, phone=JANE_PHONE)
        service.apply_change(ingest_change(None, order_item(GENERIC, "order", body)))
    assert len(store.of_type("pointer")) == 1
    # When an order with a third email and the same phone arrives
    third = generic_order("G-3", "2026-11-03T10:00:00+00:00", email="jd@home.example", phone=JANE_PHONE)
    result = service.apply_change(ingest_change(None, order_item(GENERIC, "order", third)))
    # Then it is applied to her profile and the new email gets its own pointer
    assert result.outcome == "applied"
    assert view(store.profile()).orders_count == 3
    assert len(store.of_type("pointer")) == 2


def test_no_identity_creates_nothing():
    # Given an order without email, phone or customer id
    service, store = new_service()
    body = generic_order("G-1", "2026-11-01T10:00:00+00:00")
    # When it is applied
    result = service.apply_change(ingest_change(None, order_item(GENERIC, "order", body)))
    # Then there is no profile
    assert result.outcome == "no_identity"
    assert result.customer_id is None
    assert store.items == {}


def test_deletions_and_other_item_types_are_skipped():
    # Given a stored order and a checkout item
    service, store = new_service()
    item = shopify_order()
    checkout = {"pk": f"W#{WS}#K#src_1#k1", "t": "checkout", "ws": WS, "src": "src_1", "kid": "k1"}
    # When a deletion (no new image) and a checkout change are applied
    # Then both are skipped and nothing is written
    assert service.apply_change(ingest_change(item, None)).outcome == "skipped"
    assert service.apply_change(ingest_change(None, None)).outcome == "skipped"
    assert service.apply_change(ingest_change(None, checkout)).outcome == "skipped"
    assert store.items == {}


def test_unknown_workspace_raises():
    # Given a service that knows no workspace named in the item
    service, _ = new_service("another_ws")
    # When the order is applied
    # Then it fails loudly (the stream reports the record as failed)
    with pytest.raises(LookupError):
        service.apply_change(ingest_change(None, shopify_order()))


def test_customer_record_creates_a_profile_without_orders():
    # Given a Shopify customers/create item
    service, store = new_service()
    customer = load_event("shopify/customers_create.json")
    item = {
        "t": "customer",
        "ws": WS,
        "src": "src_1",
        "cid": str(customer["id"]),
        "ca": "2026-11-20T15:06:51.000000Z",
        "ua": "2026-11-20T15:06:51.000000Z",
        "p": {
            "e": JANE,
            "ph": JANE_PHONE,
            "x": f"shopify:src_1:{customer['id']}",
            "fn": "Jane",
            "m": True,
            "ce": {"s": "subscribed", "at": "2026-11-20T15:06:51.000000Z"},
        },
    }
    # When it is applied twice
    first = service.apply_change(ingest_change(None, item))
    second = service.apply_change(ingest_change(item, item))
    # Then one profile with no orders but her consent and source exists, written once
    assert (first.outcome, second.outcome) == ("applied", "already_applied")
    v = view(store.profile())
    assert v.orders_count == 0
    assert v.email_consent is not None and v.email_consent.state == "subscribed"
    assert v.sources == ["src_1"]
    assert store.profile()["rev"] == 1


# -- consent --------------------------------------------------------------------------


WITHDRAWN_AT = "2026-11-25T00:00:00.000000Z"  # when Patron recorded Jane's unsubscribe


def jane_orders_again(
    order_id: int, consent_at: str | None = None, accepts: bool = True, day: str = "2026-11-26"
) -> dict[str, Any]:
    """A later Shopify order of Jane's, placed on `day`: with `consent_at`, her customer's
    `email_marketing_consent` (subscribed then); without, only the legacy
    `buyer_accepts_marketing`, which carries no consent time."""
    body = load_event("shopify/orders_create.json")
    body.update(id=order_id, created_at=f"{day}T10:00:00+00:00", updated_at=f"{day}T10:00:00+00:00")
    body["buyer_accepts_marketing"] = accepts
    body["customer"].pop("email_marketing_consent")
    if consent_at is not None:
        body["customer"]["email_marketing_consent"] = {
            "state": "subscribed",
            "consent_updated_at": consent_at,
        }
    return order_item(SHOPIFY, "orders/create", body)


def test_a_patron_withdrawal_gives_way_only_to_a_newer_consent_time_of_the_storefronts_own():
    # Given Jane subscribed at the store, then unsubscribed through Patron (the profile's
    # `ce` as `DynamoProfileConsent` writes it)
    service, store = new_service()
    service.apply_change(ingest_change(None, shopify_order()))
    key = next(k for k, i in store.items.items() if i.get("t") == "profile")
    store.items[key]["ce"] = {"s": "unsubscribed", "at": WITHDRAWN_AT, "src": "unsubscribe link"}

    def consent() -> str:
        return str(store.profile()["ce"]["s"])

    # When a later order reports only the legacy `accepts_marketing` (the record's time,
    # after the withdrawal, stands in for a consent time)
    service.apply_change(ingest_change(None, jane_orders_again(1)))
    # Then she stays unsubscribed
    assert consent() == "unsubscribed"
    # When one reports a subscription whose own consent time is before the withdrawal
    service.apply_change(ingest_change(None, jane_orders_again(2, consent_at="2026-11-24T00:00:00Z")))
    # Then too
    assert consent() == "unsubscribed"
    # When one reports a subscription whose own consent time is after it (she opted in again)
    service.apply_change(ingest_change(None, jane_orders_again(3, consent_at="2026-11-26T00:00:00Z")))
    # Then the profile shows it
    assert store.profile()["ce"] == {"s": "subscribed", "at": "2026-11-26T00:00:00.000000Z"}
    # And from then on storefront reports compete on time as before: a later legacy report wins
    service.apply_change(ingest_change(None, jane_orders_again(4, accepts=False, day="2026-11-28")))
    assert consent() == "not_subscribed"


# -- optimistic locking -------------------------------------------------------------------


def test_a_conflict_on_the_first_save_is_retried_and_both_orders_count():
    # Given two orders of Jane processed concurrently: while the first attempt to save
    # order A runs, another processor creates her profile with order B
    store = FakeProfileStore()
    service = ProfileService(store, FakeWorkspaces())
    other = ProfileService(store, FakeWorkspaces())
    a = order_item(
        GENERIC, "order", generic_order("G-A", "2026-11-01T10:00:00+00:00", email=JANE, total="10.00")
    )
    b = order_item(
        GENERIC, "order", generic_order("G-B", "2026-11-02T10:00:00+00:00", email=JANE, total="20.00")
    )
    store.before_save = lambda: other.apply_change(ingest_change(None, b))
    # When order A is applied
    result = service.apply_change(ingest_change(None, a))
    # Then the first save conflicted, the retry re-read the profile and both orders count
    assert result.outcome == "applied"
    assert store.attempts == 3  # A (conflict), B, A again
    assert [s["expected_rev"] for s in store.saves] == [None, 1]
    profile = store.profile()
    assert profile["rev"] == 2
    v = view(profile)
    assert v.orders_count == 2
    assert v.total_spent == "30.00"


def test_a_profile_that_keeps_changing_gives_up_with_conflict():
    # Given a store where every save conflicts
    class AlwaysConflicts(FakeProfileStore):
        def save(self, *args: Any, **kwargs: Any) -> None:
            self.attempts += 1
            raise Conflict("changed again")

    store = AlwaysConflicts()
    service = ProfileService(store, FakeWorkspaces())
    # When an order is applied
    # Then it is retried a bounded number of times, then the Conflict is raised
    with pytest.raises(Conflict):
        service.apply_change(ingest_change(None, shopify_order()))
    assert store.attempts == MAX_ATTEMPTS
    assert store.items == {}


def test_an_order_counts_both_its_product_ids_and_skus():
    # Given a Shopify order whose line items carry a product id and a SKU
    body = load_event("shopify/orders_create.json")
    line = body["line_items"][0]
    # When it is snapshotted for the profile
    snap = records.snapshot(order_item(SHOPIFY, "orders/create", body))
    # Then `bought_product` can match either
    assert {str(line["product_id"]), line["sku"]} <= set(snap.products)
