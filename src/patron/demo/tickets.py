"""The demo's service desk: a handful of tickets for simulated customers, opened and worked
through the API as agents would (`POST /tickets` naming the customer by email, then replies,
notes, status, priority, assignee and tags through `POST /tickets/{id}/events`), chosen from
the demo's seed; then checked against that truth: each ticket's state and event log, each
status's queue (`GET /tickets?status=`, oldest first) and each customer's tickets."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from patron import http
from patron.synthetic.store import Person, SimOrder

STATUSES = ("open", "pending", "on_hold", "solved", "closed")
# the kinds of event the plans below write (other parts of the desk may add their own
# kinds to a log, such as SLA alerts or surveys; the check compares these only)
WRITTEN = {"created", "public_reply", "internal_note", "status_changed", "priority_changed", "assigned"}
WRITTEN |= {"tagged"}


@dataclass(frozen=True)
class Plan:
    """One ticket: how it is opened and the changes made to it. The state they lead to (the
    truth the API is checked against) is worked out here from the changes, as an agent
    reading them would, not by the service's reducer."""

    subject: str
    kind: str
    body: str
    priority: str
    about_order: bool
    changes: tuple[dict[str, Any], ...] = ()

    def _last(self, kind: str, default: str | None) -> str | None:
        return next((c.get("to") for c in reversed(self.changes) if c["type"] == kind), default)

    @property
    def status(self) -> str:
        return str(self._last("status", "open"))

    @property
    def final_priority(self) -> str:
        return str(self._last("priority", self.priority))

    @property
    def assignee(self) -> str | None:
        return self._last("assign", None)

    @property
    def tags(self) -> set[str]:
        held: set[str] = set()
        for change in self.changes:
            if change["type"] == "tag":
                held = (held | set(change.get("add", []))) - set(change.get("remove", []))
        return held

    @property
    def events(self) -> list[str]:
        return ["created", *(EVENT_KINDS[c["type"]] for c in self.changes)]


PLANS = (
    Plan(
        "Is volume 3 coming out in paperback?",
        "pre_sale",
        "Asking before I order the set.",
        "normal",
        False,
    ),
    Plan(
        "Parcel has not arrived",
        "order_issue",
        "The tracking has not moved for a week.",
        "high",
        True,
        (
            {"type": "assign", "to": "sam"},
            {"type": "reply", "body": "Sorry about that: we asked the carrier and will write again."},
            {"type": "status", "to": "pending"},
        ),
    ),
    Plan(
        "Cover arrived damaged",
        "complaint",
        "The cover of the book is torn.",
        "normal",
        True,
        (
            {"type": "note", "body": "Second damaged parcel from this carrier this month."},
            {"type": "priority", "to": "urgent"},
            {"type": "assign", "to": "alex"},
            {"type": "tag", "add": ["carrier", "damaged"]},
        ),
    ),
    Plan(
        "Gift wrapping at checkout",
        "suggestion",
        "It would be nice to wrap gifts.",
        "low",
        False,
        (
            {"type": "note", "body": "Waiting for the shop's packaging supplier."},
            {"type": "status", "to": "on_hold"},
        ),
    ),
    Plan(
        "Wrong edition delivered",
        "return_request",
        "I ordered the hardback.",
        "normal",
        True,
        (
            {"type": "assign", "to": "sam"},
            {"type": "reply", "body": "A return label is on its way; the hardback ships today."},
            {"type": "status", "to": "solved"},
        ),
    ),
    Plan(
        "Pages missing from volume 2",
        "complaint",
        "Pages 40 to 56 are blank.",
        "normal",
        True,
        (
            {"type": "assign", "to": "alex"},
            {"type": "reply", "body": "A new copy is on its way; keep the faulty one."},
            {"type": "status", "to": "solved"},
        ),
    ),
    Plan(
        "Fifty copies for our school?",
        "pre_sale",
        "We would like a class set of volume 1.",
        "normal",
        False,
        (
            {"type": "assign", "to": "alex"},
            {"type": "reply", "body": "Yes: our wholesale desk will send you an offer."},
            {"type": "status", "to": "solved"},
        ),
    ),
    Plan(
        "Invoice with my company name",
        "order_issue",
        "Please put the company on the invoice.",
        "normal",
        True,
        ({"type": "tag", "add": ["invoice"]},),
    ),
)
EVENT_KINDS = {
    "reply": "public_reply",
    "note": "internal_note",
    "status": "status_changed",
    "priority": "priority_changed",
    "assign": "assigned",
    "tag": "tagged",
}


@dataclass
class Opened:
    plan: Plan
    ticket_id: str
    customer_id: str
    order_id: str | None


