"""The web console in headless Chromium (Debian's, driven by Playwright; no downloaded
browser) against the local stack after a small demo run, as a person uses it: signed in with
the key `patron console` prints, each page loads with no console error, every figure shown
equals the API's, charts are drawn, each CSV download equals its table, on a laptop and a
phone. Screenshots go to test-artefacts/console/ (not committed)."""

from __future__ import annotations

import csv
import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from patron import http
from tests.e2e.demo_process import Demo

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts" / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PAGES = ["overview", "members", "rfm", "lifecycle", "cohorts", "churn", "loyalty"]
PAGES += ["customers", "segments", "campaigns", "ops"]


@pytest.fixture(scope="module")
def demo(shared_demo: Demo) -> dict[str, Any]:
    """The session's small `patron demo --keep-running` (tests/e2e/conftest.py)."""
    console = json.loads(shared_demo.cli("console", "--json"))  # what a user types to sign in
    return {
        "api_url": shared_demo.url,
        "summary": shared_demo.summary,
        "console": console,
        "cli": shared_demo.cli,
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: `make setup` installs it (as root)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Tab:
    """A browser tab on the console that records every console error and page error."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def sign_in(self, key: str) -> None:
        self.page.goto(f"{self.base}/console")
        self.page.fill("#api-key", key)
        self.page.click("form.sign-in button[type=submit]")

    def show(self, page: str, query: str = "") -> Any:
        self.page.goto(f"{self.base}/console#/{page}{query}")
        self.page.wait_for_selector(f'section.page[data-page="/{page}"][aria-busy="false"]')
        return self.page

    def kpi(self, key: str) -> str:
        return str(self.page.text_content(f'[data-kpi="{key}"] dd'))

    def figure(self, name: str) -> tuple[list[str], list[list[str]]]:
        """The header and the cells of the table in the figure whose CSV is `name`."""
        figure = self.page.locator(f'figure[data-chart="{name}"]')
        head = figure.locator(".table-wrap thead th").all_text_contents()  # not a chart's legend
        rows = [row.locator("td").all_text_contents() for row in figure.locator(".table-wrap tbody tr").all()]
        return head, rows

    def download(self, name: str) -> list[list[str]]:
        with self.page.expect_download() as info:
            self.page.locator(f'figure[data-chart="{name}"] a.csv').click()
        assert info.value.suggested_filename == name
        with open(info.value.path(), newline="", encoding="utf-8") as file:
            return list(csv.reader(file))

    def blue_pixels(self, name: str) -> int:
        """Pixels of the figure's canvas in the charts' blue (axes and grid are grey)."""
        canvas = self.page.locator(f'figure[data-chart="{name}"] canvas')
        assert canvas.count() >= 1, f"no chart drawn for {name}"
        return int(
            canvas.first.evaluate(
                """(c) => {
                  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let n = 0;
                  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] - d[i] > 60) n++;
                  return n;
                }"""
            )
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, demo: dict[str, Any]) -> Iterator[Tab]:
    opened = Tab(browser, demo["api_url"], LAPTOP)
    yield opened
    opened.close()


def same(text: str, value: Any) -> bool:
    """A cell's text is the API's value: strings as they came, numbers equal as decimals."""
    if value is None:
        return text == ""
    if isinstance(value, str):
        return text == value
    return Decimal(text) == Decimal(str(value))


def percent(value: Any) -> str:
    return f"{Decimal(str(value)) * 100:.2f}%"


def rate(value: Any) -> str:
    """A share as the console shows it, or nothing for none."""
    return "" if value is None else percent(value)


def rows_equal(got: list[list[str]], want: list[list[Any]]) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(same(t, v) for t, v in zip(g, w, strict=True))
        for g, w in zip(got, want, strict=True)
    )


def period(demo: dict[str, Any]) -> str:
    """The API's default period as whole days, given to the console and the API alike so both
    read the same report."""
    _, report = http.get(f"{demo['api_url']}/analytics/report", demo["console"]["api_key"])
    return f"?from={report['period']['from'][:10]}&to={report['period']['to'][:10]}"


def test_the_demo_and_patron_console_print_the_url_and_a_key(demo):
    # Given the demo's stack running, whose summary ended with the console's line
    printed = demo["console"]
    line = f"console: {demo['api_url']}/console  (sign in with the API key {printed['api_key']})"
    assert line in demo["summary"]
    # Then `patron console` names the same console and the demo workspace's key
    assert printed["url"] == f"{demo['api_url']}/console"
    assert printed["api_key"].startswith("pk_") and printed["workspace_id"].startswith("ws_")
    assert line in demo["cli"]("console")
    # And that key reads the workspace's report
    status, report = http.get(f"{demo['api_url']}/analytics/report", printed["api_key"])
    assert status == 200 and report["kpis"]["orders"] > 0


def test_every_figure_shown_equals_the_apis(tab, demo):
    # Given the report and the loyalty section the API gives for one period
    query = period(demo)
    api_key = demo["console"]["api_key"]
    _, report = http.get(f"{demo['api_url']}/analytics/report{query}", api_key)
    _, books = http.get(f"{demo['api_url']}/analytics/loyalty{query}", api_key)
    k, groups = report["kpis"], report["members_vs_guests"]
    # When a person signs in with the key `patron console` printed and opens each page
    tab.sign_in(demo["console"]["api_key"])
    tab.page.wait_for_selector('section.page[aria-busy="false"]')
    page = tab.show("overview", query)
    # Then the overview states the period and shows the KPIs as the API gives them
    assert f"Period {report['period']['from'][:10]} to {report['period']['to'][:10]} (UTC)" in str(
        page.text_content("[data-period]")
    )
    _, settings = http.get(f"{demo['api_url']}/workspace/settings", api_key)
    window = f"attribution window, {settings['attribution_days']} days after a click"
    assert window in str(page.text_content("[data-attribution]"))
    for key in ("revenue", "net_revenue", "orders", "average_order_value", "active_customers"):
        assert same(tab.kpi(key), k[key]), key
    assert tab.kpi("repeat_purchase_rate") == percent(k["repeat_purchase_rate"])
    assert tab.kpi("churn_rate") == percent(k["churn_rate"])
    assert same(tab.kpi("active_members"), groups["members"]["active_customers"])
    gaps = tab.figure("days-between-orders.csv")
    assert rows_equal(gaps[1], [[d, n] for d, n in report["days_between_orders"].items()])
    # And the trend over the period: the report's own buckets (months, or weeks), one call
    keys = ("label", "revenue", "net_revenue", "orders", "average_order_value")
    keys += ("new_buyers", "returning_buyers", "active_members")
    trend = [[bucket[name] for name in keys] for bucket in report["trends"]["buckets"]]
    assert trend and sum(row[3] for row in trend) == k["orders"]
    assert rows_equal(tab.figure("trends.csv")[1], trend)
    # And members vs guests, side by side
    tab.show("members", query)
    head, rows = tab.figure("members-vs-guests.csv")
    assert head == ["measure", "members", "guests"] and len(rows) == 11
    for measure, members, guests in rows:
        key = measure.replace(" ", "_")
        assert same(members, groups["members"][key]) and same(guests, groups["guests"][key]), measure
    # And the cohorts' retention, month by month
    tab.show("cohorts", query)
    cohorts = sorted(report["cohort_retention"].items())
    want = [[month, c["customers"], *c["retention"]] for month, c in cohorts]
    _, rows = tab.figure("cohort-retention.csv")
    assert rows_equal([r[: len(w)] for r, w in zip(rows, want, strict=True)], want)
    assert all(cell == "" for r, w in zip(rows, want, strict=True) for cell in r[len(w) :])
    # And the churn points
    tab.show("churn", query)
    churn = report["churn_points"]
    assert same(tab.kpi("lost_customers"), churn["lost_customers"])
    assert rows_equal(
        tab.figure("churn-after-orders.csv")[1], [[n, c] for n, c in churn["after_orders"].items()]
    )
    products = [
        [p["product"], p["title"], p["last_order_of_lost_customers"], p["buyers"], p["share"]]
        for p in churn["after_products"]
    ]
    assert products and rows_equal(tab.figure("churn-products.csv")[1], products)
    # And the loyalty liability and the tiers
    tab.show("loyalty", query)
    total = books["liability"]["total"]
    for key in ("outstanding", "available", "pending", "expiring_30d"):
        assert same(tab.kpi(key), total["points"][key]), key
    assert same(tab.kpi("outstanding_money"), total["money"]["outstanding"])
    assert same(tab.kpi("customers"), total["customers"])
    parts = ("available", "pending", "debt", "expiring_30d", "outstanding")
    liability = [
        [
            part,
            *[
                x
                for p in parts
                for x in (books["liability"][part]["points"][p], books["liability"][part]["money"][p])
            ],
            books["liability"][part]["customers"],
        ]
        for part in ("customers", "erased", "total")
    ]
    assert rows_equal(tab.figure("loyalty-liability.csv")[1], liability)
    tiers = [
        [group.replace("_", "-"), tier, t["customers"], t["orders"], t["revenue"], t["orders_per_customer"]]
        for group in ("members", "non_members")
        for tier, t in books["by_tier"][group].items()
    ]
    assert rows_equal(tab.figure("loyalty-by-tier.csv")[1], tiers)
    # And nothing went wrong in the browser
    assert tab.errors == []


CHARTS = {
    "overview": ["days-between-orders.csv", "trends.csv"],
    "members": ["members-vs-guests-net-revenue.csv", "members-vs-guests-repeat-purchase-rate.csv"],
    "cohorts": ["cohort-retention.csv"],
    "churn": ["churn-after-orders.csv"],
    "loyalty": ["loyalty-by-tier.csv"],
    "customers": [],
    "segments": ["segment-sizes.csv"],
    "campaigns": ["campaigns.csv", "flows.csv"],
    "rfm": ["rfm-grid.csv"],
    "lifecycle": ["lifecycle-stages.csv", "lifecycle-funnel.csv"],
    "ops": [],
}
TABLES = {
    "members": ["members-vs-guests.csv"],
    "churn": ["churn-products.csv"],
    "loyalty": ["loyalty-liability.csv"],
    "customers": ["customers.csv"],
    "rfm": ["rfm-cells.csv"],
    "ops": ["dead-letters.csv"],
}


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_each_page_draws_its_charts_and_downloads_its_tables_on_a_laptop_and_a_phone(
    browser, demo, viewport, name
):
    # Given a signed-in tab of the viewport's size
    tab = Tab(browser, demo["api_url"], viewport)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    try:
        tab.sign_in(demo["console"]["api_key"])
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        for page in PAGES:
            # When each page is opened
            shown = tab.show(page)
            shown.screenshot(path=str(ARTEFACTS / f"{name}-{page}.png"), full_page=True)
            # Then its charts are drawn (the series' blue on the canvas) beside their tables
            for chart in CHARTS[page]:
                assert tab.blue_pixels(chart) > 100, (page, chart)
            # And each CSV downloaded holds exactly the table's header and cells
            for figure in CHARTS[page] + TABLES.get(page, []):
                head, rows = tab.figure(figure)
                assert rows, (page, figure)
                assert tab.download(figure) == [head, *rows], (page, figure)
            # And the page fits the screen's width (wide tables scroll inside their box)
            overflow = shown.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (page, overflow)
        # And no page logged a console error
        assert tab.errors == []
    finally:
        tab.close()


def test_loyalty_is_a_note_where_points_are_off_and_a_wrong_key_is_refused(browser, demo):
    # Given a new workspace, whose points are off
    key = json.loads(demo["cli"]("workspace", "create", "Console without points", "--json"))["api_key"]
    tab = Tab(browser, demo["api_url"], LAPTOP)
    try:
        # When a wrong key is typed
        tab.sign_in("pk_not_a_key")
        # Then the sign-in says so and stays
        tab.page.wait_for_selector("text=That key is not a workspace's API key.")
        # When the workspace's key is typed and its loyalty page opened
        tab.page.fill("#api-key", key)
        tab.page.click("form.sign-in button[type=submit]")
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        page = tab.show("loyalty")
        # Then the page is a note saying loyalty is off, with no figures
        assert "Loyalty is off" in str(page.text_content("[data-loyalty-off]"))
        assert page.locator("[data-kpi]").count() == 0
        # And the only console errors are the browser's notes of the two refusals (401, 409)
        assert len(tab.errors) == 2, tab.errors
        assert "401" in tab.errors[0] and "409" in tab.errors[1], tab.errors
        # And signing out forgets the key
        page.click("#account button")
        page.wait_for_selector("#api-key")
        assert page.evaluate("sessionStorage.length") == 0
    finally:
        tab.close()


def api(demo: dict[str, Any], path: str) -> Any:
    """The API's JSON answer to the console's key (200 or the test fails)."""
    status, body = http.get(f"{demo['api_url']}{path}", demo["console"]["api_key"])
    assert status == 200, (path, body)
    return body


def api_text(demo: dict[str, Any], path: str) -> tuple[str, str | None]:
    """A text answer (CSV) and its X-Next-Cursor header."""
    request = urllib.request.Request(
        f"{demo['api_url']}{path}", headers={"Authorization": f"Bearer {demo['console']['api_key']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # the demo's stack: loopback
        return response.read().decode(), response.headers.get("X-Next-Cursor")


def test_a_search_finds_a_demo_customer_and_opens_their_360(tab, demo):
    # Given a demo customer with orders, and what the API says of them
    listed = api(demo, "/customers?limit=100")["customers"]
    chosen = next(c for c in listed if c["orders_count"] >= 2 and c["email"] and c["last_name"])
    cid = quote(chosen["customer_id"])
    edit = {"tags_add": ["console-vip"], "note": "Prefers paperbacks."}
    request = urllib.request.Request(
        f"{demo['api_url']}/customers/{cid}",
        data=json.dumps(edit).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {demo['console']['api_key']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # the demo's stack: loopback
        assert response.status == 200
    prefix = chosen["email"][:6]
    found = api(demo, f"/customers?q={quote(prefix)}&limit=25")
    detail = api(demo, f"/customers/{cid}")
    points = api(demo, f"/customers/{cid}/points?limit=50")
    tier = api(demo, f"/customers/{cid}/tier")
    segments = api(demo, f"/customers/{cid}/segments")
    runs = api(demo, f"/customers/{cid}/flows")
    first = api(demo, "/customers?limit=25")
    second = api(demo, f"/customers?limit=25&cursor={quote(first['next_cursor'])}")
    # When a person opens the customers and the next page
    tab.sign_in(demo["console"]["api_key"])
    tab.page.wait_for_selector('section.page[aria-busy="false"]')
    page = tab.show("customers")
    # Then the pages are the API's, a cursor apart
    assert [r[0] for r in tab.figure("customers.csv")[1]] == [c["customer_id"] for c in first["customers"]]
    page.click("a[data-next]")
    page.wait_for_selector('figure[data-query^="cursor="]')
    assert [r[0] for r in tab.figure("customers.csv")[1]] == [c["customer_id"] for c in second["customers"]]
    # When they search the customers for the start of their email
    page.fill("form.search input[name=q]", prefix)
    page.click("form.search button[type=submit]")
    page.wait_for_selector(f'figure[data-query="{urlencode({"q": prefix, "limit": 25})}"]')
    # Then the results are the API's answer for that search, the customer among them
    _, rows = tab.figure("customers.csv")
    assert [r[0] for r in rows] == [c["customer_id"] for c in found["customers"]]
    assert chosen["customer_id"] in [r[0] for r in rows]
    # When their row is opened
    page.click(f'a[data-customer="{chosen["customer_id"]}"]')
    page.wait_for_selector('section.page[aria-busy="false"] [data-kpi="orders_count"]')
    # Then the 360 shows their figures as the API gives them
    for key in ("orders_count", "total_spent", "net_spent", "average_order_value"):
        assert same(tab.kpi(key), detail[key]), key
    assert same(tab.kpi("points_available"), points["available"])
    assert same(tab.kpi("points_pending"), points["pending"])
    assert tab.kpi("tier") == (tier["tier"] or "none")
    assert tab.kpi("lifecycle") == segments["lifecycle"]
    profile = dict(tab.figure("profile.csv")[1])
    assert profile["tags"] == ", ".join(detail["tags"]) and "console-vip" in detail["tags"]
    notes = [[n["created_at"], n["created_by"], n["text"]] for n in detail["notes"]]
    assert rows_equal(tab.figure("notes.csv")[1], notes) and notes[-1][2] == edit["note"]
    assert profile["email"] == detail["email"] and profile["customer"] == detail["customer_id"]
    for channel, label in (("email_consent", "email consent"), ("sms_consent", "SMS consent")):
        consent = detail[channel]
        assert profile[label].startswith(consent["state"]) if consent else profile[label] == "unknown"
    # And their timeline of orders and points, their segments, flow runs and ledger
    keys = ("at", "type", "order_number", "amount", "currency", "points", "tier_to")
    timeline = [[e.get(k) for k in keys] for e in detail["timeline"]]
    assert timeline and rows_equal(tab.figure("timeline.csv")[1], timeline)
    member_of = [[s["segment_id"], s["name"]] for s in segments["segments"] if s["member"]]
    assert rows_equal(tab.figure("segments.csv")[1], member_of)
    flow_keys = ("flow_id", "status", "step", "started", "reason")
    assert rows_equal(tab.figure("flow-runs.csv")[1], [[r.get(k) for k in flow_keys] for r in runs["runs"]])
    ledger_keys = ("at", "kind", "points", "order_id", "reason")
    ledger = [[e.get(k) for k in ledger_keys] for e in points["entries"]]
    assert rows_equal(tab.figure("points.csv")[1], ledger)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "laptop-customer-360.png"), full_page=True)
    assert tab.errors == []


def test_segments_show_their_sizes_and_a_segments_csv_download_equals_the_apis(tab, demo):
    # Given the workspace's segments and the built-in ones, with their sizes from the API
    stored = api(demo, "/segments")["segments"]
    builtin = [f"lifecycle:{s}" for s in ("prospect", "new", "active", "at_risk", "lapsed", "churned")]
    sizes = {s["segment_id"]: api(demo, f"/segments/{quote(s['segment_id'])}")["size"] for s in stored}
    sizes |= {s: api(demo, f"/segments/{quote(s, safe=':')}")["size"] for s in builtin}
    # When the segments page is opened
    tab.sign_in(demo["console"]["api_key"])
    tab.page.wait_for_selector('section.page[aria-busy="false"]')
    page = tab.show("segments")
    # Then every segment is listed with the API's size, and the chart is drawn
    shown = {row[0]: row[2] for row in tab.figure("segment-sizes.csv")[1]}
    assert all(same(shown[s], size) for s, size in sizes.items()), (shown, sizes)
    assert tab.blue_pixels("segment-sizes.csv") > 100
    # When the largest built-in stage is opened
    chosen = max(builtin, key=lambda s: sizes[s])
    assert sizes[chosen] > 0
    page.click(f'a[data-segment="{chosen}"]')
    page.wait_for_selector('section.page[data-page="/segments"][aria-busy="false"] [data-kpi="size"]')
    # Then its size and its first page of members are the API's
    assert same(tab.kpi("size"), sizes[chosen])
    members = api(demo, f"/segments/{quote(chosen, safe=':')}/members?limit=50")["customers"]
    assert [r[0] for r in tab.figure("segment-members")[1]] == members
    # And its size on each day is the API's record (the day's first job run)
    points = api(demo, f"/segments/{quote(chosen, safe=':')}/sizes")["points"]
    got = tab.figure("segment-sizes-over-time.csv")[1]
    assert rows_equal(got, [[p["day"], p["size"]] for p in points])
    # And the CSV it downloads is the API's file, every page joined
    text, cursor, pages = "", None, 0
    while pages == 0 or cursor:
        query = f"?limit=5000&cursor={quote(cursor)}" if cursor else "?limit=5000"
        part, cursor = api_text(demo, f"/segments/{quote(chosen, safe=':')}/members.csv{query}")
        text, pages = text + part, pages + 1
    with page.expect_download() as info:
        page.click("[data-download]")
    assert info.value.suggested_filename == chosen.replace(":", "_") + ".csv"
    assert Path(info.value.path()).read_bytes().decode("utf-8") == text
    assert len(list(csv.reader(text.splitlines()))) == sizes[chosen] + 1
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "laptop-segment-members.png"), full_page=True)
    assert tab.errors == []


RESULTS = ("sent", "delivered", "opened", "clicked", "unsubscribed", "orders", "revenue")


def test_campaigns_and_flows_show_the_apis_results(tab, demo):
    # Given the campaigns, the flows and the messaging statistics the API gives
    campaigns = api(demo, "/campaigns?limit=100")["campaigns"]
    flows = api(demo, "/flows")["flows"]
    scopes = {s["scope"]: s for s in api(demo, "/messaging/stats")["scopes"]}
    # When the campaigns page is opened
    tab.sign_in(demo["console"]["api_key"])
    tab.page.wait_for_selector('section.page[aria-busy="false"]')
    tab.show("campaigns")
    # Then each campaign's results are the API's, the demo's campaign among them with sends
    want = [
        [c["campaign_id"], c["name"], c["status"], c["channel"], c["segment_id"]]
        + [c["stats"][k] for k in RESULTS]
        + [c["winner"]]
        for c in campaigns
    ]
    assert want and rows_equal(tab.figure("campaigns.csv")[1], want)
    assert sum(c["stats"]["sent"] for c in campaigns) > 0
    # And each flow's results are its scope's statistics (zero before its first send)
    zero = dict.fromkeys(RESULTS, 0)
    want = [
        [f["flow_id"], f["name"], f["version"], "yes" if f["enabled"] else "no"]
        + [scopes.get(f"flow#{f['flow_id']}", zero)[k] for k in RESULTS]
        for f in flows
    ]
    assert want and rows_equal(tab.figure("flows.csv")[1], want)
    # And the A/B variants are the scopes with a variant
    variants = [s for s in scopes.values() if s["variant"]]
    keys = ("kind", "id", "variant", *RESULTS)
    want = [[*[s[k] for k in keys], rate(s["open_rate"]), rate(s["click_rate"])] for s in variants]
    assert rows_equal(tab.figure("ab-variants.csv")[1], want)
    # And each campaign's A/B decision where the API has made one
    decided = [api(demo, f"/campaigns/{c['campaign_id']}") for c in campaigns]
    keys = ("outcome", "winner", "leader", "p_value", "reason", "rule")
    want = [
        [c["campaign_id"], c["winner_metric"], *[c["decision"][k] for k in keys]]
        for c in decided
        if c["decision"]
    ]
    assert rows_equal(tab.figure("ab-decisions.csv")[1], want)
    assert tab.errors == []


def test_the_rfm_grid_lifecycle_and_ops_pages_show_the_apis_figures_and_open_segments(tab, demo):
    # Given the report's RFM grid and lifecycle funnel, and the ops health, from the API
    report = api(demo, "/analytics/report")
    grid, funnel = report["rfm_grid"], report["lifecycle_funnel"]
    health = api(demo, "/ops/health")
    assert grid["scored"] and grid["customers"] > 0
    # When the RFM grid is opened
    tab.sign_in(demo["console"]["api_key"])
    tab.page.wait_for_selector('section.page[aria-busy="false"]')
    page = tab.show("rfm")
    # Then each cell is the API's, in the grid (R5 first, F1 to F5) and in the list
    cells = {(c["r_score"], c["f_score"]): c["customers"] for c in grid["cells"]}
    want = [[f"R{r}", *[cells.get((r, f), 0) for f in range(1, 6)]] for r in range(5, 0, -1)]
    assert rows_equal(tab.figure("rfm-grid.csv")[1], want)
    keys = ("r_score", "f_score", "customers", "revenue")
    want = [[*[c[k] for k in keys], percent(c["share"]), c["definition"]] for c in grid["cells"]]
    assert rows_equal(tab.figure("rfm-cells.csv")[1], want)
    assert same(tab.kpi("rfm_customers"), grid["customers"])
    # When the fullest cell is opened
    cell = max(grid["cells"], key=lambda c: c["customers"])
    page.click(f'figure[data-chart="rfm-cells.csv"] [data-open-cell="{cell["r_score"]}-{cell["f_score"]}"]')
    page.wait_for_selector('section.page[data-page="/segments"][aria-busy="false"] [data-kpi="size"]')
    # Then it is the workspace's segment of the cell's definition, created once
    made = [s for s in api(demo, "/segments")["segments"] if s["definition"] == cell["definition"]]
    assert len(made) == 1 and f"id={made[0]['segment_id']}" in page.url
    # When the lifecycle page is opened
    page = tab.show("lifecycle")
    # Then its stages and funnel steps are the API's
    stages = [[s["stage"], s["customers"], percent(s["share"]), s["segment"]] for s in funnel["stages"]]
    assert rows_equal(tab.figure("lifecycle-stages.csv")[1], stages)
    steps = [
        [s["step"], s["customers"], rate(s["conversion"]), rate(s["of_customers"]), s["definition"]]
        for s in funnel["steps"]
    ]
    assert rows_equal(tab.figure("lifecycle-funnel.csv")[1], steps)
    # When a stage is opened, its built-in segment shows the API's size
    page.click('a[data-segment="lifecycle:active"]')
    page.wait_for_selector('section.page[data-page="/segments"][aria-busy="false"] [data-kpi="size"]')
    assert same(tab.kpi("size"), api(demo, "/segments/lifecycle:active")["size"])
    # When the ops page is opened, its figures are the API's
    tab.show("ops")
    assert same(tab.kpi("quarantine_open"), health["quarantine_open"])
    assert same(tab.kpi("dead_letters"), sum(q["messages"] for q in health["dead_letters"]))
    want = [[q["queue"], q["messages"]] for q in health["dead_letters"]]
    assert want and rows_equal(tab.figure("dead-letters.csv")[1], want)
    assert len(tab.figure("unconverted-currencies.csv")[1]) == len(health["unconverted_currencies"])
    assert tab.errors == []
