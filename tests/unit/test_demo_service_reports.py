"""The demo's reports (src/patron/demo/service_reports.py): the truth of the SLA, CSAT and
pipeline reports is worked out from the plans, and the checks report every difference with
the API's answers (the API faked here; the run against the local stack is tests/e2e/test_demo.py
and tests/e2e/test_console_reports.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from patron.demo import service_reports as reports
from patron.demo import tickets
from patron.demo.service_reports import Deal

TODAY = date(2031, 12, 31)  # the checks take the day as an argument: no clock read here


def opened() -> list[tickets.Opened]:
    return [tickets.Opened(plan, f"tk_{i}", f"c_{i}", None) for i, plan in enumerate(tickets.PLANS)]


def solved() -> list[tickets.Opened]:
    return [t for t in opened() if t.plan.status == "solved"]


class FakeApi:
    """GET answers by path prefix; records the paths asked."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers, self.asked = answers, []

    def __call__(self, _local: Any, _ws: Any, path: str) -> Any:
        self.asked.append(path)
        return next(v for k, v in self.answers.items() if path.startswith(k))


def sla_rows(met: dict[tuple[str, str], int], breached: int = 0) -> dict[str, Any]:
    rows = [
        {"policy_id": p, "target": t, "met": n, "breached": 0, "share_met": "1.0000"}
        for (p, t), n in met.items()
    ]
    rows[0]["breached"] = breached
    return {"rows": rows, "tickets": len(tickets.PLANS)}


def test_each_ticket_falls_under_the_example_policy_of_its_final_priority():
    assert [reports.policy_of(p) for p in ("urgent", "high", "normal", "low")] == [
        "urgent",
        "high",
        "standard",
        "standard",
    ]


def test_the_sla_report_must_count_each_reply_and_resolution_as_met(monkeypatch):
    # Given the plans: replied tickets meet their first reply, solved ones their resolution
    want = {("high", "first_reply"): 1, ("standard", "first_reply"): 3, ("standard", "resolution"): 3}
    fake = FakeApi({"/service/reports/sla": sla_rows(want)})
    monkeypatch.setattr(reports, "_get", fake)
    # When the API answers that, the check finds nothing, over the day before to today
    problems, figures = reports.check_sla(None, None, opened(), TODAY)
    assert problems == [] and figures == {"met": 7, "tickets": len(tickets.PLANS)}
    assert fake.asked == ["/service/reports/sla?from=2031-12-30&to=2031-12-31"]
    # When one target breached or one is missing, it is reported
    for wrong in (sla_rows(want, breached=1), sla_rows({**want, ("standard", "resolution"): 2})):
        monkeypatch.setattr(reports, "_get", FakeApi({"/service/reports/sla": wrong}))
        problems, _ = reports.check_sla(None, None, opened(), TODAY)
        assert len(problems) == 1 and problems[0].startswith("SLA report")


def csat(groups: dict[str, list[int]]) -> dict[str, Any]:
    rows = [{"group": g, "sent": s, "answered": a, "satisfied": k} for g, (s, a, k) in groups.items()]
    return {"groups": rows, "total": {"sent": 3, "answered": 2, "csat": "0.5000"}}


def test_the_csat_report_by_agent_must_count_the_planned_answers(monkeypatch):
    # Given the solved plans' agents and the answers (a 5 for sam; a 2 and no answer for alex)
    assert [t.plan.assignee for t in solved()] == ["sam", "alex", "alex"]
    right = csat({"sam": [1, 1, 1], "alex": [2, 1, 0]})
    monkeypatch.setattr(reports, "_get", FakeApi({"/service/reports/csat": right}))
    # Then the matching answer passes, and the total is what the summary prints
    problems, figures = reports.check_csat(None, None, solved(), TODAY)
    assert problems == [] and figures == {"sent": 3, "answered": 2, "csat": "0.5000"}
    # And an answer counted as satisfied that was not is reported
    wrong = csat({"sam": [1, 1, 1], "alex": [2, 1, 1]})
    monkeypatch.setattr(reports, "_get", FakeApi({"/service/reports/csat": wrong}))
    assert len(reports.check_csat(None, None, solved(), TODAY)[0]) == 1


