"""The console's service pages in headless Chromium against the session's demo stack
(tests/e2e/conftest.py; the demo opened and worked a handful of tickets through the API): the
queue is the API's, page by page and filtered; a ticket shows its event log and, beside it,
the customer panel whose figures are the API's; a note posted from the page is appended (the
API confirms); both pages fit a laptop and a phone with no console error. Screenshots go to
test-artefacts/console/. Runs after test_console.py and before test_schema_api.py."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest

from patron import http
from tests.e2e import test_console as console
from tests.e2e.test_console import ARTEFACTS, LAPTOP, PHONE, Tab, api, rows_equal, same

pytestmark = pytest.mark.e2e
browser, demo = console.browser, console.demo  # the same fixtures: one browser, one demo stack
STATUSES = ("open", "pending", "on_hold", "solved", "closed")
OPEN = ("open", "pending", "on_hold")


@pytest.fixture
def tab(browser: Any, demo: dict[str, Any]) -> Any:
    opened = Tab(browser, demo["api_url"], LAPTOP)
    opened.sign_in(demo["console"]["api_key"])
    opened.page.wait_for_selector('section.page[aria-busy="false"]')
    yield opened
    opened.close()


def queue(demo: dict[str, Any], query: str) -> list[dict[str, Any]]:
    return list(api(demo, f"/tickets?{query}&limit=100")["tickets"])


def shown_queue(tab: Tab) -> list[list[str]]:
    """The queue's rows: ticket (the last column), subject, customer, kind, priority, assignee
    (age and SLA aside)."""
    return [[row[-1], *row[:5]] for row in tab.figure("tickets")[1]]


def want_queue(demo: dict[str, Any], tickets: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for t in tickets:
        c = api(demo, f"/customers/{quote(t['customer_id'])}")
        name = " ".join(p for p in (c["first_name"], c["last_name"]) if p) or t["customer_id"]
        rows.append([t["id"], t["subject"], name, t["kind"].replace("_", " "), t["priority"], t["assignee"]])
    return rows


def test_the_demo_opened_and_checked_its_tickets(demo):
    # Given the demo's summary
    summary = demo["summary"]
    # Then it opened and worked its tickets, and they matched what it planned
    line = re.search(r"tickets +(\d+) for (\d+) customers \(([^)]*)\), (\d+) events", summary)
    assert line is not None, summary[-1500:]
    assert int(line[1]) == 8 and "MISMATCH" not in summary
    # And the API's queues hold them, every status's count as the summary says
    counts = dict(part.rsplit(" ", 1) for part in line[3].split(", "))
    for status in STATUSES:
        assert len(queue(demo, f"status={status}")) == int(counts.get(status.replace("_", " "), 0)), status


def test_the_queue_shows_the_apis_tickets_by_status_filtered_and_page_by_page(tab, demo):
    for status in STATUSES:
        # When a status's queue is opened
        tab.show("tickets", f"?status={status}")
        # Then its rows are the API's, oldest first, with the customers' names
        assert rows_equal(shown_queue(tab), want_queue(demo, queue(demo, f"status={status}"))), status
    # When the queue is filtered by assignee and by kind through the form
    page = tab.show("tickets")
    page.select_option("form.search select[name=status]", "pending")
    page.fill("form.search input[name=assignee]", "sam")
    page.click("form.search button[type=submit]")
    page.wait_for_selector('figure[data-query="status=pending&assignee=sam&limit=20"]')
    # Then the rows are the API's for that filter
    pending = queue(demo, "status=pending&assignee=sam")
    assert pending and rows_equal(shown_queue(tab), want_queue(demo, pending))
    tab.show("tickets", "?status=open&kind=complaint")
    complaints = queue(demo, "status=open&kind=complaint")
    assert complaints and rows_equal(shown_queue(tab), want_queue(demo, complaints))
    # When the open queue is read two at a time
    opened = queue(demo, "status=open")
    assert len(opened) > 2
    page = tab.show("tickets", "?status=open&limit=2")
    assert [r[0] for r in shown_queue(tab)] == [t["id"] for t in opened[:2]]
    page.click("a[data-next]")
    page.wait_for_selector('figure[data-query*="cursor="]')
    # Then the next page follows the API's cursor
    assert [r[0] for r in shown_queue(tab)] == [t["id"] for t in opened[2:4]]
    assert tab.errors == []


def test_a_ticket_shows_its_events_and_the_customer_panel_equals_the_apis(tab, demo):
    # Given the demo's complaint, with a note, a priority change, an assignee and tags
    chosen = queue(demo, "status=open&kind=complaint")[0]
    ticket = api(demo, f"/tickets/{quote(chosen['id'])}")
    cid = quote(ticket["customer_id"])
    customer = api(demo, f"/customers/{cid}")
    points, tier = api(demo, f"/customers/{cid}/points?limit=1"), api(demo, f"/customers/{cid}/tier")
    scores = api(demo, f"/customers/{cid}/segments")["scores"]
    theirs = api(demo, f"/customers/{cid}/tickets?limit=50")["tickets"]
    # When it is opened from the queue
    page = tab.show("tickets", "?status=open&kind=complaint")
    page.click(f'td[data-key="subject"] a[data-ticket="{chosen["id"]}"]')
    page.wait_for_selector(f'section.page[data-ticket="{chosen["id"]}"][aria-busy="false"]')
    # Then its event log is the API's, every kind in order, the note's text shown
    items = page.locator("ol.events li")
    assert [items.nth(i).get_attribute("data-kind") for i in range(items.count())] == [
        e["kind"] for e in ticket["events"]
    ]
    note = next(e for e in ticket["events"] if e["kind"] == "internal_note")
    assert note["data"]["body"] in str(page.text_content("li.event.internal_note .event-body"))
    assert page.text_content('[data-fact="assignee"]') == ticket["assignee"]
    assert page.text_content('[data-fact="tags"]') == ", ".join(ticket["tags"])
    # And the customer panel's figures are the API's
    for key in ("orders_count", "net_spent"):
        assert same(tab.kpi(key), customer[key]), key
    assert same(tab.kpi("points_available"), points["available"])
    assert tab.kpi("tier") == (tier["tier"] or "none")
    assert scores and "clv" in scores, scores  # the demo's nightly job fitted a model
    assert same(tab.kpi("clv"), scores["clv"])
    assert Decimal(tab.kpi("churn")) == 1 - Decimal(scores["p_alive"])
    # with their orders' statuses and totals, newest first, and their open tickets
    order_ids: list[str] = []
    for e in sorted(customer["timeline"], key=lambda e: e["at"], reverse=True):
        if e.get("order_id") and e["type"].startswith("order_") and e["order_id"] not in order_ids:
            order_ids.append(e["order_id"])
    keys = ("number", "status", "financial_status", "fulfillment_status", "total", "currency")
    orders = [api(demo, f"/orders/{quote(o)}") for o in order_ids[:10]]
    shown = [row[:1] + row[2:] for row in tab.figure("customer-orders")[1]]  # the date aside
    assert orders and rows_equal(shown, [[o[k] for k in keys] for o in orders])
    open_ones = [
        [t["id"], t["subject"], t["status"].replace("_", " ")] for t in theirs if t["status"] in OPEN
    ]
    assert rows_equal(tab.figure("customer-tickets")[1], open_ones)
    assert chosen["id"] in [r[0] for r in open_ones]
    # When the customer's name is followed to their 360
    page.click(f'aside.customer-panel a[data-customer="{ticket["customer_id"]}"]')
    page.wait_for_selector(
        'section.page[data-page="/customers"][aria-busy="false"] figure[data-chart="tickets.csv"]'
    )
    # Then the 360 lists their tickets as the API does, and the ticket's link goes back to it
    assert [r[0] for r in tab.figure("tickets.csv")[1]] == [t["id"] for t in theirs]
    page.click(f'figure[data-chart="tickets.csv"] a[data-ticket="{chosen["id"]}"]')
    page.wait_for_selector(f'section.page[data-ticket="{chosen["id"]}"][aria-busy="false"]')
    assert tab.errors == []


def test_a_note_and_a_status_posted_from_the_page_are_appended(tab, demo):
    # Given an open ticket and its log
    chosen = queue(demo, "status=open")[-1]
    before = api(demo, f"/tickets/{quote(chosen['id'])}")["events"]
    page = tab.show("tickets", f"?id={quote(chosen['id'])}")
    # When an agent writes an internal note on the page
    page.fill("form[data-action=message] textarea", "Called the carrier: parcel found.")
    page.click("form[data-action=message] button[value=note]")
    page.wait_for_selector(f"ol.events li:nth-child({len(before) + 1})")
    # Then the API has it as the ticket's last event, and the page shows it last
    after = api(demo, f"/tickets/{quote(chosen['id'])}")["events"]
    assert len(after) == len(before) + 1
    assert (
        after[-1]["kind"] == "internal_note"
        and after[-1]["data"]["body"] == "Called the carrier: parcel found."
    )
    assert page.locator("ol.events li").last.get_attribute("data-kind") == "internal_note"
    # When the ticket is set pending from the page
    page.select_option("form[data-action=status] select[name=to]", "pending")
    page.click("form[data-action=status] button")
    page.wait_for_selector('[data-fact="status"]:text-is("pending")')
    # Then the API says so, and the event follows the note
    detail = api(demo, f"/tickets/{quote(chosen['id'])}")
    assert detail["status"] == "pending" and detail["events"][-1]["kind"] == "status_changed"
    assert detail["events"][-1]["data"] == {"from": "open", "to": "pending"}
    # When the same status is asked again, the API's refusal shows under the actions
    page.click("form[data-action=status] button")
    page.wait_for_selector(".action-result .error")
    assert "409" in str(page.text_content(".action-result .error"))
    assert len(api(demo, f"/tickets/{quote(chosen['id'])}")["events"]) == len(after) + 1
    # the browser notes the refused request (409) as a console error; nothing else
    assert len(tab.errors) == 1 and "409" in tab.errors[0], tab.errors


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_the_queue_and_a_ticket_fit_a_laptop_and_a_phone(browser, demo, viewport, name):
    # Given a signed-in tab of the viewport's size, and a ticket with a reply
    tab = Tab(browser, demo["api_url"], viewport)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    replied = next(t for s in STATUSES for t in queue(demo, f"status={s}") if t["assignee"] == "sam")
    try:
        tab.sign_in(demo["console"]["api_key"])
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        for label, query in (("tickets", "?status=open"), ("ticket", f"?id={quote(replied['id'])}")):
            # When the queue and the ticket are opened
            page = tab.show("tickets", query)
            page.screenshot(path=str(ARTEFACTS / f"{name}-{label}.png"), full_page=True)
            # Then the page fits the screen's width (wide tables scroll inside their box)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (label, overflow)
        # And the ticket's reply and its customer panel are shown
        assert page.locator("li.event.public_reply").count() >= 1
        assert page.locator('aside.customer-panel [data-kpi="orders_count"]').count() == 1
        # And no page logged a console error
        assert tab.errors == []
    finally:
        tab.close()


def test_the_console_posts_with_the_key_only(demo):
    # Given a ticket, and a request without the workspace's key
    chosen = queue(demo, "status=open")[0]
    url = f"{demo['api_url']}/tickets/{quote(chosen['id'])}/events"
    body = json.dumps({"type": "note", "body": "not allowed"}).encode()
    # When it is posted as the page would, but with no key
    status, answer = http.post(url, body, {"Content-Type": "application/json"})
    # Then it is refused before anything is read, and the log is unchanged
    assert status == 401 and answer["error"]
    events = api(demo, f"/tickets/{quote(chosen['id'])}")["events"]
    assert all(e["data"].get("body") != "not allowed" for e in events)
