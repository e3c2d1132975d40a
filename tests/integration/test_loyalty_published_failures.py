"""The loyalty plug-ins' published failures, one test each, end to end on the
stage (moto): the webhooks as a store sends them, the stream consumers, the Admin API and
the CLI's expiry sweep (docs/loyalty.md#published-failures-tested).

1. points paid twice on a replayed order; 2. on an edited order; 3. a refund that does not
reverse points; 4. a refund reversed twice; 5. a reversal computed with today's rule;
6. expiry that collapses balances; 7. two ledger entries in the same second overwriting
each other. Time is pinned (time_machine), never the wall clock."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from chalicelib.domain.workspace_settings import LoyaltyRules
from patron.harness import Harness, Workspace
from tests.cli_runs import run
from tests.conftest import load_event

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)  # after every event's dates
ORDER = load_event("shopify/orders_create.json")  # Jane's order of 122.00 USD, paid 20 Nov
ORDER_ID = ORDER["id"]


@pytest.fixture
def stage(aws: None) -> Iterator[Harness]:
    with time_machine.travel(NOW, tick=True):
        harness = Harness(stage="test")
        yield harness
        harness.close()


def loyalty(stage: Harness, ws: Workspace, **rules: Any) -> None:
    stage.container.workspaces.set_loyalty(ws.workspace_id, LoyaltyRules(enabled=True, **rules))


def customer_of(stage: Harness, ws: Workspace, email: str = "jane.doe@example.com") -> str:
    found = json.loads(stage.get(ws, f"/customers?email={email}").body)["customers"]
    return str(found[0]["customer_id"])


def points(stage: Harness, ws: Workspace, cid: str) -> dict[str, Any]:
    answer = stage.get(ws, f"/customers/{cid}/points?limit=200")
    assert answer.status_code == 200, answer.body
    body: dict[str, Any] = json.loads(answer.body)
    assert body["next_cursor"] is None
    return body


def deliver(stage: Harness, ws: Workspace, topic: str, body: dict[str, Any], delivery: str) -> None:
    assert stage.send(ws, "shopify", topic, body, delivery_id=delivery).status_code == 200


def order(order_id: int = ORDER_ID, at: str = "2026-11-20T10:15:30-05:00", **fields: Any) -> dict[str, Any]:
    """Jane's order, as another order of hers (`order_id`) created and paid at `at`."""
    body = copy.deepcopy(ORDER)
    body.update(id=order_id, created_at=at, updated_at=at, processed_at=at)
    if order_id != ORDER_ID:
        body.update(name=f"#{order_id}", order_number=order_id)
    for name, value in fields.items():
        body[name] = value
    return body


def refund(refund_id: int, amount: str, at: str, order_id: int = ORDER_ID) -> dict[str, Any]:
    body = copy.deepcopy(load_event("shopify/refunds_create.json"))
    body.update(id=refund_id, order_id=order_id, created_at=at, processed_at=at)
    (paid,) = body["transactions"]
    paid.update(amount=amount, order_id=order_id, created_at=at, processed_at=at)
    return body


