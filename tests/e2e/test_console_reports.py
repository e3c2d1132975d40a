"""The console's service reports and pipeline pages in headless Chromium against the session's
demo stack (tests/e2e/conftest.py; the demo switched on SLA policies and surveys, answered the
solved tickets' surveys through their links and opened a handful of opportunities): every figure
shown equals the API's for the same range or period, each CSV equals its table, the charts are
drawn, an opportunity's log is the API's, on a laptop and a phone with no console error.
Screenshots go to test-artefacts/console/. Runs after test_console.py and before
test_console_service.py and test_schema_api.py (which write)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e import test_console as console
from tests.e2e.test_console import ARTEFACTS, LAPTOP, PHONE, Tab, api, rate, rows_equal, same

pytestmark = pytest.mark.e2e
browser, demo = console.browser, console.demo  # the same fixtures: one browser, one demo stack
STATUSES = ("open", "pending", "on_hold", "solved", "closed")
SERVICE_CHARTS = ["sla.csv", "csat-by-agent.csv", "csat-by-kind.csv", "csat-by-period.csv"]
PIPELINE_CHARTS = ["pipeline-stages.csv", "pipeline-owners.csv"]


@pytest.fixture
def tab(browser: Any, demo: dict[str, Any]) -> Any:
    opened = Tab(browser, demo["api_url"], LAPTOP)
    opened.sign_in(demo["console"]["api_key"])
    opened.page.wait_for_selector('section.page[aria-busy="false"]')
    yield opened
    opened.close()


def demo_range(demo: dict[str, Any]) -> tuple[str, str]:
    """Days around the demo's tickets and surveys, from the API's own timestamps (never this
    process's clock): the day before the first ticket to the day after the last event."""
    tickets = [t for s in STATUSES for t in api(demo, f"/tickets?status={s}&limit=100")["tickets"]]
    stamps = [e["at"] for t in tickets for e in api(demo, f"/tickets/{quote(t['id'])}")["events"]]
    first, last = date.fromisoformat(min(stamps)[:10]), date.fromisoformat(max(stamps)[:10])
    return str(first - timedelta(days=1)), str(last + timedelta(days=1))


def sla_rows(report: dict[str, Any], settings: dict[str, Any]) -> list[list[Any]]:
    names = {p["id"]: p["name"] for p in settings["policies"]}
    return [
        [r["policy_id"], names[r["policy_id"]], r["target"], r["met"], r["breached"], rate(r["share_met"])]
        for r in report["rows"]
    ]


def csat_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [
        [g["group"], g["sent"], g["answered"], g["satisfied"], rate(g["csat"]), rate(g["response_rate"])]
        for g in report["groups"]
    ]


def test_the_demo_checked_its_surveys_sla_and_pipeline(demo):
    # Given the demo's summary
    summary = demo["summary"]
    # Then it answered surveys, counted SLA targets and opened opportunities, all as planned
    line = re.search(
        r"SLA: (\d+) targets met over (\d+) tickets; CSAT: (\d+) surveys sent, (\d+) answered", summary
    )
    assert line is not None, summary[-1500:]
    assert int(line[1]) > 0 and int(line[3]) > int(line[4]) > 0
    pipe = re.search(r"sales pipeline +(\d+) opportunities, forecast ([\d.]+) (\w+)", summary)
    assert pipe is not None and int(pipe[1]) > 0, summary[-1500:]
    assert "MISMATCH" not in summary
    # And the API's pipeline has that forecast and every opportunity
    assert same(pipe[2], api(demo, "/pipeline")["forecast"])
    assert len(api(demo, "/opportunities")["opportunities"]) == int(pipe[1])


def test_the_service_reports_equal_the_apis_for_a_range(tab, demo):
    # Given a range around the demo's tickets and the API's reports for it
    since, until = demo_range(demo)
    span = f"from={since}&to={until}"
    sla, settings = api(demo, f"/service/reports/sla?{span}"), api(demo, "/service/sla")
    by = {k: api(demo, f"/service/reports/csat?{span}&by={k}") for k in ("agent", "kind")}
    by["period"] = api(demo, f"/service/reports/csat?{span}&by=period&period=day")
    assert sla["rows"] and by["agent"]["groups"] and by["kind"]["groups"]
    # When the page is opened through its form
    page = tab.show("service")
    page.fill("form.period-form input[name=from]", since)
    page.fill("form.period-form input[name=to]", until)
    page.select_option("form.period-form select[name=period]", "day")
    page.click("form.period-form button[type=submit]")
    page.wait_for_selector(f'section.page[data-from="{since}"][data-to="{until}"][aria-busy="false"]')
    # Then the SLA figures are the API's: the counts, and per policy and target the share met
    assert same(tab.kpi("sla_tickets"), sla["tickets"])
    assert same(tab.kpi("sla_without_policy"), sla["without_policy"])
    assert same(tab.kpi("sla_met"), sum(r["met"] for r in sla["rows"]))
    assert same(tab.kpi("sla_breached"), sum(r["breached"] for r in sla["rows"]))
    assert rows_equal(tab.figure("sla.csv")[1], sla_rows(sla, settings))
    assert f"calendar in {settings['calendar']['zone']}" in str(page.text_content("[data-calendar]"))
    # And CSAT with its response rate per agent, kind and day is the API's
    total = by["agent"]["total"]
    assert same(tab.kpi("csat_sent"), total["sent"]) and same(tab.kpi("csat_answered"), total["answered"])
    assert tab.kpi("csat") == rate(total["csat"])
    assert tab.kpi("csat_response_rate") == rate(total["response_rate"])
    for name, key in (
        ("csat-by-agent.csv", "agent"),
        ("csat-by-kind.csv", "kind"),
        ("csat-by-period.csv", "period"),
    ):
        assert rows_equal(tab.figure(name)[1], csat_rows(by[key])), name
    assert "Surveys on" in str(page.text_content("[data-csat-settings]"))
    assert tab.errors == []


def test_the_service_reports_default_range_is_the_apis_too(tab, demo):
    # When the page is opened with no range (the last 30 days to the browser's today)
    page = tab.show("service")
    since, until = (
        page.get_attribute("section.page", "data-from"),
        page.get_attribute("section.page", "data-to"),
    )
    # Then it shows the API's reports for the range it states, the demo's surveys among them
    sla = api(demo, f"/service/reports/sla?from={since}&to={until}")
    agents = api(demo, f"/service/reports/csat?from={since}&to={until}&by=agent")
    assert f"created {since} to {until}" in str(page.text_content("[data-period]"))
    assert rows_equal(tab.figure("sla.csv")[1], sla_rows(sla, api(demo, "/service/sla")))
    assert rows_equal(tab.figure("csat-by-agent.csv")[1], csat_rows(agents))
    assert agents["total"]["sent"] > 0


def test_the_pipeline_equals_the_apis_and_an_opportunity_shows_its_log(tab, demo):
    # Given the API's pipeline for its default period and its opportunities
    view = api(demo, "/pipeline")
    listed = api(demo, "/opportunities")["opportunities"]
    # When the pipeline page is opened
    page = tab.show("pipeline")
    # Then the period, the forecast and each stage's count, value and weighted value are the API's
    assert page.get_attribute("[data-period]", "data-period") == view["period"]
    assert same(tab.kpi("forecast"), view["forecast"]) and same(tab.kpi("stale"), view["stale"])
    keys = ("stage", "probability", "outcome", "count", "value", "weighted")
    assert rows_equal(tab.figure("pipeline-stages.csv")[1], [[s[k] for k in keys] for s in view["stages"]])
    # And per owner the value won against the period's target
    owners = [[o["owner"], o["won"], o["won_count"], o["target"], rate(o["share"])] for o in view["owners"]]
    assert owners and rows_equal(tab.figure("pipeline-owners.csv")[1], owners)
    # And the opportunities are the API's list
    assert [r[-1] for r in tab.figure("opportunities.csv")[1]] == [o["id"] for o in listed]
    # When the list is filtered to the stale ones and to one owner through the form
    page.check("form[data-form=opportunities] input[name=stale]")
    page.click("form[data-form=opportunities] button[type=submit]")
    page.wait_for_selector('figure[data-query="stale=true"]')
    stale = api(demo, "/opportunities?stale=true")["opportunities"]
    assert [r[-1] for r in tab.figure("opportunities.csv")[1]] == [o["id"] for o in stale]
    owner = listed[0]["owner"]
    page = tab.show("pipeline", f"?owner={quote(owner)}")
    theirs = api(demo, f"/opportunities?owner={quote(owner)}")["opportunities"]
    assert theirs and [r[-1] for r in tab.figure("opportunities.csv")[1]] == [o["id"] for o in theirs]
    assert tab.download("opportunities.csv")[1:] == tab.figure("opportunities.csv")[1]
    # When the won opportunity is opened from the list
    won = next(o for o in listed if o["outcome"] == "won")
    page = tab.show("pipeline")
    page.click(f'a[data-opportunity="{won["id"]}"]')
    page.wait_for_selector(f'section.page[data-opportunity="{won["id"]}"][aria-busy="false"]')
    # Then its facts and its log, oldest first, are the API's
    detail = api(demo, f"/opportunities/{quote(won['id'])}")
    assert page.text_content('[data-fact="stage"]') == detail["stage"]
    assert page.text_content('[data-fact="value"]') == f"{detail['value']} {detail['currency']}"
    log = tab.figure("opportunity-log.csv")[1]
    assert [[r[0], r[1], r[2]] for r in log] == [[e["at"], e["kind"], e["by"]] for e in detail["events"]]
    # with the move to won and the order it was reconciled with (the demo's restock order)
    kinds = [e["kind"] for e in detail["events"]]
    assert any(r[1] == "stage_changed" and "to: won" in r[3] for r in log)
    linked = log[kinds.index("order_linked")][3]
    assert detail["order_id"] and f"order id: {detail['order_id']}" in linked
    assert page.text_content('[data-fact="order_id"]') == detail["order_id"]
    assert same(str(page.text_content('[data-fact="actual_value"]')), detail["actual_value"])
    assert same(str(page.text_content('[data-fact="difference"]')), detail["difference"])
    assert tab.download("opportunity-log.csv") == [tab.figure("opportunity-log.csv")[0], *log]
    assert tab.errors == []


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_the_reports_draw_their_charts_and_csvs_on_a_laptop_and_a_phone(browser, demo, viewport, name):
    # Given a signed-in tab of the viewport's size
    tab = Tab(browser, demo["api_url"], viewport)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    since, until = demo_range(demo)
    try:
        tab.sign_in(demo["console"]["api_key"])
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        for page_name, query, charts in (
            ("service", f"?from={since}&to={until}", SERVICE_CHARTS),
            ("pipeline", "", PIPELINE_CHARTS),
        ):
            # When each page is opened
            shown = tab.show(page_name, query)
            shown.screenshot(path=str(ARTEFACTS / f"{name}-{page_name}.png"), full_page=True)
            for chart in charts:
                # Then its charts are drawn (the first series' blue on the canvas)
                assert tab.blue_pixels(chart) > 100, (page_name, chart)
                # And each CSV holds exactly its table's header and cells
                head, rows = tab.figure(chart)
                assert rows and tab.download(chart) == [head, *rows], (page_name, chart)
            # And the page fits the screen's width (wide tables scroll inside their box)
            overflow = shown.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (page_name, overflow)
        # And an opportunity's page fits too
        first = api(demo, "/opportunities")["opportunities"][0]
        shown = tab.show("pipeline", f"?id={quote(first['id'])}")
        shown.screenshot(path=str(ARTEFACTS / f"{name}-opportunity.png"), full_page=True)
        assert shown.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        # And no page logged a console error
        assert tab.errors == []
    finally:
        tab.close()
