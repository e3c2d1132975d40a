"""Returns (domain/service/returns.py): a storefront return converges whatever the order of
its webhooks, its ticket logs each move, approving it reverses the returned lines' points once
with the refund that follows, and the customer gets the documented messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.model import EntryKey
from chalicelib.domain.models import OrderStatus, ReturnUpdate
from chalicelib.domain.service.model import EventKind, TicketEvent, TicketKind, TicketRefused, reduce
from chalicelib.domain.service.return_model import RANK, ReturnLine, ReturnStatus, join, status_of
from chalicelib.domain.service.returns import returned_amount
from tests.unit.points_orders import CID, PAID_AT, WS, order
from tests.unit.returns_world import LINES, ORDER, T0, TOTAL, delivery, update, world

KEY = "s1.7001"
STATUSES = list(ReturnStatus)


def test_a_return_requested_is_kept_with_its_ticket_and_a_replay_adds_nothing():
    # Given the paid order of two lines
    w = world()
    # When Shopify's returns/request arrives twice (one unit of the socks)
    first = w.returns.receive(delivery("returns/request", T0), update("REQUESTED"))
    again = w.returns.receive(delivery("returns/request", T0 + timedelta(minutes=5)), update("REQUESTED"))
    # Then one return, requested, for the order's customer, with its line and its share of the total
    assert (first, again) == ("stored", "duplicate")
    ret = w.store.get(WS, KEY)
    assert ret is not None
    assert (ret.status, ret.customer_id, ret.order_id, ret.lines) == (
        ReturnStatus.REQUESTED,
        CID,
        ORDER,
        (ReturnLine("9002", 1),),
    )
    assert ret.amount == Decimal("22.00")  # 77.00 x 20.00 / 70.00
    # and one return_request ticket, its log `created` then `return_status` from none
    found = w.tickets.load(WS, ret.ticket_id)
    assert found is not None
    ticket, events = found
    assert (ticket.kind, ticket.customer_id, ticket.order_id, ticket.line_ids) == (
        TicketKind.RETURN_REQUEST,
        CID,
        ORDER,
        ("p2",),
    )
    assert [(e.kind, dict(e.data).get("to")) for e in events] == [
        (EventKind.CREATED, None),
        (EventKind.RETURN_STATUS, "requested"),
    ]
    assert events[1].data == {"from": None, "to": "requested", "return_id": KEY}


def test_a_return_of_an_order_not_stored_yet_is_refused_for_a_redelivery():
    # Given no stored order 1002
    w = world()
    # When its return arrives first
    late_order = ReturnUpdate(return_id="7002", status="requested", order_id="1002")
    # Then 404 (the storefront delivers it again), and nothing is written
    with pytest.raises(NotFound):
        w.returns.receive(delivery("returns/request", T0), late_order)
    assert w.store.writes == 0


def test_the_lines_share_of_the_total_paid():
    # Given lines worth 70.00 of an order paid 77.00 (shipping, tax)
    # When one sock (20.00), or both socks and a line the order does not hold, are returned
    one = returned_amount(Decimal(TOTAL), "EUR", LINES, (ReturnLine("9002", 1),))
    more = returned_amount(Decimal(TOTAL), "EUR", LINES, (ReturnLine("9002", 5), ReturnLine("x", 1)))
    # Then their share of what was paid, to the cent, at most the units ordered
    assert (one, more) == (Decimal("22.00"), Decimal("44.00"))
    assert returned_amount(Decimal("10"), "JPY", LINES, (ReturnLine("p1", 1),)) == Decimal("4")


@settings(deadline=None)  # each example builds two stores: no deadline on a shared machine
@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=4))
def test_the_status_converges_whatever_the_order_of_deliveries(sent: list[ReturnStatus]):
    # Given a return's statuses in the lifecycle's order, as the storefront moved it
    path = sorted(set(sent), key=RANK.__getitem__)
    final = path[-1]
    # When they are delivered in every order hypothesis tries, each twice
    for shuffled in (sent + list(reversed(sent)), list(reversed(sent)) + sent):
        w = world()
        for n, status in enumerate(shuffled):
            at = T0 + timedelta(minutes=n)
            w.returns.receive(delivery("returns/update", at), update(status.value.upper()))
        ret = w.store.get(WS, KEY)
        assert ret is not None
        # Then the return ends at the same status, and its ticket's moves only go forward
        assert ret.status == final
        found = w.tickets.load(WS, ret.ticket_id)
        assert found is not None
        moves = [e.data for e in found[1] if e.kind == EventKind.RETURN_STATUS]
        tos = [status_of(m["to"]) for m in moves]
        assert tos == sorted(set(tos), key=RANK.__getitem__) and tos[-1] == final
        assert all(m["from"] is None or RANK[status_of(m["from"])] < RANK[status_of(m["to"])] for m in moves)


def test_join_is_a_semilattice():
    # Given every pair and triple of statuses
    # Then the join is commutative, associative and idempotent
    for a in STATUSES:
        assert join(a, a) == a
        for b in STATUSES:
            assert join(a, b) == join(b, a)
            for c in STATUSES:
                assert join(join(a, b), c) == join(a, join(b, c))
    assert status_of("canceled") == ReturnStatus.CANCELLED


def _reversed(w) -> int:
    earning = w.ledger.entry(WS, CID, EntryKey("order", ORDER, "earn"))
    return earning.reversed


def _entries(w) -> list:
    return list(w.ledger.ledgers[(WS, CID)].values())


def test_approval_reverses_the_returned_lines_points_and_the_refund_that_follows_adds_nothing():
    # Given 77 points earned on the order
    w = world()
    # When the return of one sock (22.00 of 77.00) is approved, then refunded (20.00 + 2.00 tax)
    w.returns.receive(delivery("returns/request", T0), update("REQUESTED"))
    w.returns.receive(delivery("returns/approve", T0 + timedelta(hours=1)), update("OPEN"))
    assert _reversed(w) == 22
    refund = (("r1", "22.00", T0 + timedelta(days=2)),)
    w.points.on_order(order(TOTAL, OrderStatus.PARTIALLY_REFUNDED, refund), T0 + timedelta(days=2), CID)
    # Then 22 points are reversed in all, once, and the balance is the sum of the ledger
    assert _reversed(w) == 22
    entries = _entries(w)
    assert sorted(e.points for e in entries) == [-22, 0, 77]
    assert w.ledger.balance(WS, CID).total == sum(e.points for e in entries) == 55


def test_a_refund_before_the_approval_reverses_and_the_approval_adds_nothing():
    # Given the refund delivered first (a day early, out of order)
    w = world()
    refund = (("r1", "22.00", T0),)
    w.points.on_order(order(TOTAL, OrderStatus.PARTIALLY_REFUNDED, refund), T0, CID)
    # When the return is approved afterwards, twice
    for _ in range(2):
        w.returns.receive(delivery("returns/approve", T0 + timedelta(hours=1)), update("OPEN"))
    # Then 22 points are reversed once
    assert _reversed(w) == 22
    assert sorted(e.points for e in _entries(w)) == [-22, 0, 77]


def test_a_refund_without_a_return_still_reverses_as_before():
    # Given no return
    w = world()
    # When 38.50 of 77.00 is refunded
    refund = (("r1", "38.50", T0),)
    w.points.on_order(order(TOTAL, OrderStatus.PARTIALLY_REFUNDED, refund), T0, CID)
    # Then half the points are reversed
    assert _reversed(w) == 39  # round half up of 38.5


def test_a_cancelled_approved_return_gives_the_points_back():
    # Given an approved return (22 points reversed)
    w = world()
    w.returns.receive(delivery("returns/approve", T0), update("OPEN"))
    # When it is cancelled (replayed)
    for _ in range(2):
        w.returns.receive(delivery("returns/cancel", T0 + timedelta(hours=2)), update("CANCELED"))
    # Then the 22 points come back once: nothing reversed, the balance 77 again
    assert _reversed(w) == 0
    assert sorted(e.points for e in _entries(w)) == [-22, 22, 77]
    assert w.ledger.balance(WS, CID).total == 77


EVENTS = ["approve", "refund", "cancel", "close", "decline", "other_refund"]
TOPIC_STATUS = {"approve": "OPEN", "cancel": "CANCELED", "close": "CLOSED", "decline": "DECLINED"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=7))
def test_total_reversed_is_the_refunded_or_returned_lines_points_never_twice(deliveries: list[str]):
    # Given 77 points, a return of one sock (22.00) and its refund (22.00), an unrelated
    # refund (10.00), delivered in any order, any of them again
    w = world()
    refunds: dict[str, str] = {}
    statuses: set[ReturnStatus] = set()
    for n, what in enumerate(deliveries):
        at = T0 + timedelta(hours=n)
        if what in TOPIC_STATUS:
            status = TOPIC_STATUS[what]
            statuses.add(status_of(status))
            w.returns.receive(delivery(f"returns/{what}", at), update(status))
        else:
            refunds["r1" if what == "refund" else "r2"] = "22.00" if what == "refund" else "10.00"
            lines = tuple((rid, amount, at) for rid, amount in sorted(refunds.items()))
            w.points.on_order(order(TOTAL, OrderStatus.PARTIALLY_REFUNDED, lines), at, CID)
    # When everything has arrived
    final = ReturnStatus.REQUESTED
    for s in statuses:
        final = join(final, s)
    # Then the reversed points are those of the larger of what was refunded and returned
    refunded = sum((Decimal(a) for a in refunds.values()), Decimal(0))
    returned = Decimal("22.00") if final in (ReturnStatus.OPEN, ReturnStatus.CLOSED) else Decimal(0)
    covered = max(refunded, returned)
    expected = int((Decimal(77) * covered / Decimal(TOTAL)).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert _reversed(w) == expected
    entries = _entries(w)
    assert len({e.key for e in entries}) == len(entries)  # each key once
    assert -sum(e.points for e in entries if e.points < 0 or e.key.kind == "restore") == expected
    assert w.ledger.balance(WS, CID).total == sum(e.points for e in entries) == 77 - expected


def test_the_customer_gets_the_approved_and_closed_messages_once():
    # Given a workspace sending the return messages
    w = world(frozenset({"return_approved", "return_declined", "return_closed"}))
    # When the return is requested, approved (twice), then closed, the minute job running
    # after each (twice after the close)
    w.returns.receive(delivery("returns/request", T0), update("REQUESTED"))
    for _ in range(2):
        w.returns.receive(delivery("returns/approve", T0 + timedelta(hours=1)), update("OPEN"))
    approved = w.returns.send_due(T0 + timedelta(hours=1, minutes=1))
    w.returns.receive(delivery("returns/close", T0 + timedelta(days=3)), update("CLOSED"))
    closed = w.returns.send_due(T0 + timedelta(days=3, minutes=1))
    again = w.returns.send_due(T0 + timedelta(days=3, minutes=2))
    # Then approved and closed are sent, once each
    assert [k for _, k in w.messages.sent] == ["return_approved", "return_closed"]
    assert (approved["sent"], closed["sent"], again["sent"]) == (1, 1, 0)


def test_a_status_delivered_after_48_hours_sends_no_message():
    # Given a workspace sending the return messages
    w = world(frozenset({"return_declined"}))
    # When the decline is delivered three days late
    w.returns.receive(delivery("returns/decline", T0, late=timedelta(days=3)), update("DECLINED"))
    w.returns.send_due(T0 + timedelta(days=3, minutes=1))
    # Then the return is declined, and no message is sent
    ret = w.store.get(WS, KEY)
    assert ret is not None and ret.status == ReturnStatus.DECLINED
    assert w.messages.sent == []


def test_a_message_the_minute_job_finds_too_late_is_dropped():
    # Given an approval delivered on time, its message waiting
    w = world(frozenset({"return_approved"}))
    w.returns.receive(delivery("returns/approve", T0), update("OPEN"))
    # When the minute job only runs three days later
    result = w.returns.send_due(T0 + timedelta(days=3))
    # Then it is dropped, not sent, and no longer waits
    assert (result["sent"], result["dropped"], w.messages.sent) == (0, 1, [])
    assert w.returns.send_due(T0 + timedelta(days=3, minutes=1))["dropped"] == 0


def test_a_return_through_patron_is_moved_by_hand():
    # Given a return_request ticket made through Patron for the shirt (no storefront return)
    w = world(frozenset({"return_approved"}))
    data = {"subject": "Too small", "kind": "return_request", "customer_id": CID, "order_id": ORDER}
    created = TicketEvent(EventKind.CREATED, T0, "key:abc", data | {"line_ids": ["SKU-A"]})
    made = reduce(WS, "tk_1", [created])
    w.tickets.create(made, created)
    # When an agent approves it, then tries to approve it again and to reopen it as requested
    ret = w.returns.by_hand(WS, made.id, "open", "key:abc", T0 + timedelta(hours=1))
    w.returns.send_due(T0 + timedelta(hours=1, minutes=1))
    # Then it is open, the shirt's 33 points (33.00 of 77.00) are reversed, the customer is told
    assert (ret.status, ret.amount, _reversed(w)) == (ReturnStatus.OPEN, Decimal("33.00"), 33)
    assert [k for _, k in w.messages.sent] == ["return_approved"]
    with pytest.raises(TicketRefused) as no_change:
        w.returns.by_hand(WS, made.id, "open", "key:abc", T0 + timedelta(hours=2))
    with pytest.raises(TicketRefused) as backwards:
        w.returns.by_hand(WS, made.id, "requested", "key:abc", T0 + timedelta(hours=2))
    assert (no_change.value.reason, backwards.value.reason) == ("no_change", "invalid_transition")
    found = w.tickets.load(WS, made.id)
    assert found is not None
    assert [e.data for e in found[1] if e.kind == EventKind.RETURN_STATUS] == [
        {"from": "requested", "to": "open", "return_id": f"patron.{made.id}"}
    ]


def test_a_storefront_return_is_not_moved_by_hand():
    # Given a Shopify return's ticket
    w = world()
    w.returns.receive(delivery("returns/request", T0), update("REQUESTED"))
    ret = w.store.get(WS, KEY)
    assert ret is not None
    # When an agent tries to approve it in Patron
    with pytest.raises(TicketRefused) as refused:
        w.returns.by_hand(WS, ret.ticket_id, "open", "cli", T0 + timedelta(hours=1))
    # Then 409 storefront_return: Shopify moves it
    assert refused.value.reason == "storefront_return"
    assert PAID_AT < T0


def test_a_short_close_first_takes_its_lines_from_the_later_approval():
    # Given the close delivered first, in its short shape (no lines, no name)
    w = world()
    short = ReturnUpdate(return_id="7001", status="closed", order_id="1001")
    w.returns.receive(delivery("returns/close", T0), short)
    assert _reversed(w) == 0  # no lines known: no amount yet
    # When the approval (with its lines) arrives a day late
    late = w.returns.receive(
        delivery("returns/approve", T0 - timedelta(days=1), late=timedelta(days=1)), update("OPEN")
    )
    # Then the return stays closed, takes the lines and name, and their 22 points are reversed
    ret = w.store.get(WS, KEY)
    assert ret is not None
    assert (late, ret.status, ret.lines, ret.name) == (
        "duplicate",
        ReturnStatus.CLOSED,
        (ReturnLine("9002", 1),),
        "#1001-R1",
    )
    assert _reversed(w) == 22