def _post(local: Any, ws: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"}
    return http.post(f"{local.api_url}{path}", json.dumps(body).encode(), headers)


def _get(local: Any, ws: Any, path: str) -> Any:
    status, answer = http.get(f"{local.api_url}{path}", ws.api_key)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {answer}")
    return answer


def choose(people: list[Person], orders: list[SimOrder], seed: int) -> list[Person]:
    """The customers the tickets are for: buyers, one per plan, drawn from the seed."""
    by_index = {o.person.index: o.person for o in orders if not o.cancelled}
    buyers = [by_index[i] for i in sorted(by_index)]
    pool = buyers if len(buyers) >= len(PLANS) else people
    return random.Random(f"tickets-{seed}").sample(pool, min(len(PLANS), len(pool)))


def open_tickets(
    local: Any, ws: Any, people: list[Person], ids: dict[str, str]
) -> tuple[list[Opened], list[str]]:
    """Each plan's ticket, opened by the customer's email and worked through the API."""
    opened, problems = [], []
    for plan, person in zip(PLANS, people, strict=False):
        customer_id = ids.get(person.email)
        if customer_id is None:
            problems.append(f"no profile for simulated customer {person.index}")
            continue
        order_id = None
        if plan.about_order:
            timeline = _get(local, ws, f"/customers/{quote(customer_id)}")["timeline"]
            order_id = next((e["order_id"] for e in timeline if e.get("order_id")), None)
        body = {"email": person.email, "subject": plan.subject, "kind": plan.kind, "body": plan.body}
        body |= {"priority": plan.priority} | ({"order_id": order_id} if order_id else {})
        status, answer = _post(local, ws, "/tickets", body)
        if status != 201:
            problems.append(f"POST /tickets ({plan.kind}): {status} {answer.get('error')}")
            continue
        ticket = Opened(plan, answer["id"], customer_id, order_id)
        for change in plan.changes:
            status, answer = _post(local, ws, f"/tickets/{quote(ticket.ticket_id)}/events", change)
            if status != 200:
                problems.append(f"{ticket.ticket_id} {change['type']}: {status} {answer.get('error')}")
        opened.append(ticket)
    return opened, problems


def check(local: Any, ws: Any, opened: list[Opened]) -> list[str]:
    """Every ticket, queue and customer's list against the plans: the mismatches."""
    problems = []
    for t in opened:
        got = _get(local, ws, f"/tickets/{quote(t.ticket_id)}")
        want = {
            "customer_id": t.customer_id,
            "kind": t.plan.kind,
            "status": t.plan.status,
            "priority": t.plan.final_priority,
            "assignee": t.plan.assignee,
            "tags": sorted(t.plan.tags),
            "order_id": t.order_id,
            "events": t.plan.events,
        }
        actual = {k: got[k] for k in want if k not in ("tags", "events")}
        written = [e["kind"] for e in got["events"] if e["kind"] in WRITTEN]
        actual |= {"tags": sorted(got["tags"]), "events": written}
        if actual != want:
            problems.append(f"ticket {t.ticket_id}: expected {want}, got {actual}")
        theirs = _get(local, ws, f"/customers/{quote(t.customer_id)}/tickets?limit=100")["tickets"]
        if t.ticket_id not in [x["id"] for x in theirs]:
            problems.append(f"ticket {t.ticket_id} missing from its customer's tickets")
    for status in STATUSES:  # the demo's workspace holds these tickets only, in creation order
        listed = [x["id"] for x in _get(local, ws, f"/tickets?status={status}&limit=100")["tickets"]]
        expected = [t.ticket_id for t in opened if t.plan.status == status]
        if listed != expected:
            problems.append(f"queue {status}: expected {expected}, got {listed}")
    return problems


def run(
    local: Any, ws: Any, people: list[Person], orders: list[SimOrder], ids: dict[str, str], seed: int
) -> tuple[list[str], int, list[Opened]]:
    """Open and work the tickets, check them: (the summary lines, the number of mismatches,
    the tickets opened)."""
    opened, problems = open_tickets(local, ws, choose(people, orders, seed), ids)
    problems += check(local, ws, opened)
    counts = {s.replace("_", " "): sum(t.plan.status == s for t in opened) for s in STATUSES}
    by_status = ", ".join(f"{s} {n}" for s, n in counts.items() if n)
    events = sum(len(t.plan.events) for t in opened)
    lines = [
        f"tickets                       {len(opened)} for {len({t.customer_id for t in opened})} customers "
        f"({by_status}), {events} events; each queue and customer's list checked",
        *[f"  MISMATCH {p}" for p in problems[:10]],
    ]
    return lines, len(problems), opened
