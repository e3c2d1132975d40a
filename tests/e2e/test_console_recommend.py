"""The console's recommendations in headless Chromium against the session's demo stack
(tests/e2e/conftest.py; the demo planted a series, Vol. 2 bought three weeks after Vol. 1,
trained the recommender with its scheduled job and checked a newcomer's recommendations):
the 360's "Recommended" panel is the API's answer for the web placement, a product's page
shows the API's related and complementary products, a workspace with no model and a stack
without the routes show the empty state; on a laptop and a phone, with no console error.
Screenshots go to test-artefacts/console/. Runs after test_console.py and reads only (a
new workspace aside)."""

from __future__ import annotations

import json
import re
import time
import zlib
from typing import Any
from urllib.parse import quote

import pytest

from patron import http, stack
from tests.e2e import test_console as console
from tests.e2e.test_console import ARTEFACTS, LAPTOP, PHONE, Tab, api

pytestmark = pytest.mark.e2e
browser, demo = console.browser, console.demo  # the same fixtures: one browser, one demo stack
VOL_1, VOL_2 = str(zlib.crc32(b"series-1-vol-1")), str(zlib.crc32(b"series-1-vol-2"))
NOT_YET = "No recommendations yet: the model trains daily."
SUMMARY = re.compile(
    r"recommendations +(c_\S+) bought The Long Road, Vol\. 1: The Long Road, Vol\. 2 #(\d+) of (\d+)"
)
CARDS = """(lis) => lis.map((li) => ({
  product_id: li.dataset.product,
  kind: li.dataset.kind,
  title: li.querySelector(".title").textContent,
  href: li.querySelector("a.title") ? li.querySelector("a.title").getAttribute("href") : null,
  price: li.querySelector(".price").textContent,
  reason: li.querySelector(".reason").textContent,
  image: li.querySelector("img") ? li.querySelector("img").getAttribute("src") : null,
  ref: li.querySelector("a.related") ? li.querySelector("a.related").dataset.ref : null,
}))"""


def card(item: dict[str, Any]) -> dict[str, Any]:
    """What the console must show of one of the API's items."""
    url, image = item["url"] or "", item["image"] or ""
    return {
        "product_id": item["product_id"],
        "kind": item["reason"]["kind"],
        "title": item["title"] or item["product_id"],
        "href": url if url.startswith(("http:", "https:")) else None,
        "price": "" if item["price"] is None else f"{item['price']} {item['currency'] or ''}".strip(),
        "reason": item["reason"]["text"],
        "image": image if image.startswith("https:") else None,  # the page's policy allows no other
        "ref": f"{item['source_id']}.{item['product_id']}" if item["source_id"] else None,
    }


def shown(tab: Tab, name: str) -> list[dict[str, Any]]:
    return list(tab.page.locator(f'figure[data-list="{name}"] li.product').evaluate_all(CARDS))


def newcomer(demo: dict[str, Any]) -> str:
    """The customer the demo checked: bought Vol. 1 only (its summary names them)."""
    line = SUMMARY.search(demo["summary"])
    assert line is not None, demo["summary"][-2000:]
    return line[1]


@pytest.fixture
def tab(browser: Any, demo: dict[str, Any]) -> Any:
    opened = Tab(browser, demo["api_url"], LAPTOP)
    opened.sign_in(demo["console"]["api_key"])
    opened.page.wait_for_selector('section.page[aria-busy="false"]')
    yield opened
    opened.close()


def test_the_demo_checked_its_planted_series_and_the_api_agrees(demo):
    # Given the demo's summary: the newcomer who bought Vol. 1 gets Vol. 2, as bought next
    summary = demo["summary"]
    line = SUMMARY.search(summary)
    assert line is not None, summary[-2000:]
    cid, rank, count = line.groups()
    assert "MISMATCH" not in summary and "recommendations match the simulated truth" in summary
    # When the API is asked for the same customer and placement
    answer = api(demo, f"/customers/{quote(cid)}/recommendations?placement=web&limit=10")
    # Then Vol. 2 is where the summary says, bought next after Vol. 1, and Vol. 1 is not offered
    ids = [i["product_id"] for i in answer["items"]]
    assert len(ids) == int(count) and ids[int(rank) - 1] in (VOL_2, "series-1-vol-2")
    reason = answer["items"][int(rank) - 1]["reason"]
    assert reason["kind"] == "bought_next" and reason["product_id"] in (VOL_1, "series-1-vol-1")
    assert VOL_1 not in ids and "series-1-vol-1" not in ids
    assert answer["customer_id"] == cid and answer["placement"] == "web" and answer["trained_at"]


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_the_360_shows_the_apis_recommendations_with_their_reasons(browser, demo, viewport, name):
    # Given the newcomer and the API's recommendations for the web placement, 8 of them
    cid = newcomer(demo)
    answer = api(demo, f"/customers/{quote(cid)}/recommendations?placement=web&limit=8")
    assert answer["items"]
    tab = Tab(browser, demo["api_url"], viewport)
    try:
        tab.sign_in(demo["console"]["api_key"])
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        # When their 360 is opened
        page = tab.show("customers", f"?id={quote(cid)}")
        # Then the panel lists the API's products in its order: title, link, price, reason, picture
        assert shown(tab, "recommendations") == [card(i) for i in answer["items"]]
        panel = page.locator('figure[data-list="recommendations"]')
        assert panel.get_attribute("data-trained-at") == answer["trained_at"]
        # And the book the demo planted is there with its reason in words
        texts = [
            c["reason"] for c in shown(tab, "recommendations") if c["product_id"] in (VOL_2, "series-1-vol-2")
        ]
        assert texts and texts[0].startswith("usually bought ") and "after" in texts[0]
        # And the page fits the screen's width, with no console error
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, overflow
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"{name}-customer-recommendations.png"), full_page=True)
        assert tab.errors == []
    finally:
        tab.close()