def kinds(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((e["kind"], e["external_id"], e["points"]) for e in body["entries"])


def test_points_paid_twice_on_a_replayed_order(stage, ws):
    # Given a workspace earning 1 point per dollar, 14 days' return window
    loyalty(stage, ws, return_window_days=14)
    created = order()
    paid = order(updated_at="2026-11-21T14:02:11-05:00")  # the same order, its paid state a day on
    # When the paid state arrives before the creation, each three times, the last round a day
    # late with the order's later (delivered) state, so the ledger sees the order again then
    for n in range(2):
        deliver(stage, ws, "orders/paid", paid, f"p-{n}")
        deliver(stage, ws, "orders/create", created, f"c-{n}")
        stage.drain()
    with time_machine.travel(NOW + timedelta(days=1), tick=True):
        deliver(stage, ws, "orders/create", created, "c-late")
        deliver(stage, ws, "orders/paid", paid, "p-late")
        deliver(stage, ws, "orders/updated", load_event("shopify/orders_updated_delivered.json"), "d-late")
        stage.drain()
    # Then one earning of 122, dated by the first paid state Patron saw (the paid delivery,
    # which came first: the stale creation changes nothing); the balance is the ledger's sum
    body = points(stage, ws, customer_of(stage, ws))
    assert kinds(body) == [("earn", f"{ws.sources['shopify']['source_id']}.{ORDER_ID}", 122)]
    assert body["entries"][0]["at"] == "2026-11-21T19:02:11.000000Z"
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 122


def sams(body: dict[str, Any]) -> dict[str, Any]:
    """The order as Sam's: another email and storefront account, no phone."""
    body["email"] = "sam@example.com"
    body["customer"] = {**body["customer"], "id": 999, "email": "sam@example.com", "phone": None}
    for address in ("billing_address", "shipping_address"):
        body[address] = {**body[address], "phone": None}
    return body


def test_points_paid_twice_on_an_edited_order(stage, ws):
    # Given Jane's paid order of 122.00 earned 122 points (1 per dollar), and Sam's own
    # order of 30.00 earned him 30 on his own profile
    loyalty(stage, ws, return_window_days=14)
    deliver(stage, ws, "orders/create", order(), "c")
    deliver(stage, ws, "orders/create", sams(order(703, "2026-11-19T10:00:00Z", total_price="30.00")), "s")
    stage.drain()
    jane, sam = customer_of(stage, ws), customer_of(stage, ws, "sam@example.com")
    assert jane != sam
    # When Jane's order is edited three times (orders/updated): a line changed and the total
    # raised to 150.00; the total lowered to 100.00; then its customer changed to Sam's email
    # and account, so the order now resolves to Sam's profile too (its old and new
    # identities are one person: the two profiles merge, and the balances with them)
    raised = order(updated_at="2026-11-21T09:00:00-05:00", total_price="150.00")
    raised["line_items"][0]["quantity"] = 3
    deliver(stage, ws, "orders/updated", raised, "u-1")
    deliver(
        stage,
        ws,
        "orders/updated",
        order(updated_at="2026-11-22T09:00:00-05:00", total_price="100.00"),
        "u-2",
    )
    moved = sams(order(updated_at="2026-11-23T09:00:00-05:00", total_price="150.00"))
    deliver(stage, ws, "orders/updated", moved, "u-3")
    stage.drain()
    # Then still one earning of the order, in one ledger, of what it earned when first paid:
    # an edit that raises (or lowers) the total earns nothing more and takes nothing back,
    # and its refunds stay shares of the 122.00 paid then (domain/loyalty/ledger.py)
    order_id = f"{ws.sources['shopify']['source_id']}.{ORDER_ID}"
    ledger = stage.container.points_ledger
    earnings = [
        e
        for cid in (jane, sam)
        for e in ledger.entries(ws.workspace_id, cid, 200, None)[0]
        if e.key.kind == "earn" and e.key.external_id == order_id
    ]
    assert [(e.customer_id, e.points, e.base) for e in earnings] == [(jane, 122, Decimal("122.00"))]
    # and one balance, read under either id: 122 + Sam's 30
    survivor = customer_of(stage, ws)
    assert customer_of(stage, ws, "sam@example.com") == survivor
    body = points(stage, ws, survivor)
    assert body["total"] == 152 and points(stage, ws, sam)["total"] == 152
    assert sum(1 for e in body["entries"] if e["external_id"] == order_id) <= 1


def test_a_refund_that_does_not_reverse_points(stage, ws):
    # Given Jane's order of 122.00 earned 244 points (2 per dollar)
    loyalty(stage, ws, points_per_unit=Decimal(2), return_window_days=14)
    deliver(stage, ws, "orders/create", order(), "c")
    stage.drain()
    # When the store refunds 42.93 of it (refunds/create); and the refund of 20.00 of her
    # second order, of 50.00, arrives before that order does
    deliver(stage, ws, "refunds/create", refund(1, "42.93", "2026-11-24T09:30:12-05:00"), "r")
    early = refund(2, "20.00", "2026-11-25T10:00:00Z", order_id=704)
    deliver(stage, ws, "refunds/create", early, "r-early")
    stage.drain()
    deliver(stage, ws, "orders/create", order(704, "2026-11-24T10:00:00Z", total_price="50.00"), "c-2")
    stage.drain()
    # Then round(244 x 42.93 / 122) = 86 points are reversed, and round(100 x 20 / 50) = 40
    # of the second order's 100, whichever came first; the balance is the ledger's sum
    body = points(stage, ws, customer_of(stage, ws))
    assert sorted(e["points"] for e in body["entries"] if e["kind"] == "reverse") == [-86, -40]
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 244 - 86 + 100 - 40


def test_a_refund_reversed_twice(stage, ws):
    # Given Jane's order of 122.00 earned 122 points
    loyalty(stage, ws, return_window_days=14)
    deliver(stage, ws, "orders/create", order(), "c")
    stage.drain()
    first = refund(1019283746011, "42.93", "2026-11-24T09:30:12-05:00")
    # When the refund webhook is delivered three times, and the order's partially refunded
    # state (carrying that same refund) twice; then, a day late, the refund again and a
    # later state of the order (fulfilled) still carrying it: the ledger sees it again
    refunded = order(updated_at="2026-11-24T09:31:00-05:00", financial_status="partially_refunded")
    refunded["refunds"] = [first]
    for n in range(2):
        deliver(stage, ws, "refunds/create", first, f"r-{n}")
        deliver(stage, ws, "orders/updated", refunded, f"u-{n}")
        stage.drain()
    later = {**refunded, "updated_at": "2026-11-25T10:00:00-05:00", "fulfillment_status": "fulfilled"}
    with time_machine.travel(NOW + timedelta(days=1), tick=True):
        deliver(stage, ws, "refunds/create", first, "r-late")
        deliver(stage, ws, "orders/updated", later, "u-late")
        stage.drain()
    # Then round(122 x 42.93 / 122) = 43 points are reversed once
    jane = customer_of(stage, ws)
    body = points(stage, ws, jane)
    assert [e["points"] for e in body["entries"] if e["kind"] == "reverse"] == [-43]
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 122 - 43
    # When the order is cancelled and refunded in full (that refund and one of 79.07), twice
    for n in range(2):
        deliver(stage, ws, "orders/cancelled", load_event("shopify/orders_cancelled.json"), f"x-{n}")
        stage.drain()
    # Then the second refund reverses the other 79, once, and nothing is reversed beyond the 122
    body = points(stage, ws, jane)
    reversals = [e for e in body["entries"] if e["points"] < 0]
    assert sorted(e["points"] for e in reversals) == [-79, -43]
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 0


def test_a_reversal_computed_with_todays_rule(stage, ws):
    # Given Jane's order of 122.00 earned at 2 points per dollar (244)
    loyalty(stage, ws, points_per_unit=Decimal(2), return_window_days=14)
    deliver(stage, ws, "orders/create", order(), "c")
    stage.drain()
    # When the rule changes to 10 points per dollar, then the whole order is refunded
    loyalty(stage, ws, points_per_unit=Decimal(10), return_window_days=14)
    deliver(stage, ws, "refunds/create", refund(2, "122.00", "2026-11-24T09:30:12-05:00"), "r")
    stage.drain()
    # Then exactly the 244 earned are reversed (today's rule would take 1,220), at the stored rate
    body = points(stage, ws, customer_of(stage, ws))
    earn = next(e for e in body["entries"] if e["kind"] == "earn")
    assert (earn["rate"], earn["reversed"]) == ("2", 244)
    assert [e["points"] for e in body["entries"] if e["kind"] == "reverse"] == [-244]
    assert (body["total"], body["debt"]) == (0, 0)


def test_expiry_that_collapses_balances(stage, ws, cli_on):
    # Given lots expiry after 30 days, no return window, and three orders of Jane's paid on
    # 2, 10 and 20 Nov (lots of 3, 11 and 21 Nov): 122, 80 and 64 points
    loyalty(stage, ws, return_window_days=0, expiry="lots", expiry_days=30)
    deliver(stage, ws, "orders/create", order(at="2026-11-02T10:00:00Z"), "a")
    stage.drain()
    jane = customer_of(stage, ws)
    # and the first lot spent whole by an operator, then 42.93 of that order refunded: 43 points of debt
    headers = {"Authorization": f"Bearer {ws.api_key}", "Idempotency-Key": "spend-1"}
    spent = stage.http.http.post(
        f"/customers/{jane}/points/adjustments",
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps({"points": -122, "reason": "manual spend"}),
    )
    assert spent.status_code == 200, spent.body
    deliver(stage, ws, "refunds/create", refund(1, "42.93", "2026-11-05T10:00:00Z"), "r")
    deliver(stage, ws, "orders/create", order(701, "2026-11-10T10:00:00Z", total_price="80.00"), "b")
    deliver(stage, ws, "orders/create", order(702, "2026-11-20T10:00:00Z", total_price="64.00"), "c")
    stage.drain()
    before = points(stage, ws, jane)
    assert (before["total"], before["debt"]) == (80 + 64 - 43, 0)  # the debt is covered by the lots
    assert stage.container.points_ledger.balance(ws.workspace_id, jane).debt == 43
    # When the sweep runs on the first lot's due day, then on the second's (each twice)
    swept = [
        json.loads(run("loyalty", "expire", "-w", ws.workspace_id, "--today", day).stdout)
        for day in ("2026-12-03", "2026-12-03", "2026-12-11", "2026-12-11")
    ]
    # Then the spent first lot expires nothing; the second settles the debt (43) and only its
    # remaining 37 expire, once; the later lot of 64 is untouched
    assert [(s["points_expired"], s["settled_debt"]) for s in swept] == [(0, 0), (0, 0), (37, 43), (0, 0)]
    after = points(stage, ws, jane)
    assert (after["total"], after["debt"]) == (64, 0)
    assert after["total"] == sum(e["points"] for e in after["entries"])
    expired = [e for e in after["entries"] if e["kind"] == "expire"]
    assert [(e["points"], e["lots"], e["debt"]) for e in expired] == [(-37, {"2026-11-11": -80}, -43)]
    assert stage.container.points_ledger.balance(ws.workspace_id, jane).lots == {
        datetime(2026, 11, 21).date(): 64
    }


def test_two_ledger_entries_in_the_same_second(stage, ws):
    # Given Jane's order of 122.00 earned 122 points, and reviews earning 50 points each
    loyalty(stage, ws, return_window_days=14, bonuses={"review": 50})
    deliver(stage, ws, "orders/create", order(), "c")
    stage.drain()
    jane = customer_of(stage, ws)
    # When two different refunds of the order carry the same timestamp (10.00 and 20.00)
    same = "2026-11-24T09:30:12-05:00"
    deliver(stage, ws, "refunds/create", refund(11, "10.00", same), "r-11")
    deliver(stage, ws, "refunds/create", refund(12, "20.00", same), "r-12")
    stage.drain()
    # and two reviews' bonuses are posted at the very same instant (the clock frozen)
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    with time_machine.travel(NOW, tick=False):
        bonuses = [
            stage.http.http.post(
                f"/customers/{jane}/points/actions",
                headers=headers,
                body=json.dumps({"action": "review", "id": review}),
            )
            for review in ("rv-1", "rv-2")
        ]
    # Then every entry is kept: the two reversals (10 and 20 of 122: 10 and 20 points) and
    # the two bonuses, each at the same time as its twin; the balance is their sum
    assert [b.status_code for b in bonuses] == [200, 200], bonuses[0].body
    body = points(stage, ws, jane)
    source = ws.sources["shopify"]["source_id"]
    assert kinds(body) == [
        ("bonus", "rv-1", 50),
        ("bonus", "rv-2", 50),
        ("earn", f"{source}.{ORDER_ID}", 122),
        ("reverse", f"{source}.{ORDER_ID}.11", -10),
        ("reverse", f"{source}.{ORDER_ID}.12", -20),
    ]
    stamps = {e["kind"]: set() for e in body["entries"]}
    for e in body["entries"]:
        stamps[e["kind"]].add(e["at"])
    assert len(stamps["bonus"]) == 1 and len(stamps["reverse"]) == 1
    assert body["total"] == sum(e["points"] for e in body["entries"]) == 122 - 30 + 100
