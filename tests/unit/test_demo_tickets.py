"""The demo's service desk (src/patron/demo/tickets.py): each plan's truth is read from its
changes, the customers are buyers drawn from the seed, and the check reports every
difference between the API's answers and the plans (the API faked here; the demo's run
against the local stack is tests/e2e/test_demo.py and test_console_service.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patron.demo import tickets
from patron.synthetic.store import simulate

NOW = datetime(2031, 12, 31, 23, 30, tzinfo=UTC)  # a fixed instant: the store is seeded from it


def test_a_plans_truth_is_the_state_its_changes_lead_to():
    # Given a plan raised, assigned twice and tagged, a tag removed, then put on hold
    plan = tickets.Plan(
        "Subject",
        "complaint",
        "Body",
        "normal",
        False,
        (
            {"type": "priority", "to": "high"},
            {"type": "assign", "to": "sam"},
            {"type": "tag", "add": ["a", "b"]},
            {"type": "assign", "to": "alex"},
            {"type": "tag", "add": ["c"], "remove": ["a"]},
            {"type": "note", "body": "n"},
            {"type": "status", "to": "on_hold"},
        ),
    )
    # Then its state is the last of each change, and its log one event a change after `created`
    assert (plan.status, plan.final_priority, plan.assignee) == ("on_hold", "high", "alex")
    assert plan.tags == {"b", "c"}
    assert plan.events == [
        "created",
        "priority_changed",
        "assigned",
        "tagged",
        "assigned",
        "tagged",
        "internal_note",
        "status_changed",
    ]
    # And a plan with no change is an open, unassigned, untagged ticket at its priority
    quiet = tickets.Plan("S", "pre_sale", "B", "low", False)
    assert (quiet.status, quiet.final_priority, quiet.assignee, quiet.tags) == ("open", "low", None, set())


def test_the_demos_plans_cover_every_kind_and_the_working_statuses():
    kinds = {p.kind for p in tickets.PLANS}
    statuses = {p.status for p in tickets.PLANS}
    assert kinds == {"pre_sale", "order_issue", "complaint", "suggestion", "return_request"}
    assert statuses == {"open", "pending", "on_hold", "solved"}
    assert any("public_reply" in p.events for p in tickets.PLANS)
    assert any("internal_note" in p.events for p in tickets.PLANS)


def test_the_customers_are_distinct_buyers_drawn_from_the_seed():
    # Given the demo's store for a seed
    people, orders, _ = simulate(3, 40, NOW)
    buyers = {o.person.index for o in orders if not o.cancelled}
    # When the tickets' customers are chosen twice, and for another seed
    first, again = tickets.choose(people, orders, 3), tickets.choose(people, orders, 3)
    other = tickets.choose(people, orders, 4)
    # Then they are one buyer a plan, distinct, the same for the same seed
    assert len(first) == len(tickets.PLANS) == len({p.index for p in first})
    assert {p.index for p in first} <= buyers
    assert [p.index for p in first] == [p.index for p in again]
    assert [p.index for p in other] != [p.index for p in first]


class FakeApi:
    """The API's answers for opened tickets, as the plans say they should be."""

    def __init__(self, opened: list[tickets.Opened]) -> None:
        self.tickets = {
            t.ticket_id: {
                "id": t.ticket_id,
                "customer_id": t.customer_id,
                "kind": t.plan.kind,
                "status": t.plan.status,
                "priority": t.plan.final_priority,
                "assignee": t.plan.assignee,
                "tags": sorted(t.plan.tags, reverse=True),  # any order
                "order_id": t.order_id,
                "events": [{"kind": k} for k in t.plan.events],
            }
            for t in opened
        }

    def get(self, _local: Any, _ws: Any, path: str) -> Any:
        if path.startswith("/tickets/"):
            return self.tickets[path.removeprefix("/tickets/")]
        if path.startswith("/tickets?status="):
            status = path.removeprefix("/tickets?status=").split("&")[0]
            return {"tickets": [t for t in self.tickets.values() if t["status"] == status]}
        customer = path.split("/")[2]
        return {"tickets": [t for t in self.tickets.values() if t["customer_id"] == customer]}


@pytest.fixture
def opened() -> list[tickets.Opened]:
    return [
        tickets.Opened(plan, f"tk_{i}", f"c_{i}", f"o_{i}" if plan.about_order else None)
        for i, plan in enumerate(tickets.PLANS)
    ]


def test_the_check_finds_nothing_when_the_api_holds_the_plans(monkeypatch, opened):
    # Given an API holding every ticket as planned, and an SLA alert another part added
    api = FakeApi(opened)
    api.tickets["tk_2"]["events"].append({"kind": "sla_alert"})
    monkeypatch.setattr(tickets, "_get", api.get)
    # When the demo checks them
    problems = tickets.check(None, None, opened)
    # Then nothing differs (kinds the demo did not write are not its to check)
    assert problems == []


def test_the_check_reports_each_difference_from_the_plans(monkeypatch, opened):
    # Given an API where one ticket's status differs, one lost an event, one is not the customer's
    api = FakeApi(opened)
    api.tickets["tk_0"]["status"] = "pending"
    api.tickets["tk_2"]["events"].pop()
    api.tickets["tk_4"]["customer_id"] = "c_other"
    monkeypatch.setattr(tickets, "_get", api.get)
    # When the demo checks them
    problems = tickets.check(None, None, opened)
    # Then each shows: the tickets, the customer's list, and the two queues the move touched
    assert [p.split(":")[0] for p in problems] == [
        "ticket tk_0",
        "ticket tk_2",
        "ticket tk_4",
        "ticket tk_4 missing from its customer's tickets",
        "queue open",
        "queue pending",
    ]