def deals() -> list[Deal]:
    return [
        Deal("op_0", "ana", Decimal("1200"), "new"),
        Deal("op_1", "ana", Decimal("5000"), "proposal"),
        Deal("op_2", "bob", Decimal("800"), "negotiation"),
        Deal("op_3", "bob", Decimal("1500"), "won"),
        Deal("op_4", "ana", Decimal("300"), "lost"),
    ]


def pipeline(forecast: str, bob_won: str = "1500.00") -> dict[str, Any]:
    figures = {
        "new": (1, "1200.00", "120.00"),
        "qualified": (0, "0.00", "0.00"),
        "proposal": (1, "5000.00", "2500.00"),
        "negotiation": (1, "800.00", "600.00"),
        "won": (1, "1500.00", "1500.00"),
        "lost": (1, "300.00", "0.00"),
    }
    stages = [{"stage": s, "count": c, "value": v, "weighted": w} for s, (c, v, w) in figures.items()]
    owners = [
        {"owner": "ana", "won": "0.00", "target": "10000.00"},
        {"owner": "bob", "won": bob_won, "target": "2000.00"},
    ]
    return {"stages": stages, "forecast": forecast, "owners": owners, "currency": "USD"}


@pytest.mark.parametrize(
    ("view", "found"),
    [(pipeline("3220.00"), 0), (pipeline("3220.01"), 1), (pipeline("3220.00", bob_won="0.00"), 1)],
)
def test_the_pipeline_must_weigh_the_open_stages_and_count_the_won_against_targets(monkeypatch, view, found):
    # Given the demo's deals: the forecast is the open stages' value x probability
    listed = {"opportunities": [{"id": d.id} for d in deals()]}
    monkeypatch.setattr(reports, "_get", FakeApi({"/pipeline": view, "/opportunities": listed}))
    # When the API's pipeline is checked
    problems, figures = reports.check_pipeline(None, None, deals())
    # Then only a wrong forecast or a wrong owner's won value is reported
    assert len(problems) == found, problems
    assert figures == {"deals": 5, "forecast": Decimal("3220.00"), "currency": "USD"}


class FakeLocal:
    webhook_url = "http://127.0.0.1:1"
    api_url = "http://127.0.0.1:2"

    def __init__(self) -> None:
        self.idle = 0

    def wait_idle(self) -> None:
        self.idle += 1


@pytest.mark.parametrize(("difference", "found"), [("120.00", 0), ("0.00", 1)])
def test_the_won_deal_must_link_the_restock_order_with_its_value_and_difference(
    monkeypatch, difference, found
):
    # Given the won deal (1500 forecast) of a simulated Shopify customer
    people, _, _ = simulate_people()
    person = next(p for p in people if "shopify" in p.platforms)
    posted: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        posted.append((url, json.loads(body), headers))
        return 200, {}

    detail = {"order_id": "o_1", "actual_value": "1620.00", "difference": difference}
    monkeypatch.setattr(reports.http, "post", post)
    monkeypatch.setattr(reports, "_get", FakeApi({"/opportunities/op_3": detail}))
    local = FakeLocal()
    # When the customer's restock order is sent and the deal read again
    problems = reports.reconcile(local, None, Deal("op_3", "bob", Decimal("1500"), "won"), person, "s")
    # Then one signed orders/create of 60 x 27.00 went to the Shopify webhook, the stream drained
    [(url, body, headers)] = posted
    assert url.endswith("/webhooks/shopify") and headers["X-Shopify-Topic"] == "orders/create"
    assert body["contact_email"] == person.email and Decimal(body["total_price"]) == Decimal("1620.00")
    assert local.idle == 1
    # And only a link with the order's value and the difference from 1500 passes
    assert len(problems) == found, problems


def simulate_people() -> Any:
    from datetime import UTC, datetime

    from patron.synthetic.store import simulate

    return simulate(3, 40, datetime(2031, 12, 31, 23, 30, tzinfo=UTC))
