"""The segment language's ticket fields (domain/segments.py, segment_eval.py): open tickets,
open complaints, complaints in the last N days (rechecked when one ages out), the last
CSAT and the days since the last ticket."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import segment_eval, segments
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.membership import MembershipService
from chalicelib.domain.segment_eval import Facts, evaluate, with_tickets
from chalicelib.domain.segment_service import SegmentService
from chalicelib.domain.segments import SegmentSyntaxError, parse, to_text
from chalicelib.domain.service.facts import TicketFact, TicketFacts
from tests.fakes_customer_edits import FakeCustomerEdits
from tests.fakes_tickets import FakeTicketFacts
from tests.unit.fakes import FakeMembershipStore, FakeSegmentStore, FakeWorkspaces

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def facts(
    open_tickets: int = 0,
    open_complaints: int = 0,
    last_csat: int | None = None,
    last_ticket_at: datetime | None = None,
    complaints: tuple[datetime, ...] = (),
) -> Facts:
    return with_tickets(
        Facts(values={}), open_tickets, open_complaints, last_csat, last_ticket_at, complaints
    )


@pytest.mark.parametrize(
    ("definition", "given", "member"),
    [
        ("open_tickets > 0", facts(open_tickets=1), True),
        ("open_tickets > 0", facts(), False),
        ("open_complaints > 0", facts(open_tickets=2, open_complaints=1), True),
        ("open_complaints = 0", facts(open_tickets=2), True),
        ("last_csat <= 2", facts(last_csat=2), True),
        ("last_csat <= 2", facts(last_csat=4), False),
        ("last_csat <= 2", facts(), False),  # never answered: no score to compare
        ("last_ticket_days <= 7", facts(last_ticket_at=NOW - timedelta(days=3)), True),
        ("last_ticket_days <= 7", facts(last_ticket_at=NOW - timedelta(days=9)), False),
    ],
)
def test_ticket_fields_compare_as_numbers(definition, given, member):
    # Given a definition on a ticket field and a customer's ticket facts
    tree = parse(definition)
    # When it is evaluated now
    verdict = evaluate(tree, given, NOW)
    # Then the customer is in or out, and the definition reads beside the profile
    assert verdict.member is member
    assert segment_eval.uses_tickets(tree) and segment_eval.uses_loyalty(tree)


def test_complaints_in_the_last_days_count_and_flip_when_the_oldest_ages_out():
    # Given two complaints, 5 and 20 days ago
    recent, older = NOW - timedelta(days=5), NOW - timedelta(days=20)
    tree = parse("complaints_in_last_days(30) >= 2")
    given = facts(complaints=(recent, older))
    # When the segment is evaluated now
    verdict = evaluate(tree, given, NOW)
    # Then the customer is in, rechecked when the older one is 30 days old
    assert verdict.member is True
    assert verdict.next_check == older + timedelta(days=30)
    # and at that instant they are out
    assert evaluate(tree, given, older + timedelta(days=30)).member is False
    assert segments.is_time_based(tree)
    assert to_text(tree) == "complaints_in_last_days(30) >= 2"


def test_no_marketing_to_an_open_complaint_reads_as_a_segment_too():
    # Given a flow condition that keeps customers with an open complaint out
    tree = parse("NOT open_complaints > 0 AND NOT complaints_in_last_days(7) >= 1")
    # When a customer with a complaint solved 10 days ago, and one with an open one, are evaluated
    calm = evaluate(tree, facts(complaints=(NOW - timedelta(days=10),)), NOW)
    upset = evaluate(tree, facts(open_tickets=1, open_complaints=1, complaints=(NOW,)), NOW)
    # Then only the first holds
    assert (calm.member, upset.member) == (True, False)


@pytest.mark.parametrize("bad", ["complaints_in_last_days(366) >= 1", "complaints_in_last_days('x') > 0"])
def test_complaints_take_whole_days_up_to_a_year(bad):
    # Given a definition past the documented bound, When parsed, Then it is refused at the call
    with pytest.raises(SegmentSyntaxError) as caught:
        parse(bad)
    assert caught.value.position == 0


def test_a_merged_away_ids_ticket_change_re_evaluates_the_survivor():
    # Given c_2 into which c_old was merged, a segment on open complaints, and a complaint
    # opened under c_old (before the merge)
    profiles = FakeCustomerEdits()
    profiles.put(CustomerProfile("ws_a", "c_2", rev=2, merged_ids=["c_old"]))
    profiles.merge("ws_a", "c_old", "c_2")
    store = FakeTicketFacts()
    service = SegmentService(FakeSegmentStore(), profiles, FakeWorkspaces("ws_a"), tickets=TicketFacts(store))
    upset = service.create("ws_a", "Upset", "open_complaints > 0").segment_id
    membership = MembershipService(FakeMembershipStore(), service, profiles, None)
    fact = TicketFact("ws_a", "c_old", "tk_1", 1, True, True, NOW - timedelta(days=1))
    store.put(fact)
    # When the stream reports the change under c_old
    change = membership.on_ticket_change("ws_a", "c_old", NOW)
    # Then the survivor c_2 was evaluated, and entered the segment
    assert change is not None and change.customer_id == "c_2" and upset in change.entered
    # When the complaint is solved, Then c_2 leaves it
    store.put(dataclasses.replace(fact, seq=2, open=False))
    assert membership.on_ticket_change("ws_a", "c_old", NOW).exited == [upset]


def test_a_workspace_without_a_ticket_segment_reads_nothing_on_a_ticket_change():
    # Given a workspace whose only segment is on orders
    profiles = FakeCustomerEdits()
    service = SegmentService(FakeSegmentStore(), profiles, FakeWorkspaces("ws_a"))
    service.create("ws_a", "Buyers", "orders_count >= 1")
    membership = MembershipService(FakeMembershipStore(), service, profiles, None)
    # When a ticket changes, Then nothing is evaluated
    assert membership.on_ticket_change("ws_a", "c_1", NOW) is None