def test_a_recommended_products_page_shows_the_apis_related_and_complementary(tab, demo):
    # Given the newcomer's recommendations, Vol. 2 among them with its product page
    cid = newcomer(demo)
    items = api(demo, f"/customers/{quote(cid)}/recommendations?placement=web&limit=8")["items"]
    vol_2 = next(i for i in items if i["product_id"] == VOL_2)
    ref = f"{vol_2['source_id']}.{VOL_2}"
    related = api(demo, f"/products/{quote(ref)}/related?limit=8")
    # When the 360 is opened and Vol. 2's "related" link followed
    page = tab.show("customers", f"?id={quote(cid)}")
    page.click(f'li.product[data-product="{VOL_2}"] a.related')
    page.wait_for_selector(f'section.page[data-product="{ref}"][aria-busy="false"]')
    # Then the page is the catalogue's book with the API's related and complementary products
    assert page.text_content("section.page h1") == "The Long Road, Vol. 2"
    product = api(demo, f"/products/{quote(ref)}")
    assert (
        page.text_content('[data-fact="price"]') == f"{product['price']} {product['currency'] or ''}".strip()
    )
    assert shown(tab, "related") == [card(i) for i in related["related"]]
    assert shown(tab, "complementary") == [card(i) for i in related["complementary"]]
    # When Vol. 1's page is opened through the form
    vol_1 = f"{vol_2['source_id']}.{VOL_1}"
    page.fill("form.search input[name=id]", vol_1)
    page.click("form.search button[type=submit]")
    page.wait_for_selector(f'section.page[data-product="{vol_1}"][aria-busy="false"]')
    # Then Vol. 2 is among its complementary products, as the API says, with its reason
    after = api(demo, f"/products/{quote(vol_1)}/related?limit=8")
    assert VOL_2 in [i["product_id"] for i in after["complementary"]]
    assert shown(tab, "complementary") == [card(i) for i in after["complementary"]]
    assert shown(tab, "related") == [card(i) for i in after["related"]]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "laptop-product-related.png"), full_page=True)
    assert tab.errors == []


def test_a_workspace_with_no_model_yet_shows_the_empty_state(browser, demo):
    # Given a new workspace whose orders come from an import, and no training since
    cli = demo["cli"]
    made = json.loads(cli("workspace", "create", "Console before training", "--json"))
    source = json.loads(
        cli("source", "add", "-w", made["workspace_id"], "--platform", "generic",
            "--shop-domain", "before-training.example", "--secret", "gen_before_training_0000")
    )  # fmt: skip
    example = stack.ROOT / "events" / "import" / "generic_orders.jsonl"
    cli("import", "orders", str(example), "-w", made["workspace_id"], "--source", source["source_id"],
        "--format", "generic-jsonl")  # fmt: skip
    key = made["api_key"]
    shopper = None
    for _ in range(300):  # the stream makes the profiles (a bound, not a timing)
        found = http.get(f"{demo['api_url']}/customers?limit=5", key)[1]["customers"]
        shopper = next((c for c in found if c["orders_count"] > 0), None)
        if shopper:
            break
        time.sleep(0.1)
    assert shopper is not None
    status, answer = http.get(
        f"{demo['api_url']}/customers/{quote(shopper['customer_id'])}/recommendations?placement=web&limit=8",
        key,
    )
    assert status == 200 and answer["items"] == []
    tab = Tab(browser, demo["api_url"], PHONE)
    try:
        tab.sign_in(key)
        tab.page.wait_for_selector('section.page[aria-busy="false"]')
        # When a customer's 360 is opened
        page = tab.show("customers", f"?id={quote(shopper['customer_id'])}")
        # Then the panel says the model has not trained yet, and the rest of the 360 is there
        assert page.text_content('figure[data-list="recommendations"] [data-empty]') == NOT_YET
        assert page.locator('figure[data-chart="timeline.csv"] tbody tr').count() > 0
        # And the only console errors are the browser's notes of the tier's 409 (loyalty is off)
        assert all("409" in e for e in tab.errors), tab.errors
    finally:
        tab.close()


def test_a_stack_without_the_recommendation_routes_shows_the_empty_state(tab, demo):
    # Given a stack whose API has no recommendation routes (a 404 in the API's error shape)
    missing = json.dumps({"error": "not_found", "message": "no such route"})

    def absent(route: Any) -> None:
        route.fulfill(status=404, content_type="application/json", body=missing)

    cid = newcomer(demo)
    items = api(demo, f"/customers/{quote(cid)}/recommendations?placement=web&limit=8")["items"]
    vol_1 = f"{next(i['source_id'] for i in items if i['source_id'])}.{VOL_1}"
    tab.page.route(re.compile(r".*/(recommendations|related)(\?.*)?$"), absent)
    # When the 360 and a product's page are opened
    page = tab.show("customers", f"?id={quote(cid)}")
    # Then the panel says there is nothing yet, and the 360 is drawn as before
    assert page.text_content('figure[data-list="recommendations"] [data-empty]') == NOT_YET
    assert page.locator('[data-kpi="orders_count"]').count() == 1
    page = tab.show("products", f"?id={quote(vol_1)}")
    for name in ("related", "complementary"):
        assert page.text_content(f'figure[data-list="{name}"] [data-empty]') == NOT_YET
    # And the only console errors are the browser's notes of the two refusals (404)
    assert len(tab.errors) == 2 and all("404" in e for e in tab.errors), tab.errors
