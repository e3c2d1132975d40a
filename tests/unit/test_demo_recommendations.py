"""The demo's recommendations (src/patron/demo/recommendations.py): the planted series is
deterministic and apart from the simulated store, and the check reports every way the API's
answer can differ from it (the API and the stack faked here; the run against the local stack
is tests/e2e/test_demo.py and tests/e2e/test_console_recommend.py)."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from patron.demo import recommendations as rec
from patron.synthetic.store import simulate

NOW = datetime(2031, 12, 31, 23, 30, tzinfo=UTC)  # the module takes `now`: no clock read here
VOL_1_ID, VOL_2_ID = str(zlib.crc32(b"series-1-vol-1")), str(zlib.crc32(b"series-1-vol-2"))


def item(product_id: str, kind: str, anchor: str | None = None, days: int | None = None) -> dict[str, Any]:
    text = f"usually bought {days} days after The Long Road, Vol. 1" if kind == "bought_next" else kind
    return {
        "product_id": product_id,
        "source_id": "src_shop",
        "title": None,
        "url": None,
        "image": None,
        "price": None,
        "currency": None,
        "score": 0.5,
        "reason": {"kind": kind, "product_id": anchor, "days": days, "category": None, "text": text},
    }


def test_the_planted_series_is_deterministic_each_reader_buying_vol_2_after_vol_1():
    # Given the same seed and day twice
    orders, newcomer = rec.planted(3, NOW)
    again, _ = rec.planted(3, NOW)
    # Then the orders are the same, oldest first, all in the past, each id once
    assert [(o.order_id, o.created, o.sku) for o in orders] == [(o.order_id, o.created, o.sku) for o in again]
    assert [o.created for o in orders] == sorted(o.created for o in orders)
    assert all(o.created < NOW for o in orders)
    assert len({o.order_id for o in orders}) == len(orders) == 2 * rec.READERS + 1
    # And each reader bought Vol. 1, then Vol. 2 exactly GAP_DAYS later
    by_reader: dict[str, list[Any]] = {}
    for o in orders:
        by_reader.setdefault(o.person.email, []).append(o)
    readers = {e: os for e, os in by_reader.items() if e != newcomer.email}
    assert len(readers) == rec.READERS
    for bought in readers.values():
        assert [o.sku for o in bought] == [rec.VOL_1, rec.VOL_2]
        assert bought[1].created - bought[0].created == timedelta(days=rec.GAP_DAYS)
    # And the newcomer bought Vol. 1 only, days ago
    assert [(o.sku, NOW - o.created) for o in by_reader[newcomer.email]] == [
        (rec.VOL_1, timedelta(days=rec.NEWCOMER_DAYS))
    ]


def test_the_planted_readers_are_nobody_of_the_simulated_store():
    # Given the demo's simulated store and the planted readers for the same seed
    people, orders, _ = simulate(3, 40, NOW)
    planted, _ = rec.planted(3, NOW)
    # Then no email, Shopify customer id or order id is shared (the store's truths stay as they were)
    assert not {p.email for p in people} & {o.person.email for o in planted}
    assert not {p.shopify_id for p in people} & {o.person.shopify_id for o in planted}
    assert not {o.order_id for o in orders} & {o.order_id for o in planted}


def test_a_planted_order_is_the_shops_webhook_for_one_book_without_marketing_consent():
    # Given the first planted order
    order = rec.planted(3, NOW)[0][0]
    # When it is made into the shop's orders/create body
    body = rec.order_body(rec.random.Random(3), order)
    # Then it names the book by the Shopify product id and the SKU, at its price, for its reader
    (line,) = body["line_items"]
    assert (line["product_id"], line["sku"], line["quantity"]) == (int(VOL_1_ID), rec.VOL_1, 1)
    assert body["total_price"] == line["price"] == "14.00"
    assert body["email"] == order.person.email and body["customer"]["id"] == order.person.shopify_id
    # And the reader gets no marketing from the demo's flows
    assert body["customer"]["email_marketing_consent"]["state"] == "not_subscribed"


def test_a_book_of_the_catalogue_is_the_shops_product_webhook_with_its_price_and_stock():
    # When Vol. 2 is made into the shop's products/create body
    body = rec.product_body(rec.VOL_2, NOW)
    # Then it has the id orders name it by, its title, price, SKU and stock, and no picture
    assert (body["id"], body["title"], body["status"]) == (int(VOL_2_ID), "The Long Road, Vol. 2", "active")
    variant = body["variants"][0]
    assert (variant["sku"], variant["price"], variant["inventory_quantity"]) == (rec.VOL_2, "16.00", 50)
    assert body["images"] == [] and body["updated_at"] == "2031-12-31T18:30:00-05:00"


@pytest.mark.parametrize("vol_2", [VOL_2_ID, "series-1-vol-2"])
def test_vol_2_bought_next_after_vol_1_matches_the_planted_truth(vol_2):
    # Given the API's answer: Vol. 2, usually bought 21 days after Vol. 1, second of three
    answer = {
        "items": [item("x", "popular"), item(vol_2, "bought_next", VOL_1_ID, 21), item("y", "similar", "z")]
    }
    # When it is checked
    lines, failures = rec.check(answer, "c_new")
    # Then nothing fails and the summary line says where and why
    assert failures == 0
    assert lines == [
        "recommendations               c_new bought The Long Road, Vol. 1: The Long Road, Vol. 2 #2 of 3, "
        '"usually bought 21 days after The Long Road, Vol. 1" (planted: 6 readers, 21 days apart)'
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, "Vol. 2 is not recommended (nothing)"),
        ({"items": [item("x", "popular")]}, "Vol. 2 is not recommended (x (popular))"),
        ({"items": [item(VOL_2_ID, "similar", VOL_1_ID)]}, "Vol. 2's reason is similar"),
        ({"items": [item(VOL_2_ID, "bought_next", "series-3-vol-1", 5)]}, "not bought_next after Vol. 1"),
        (
            {"items": [item(VOL_2_ID, "bought_next", VOL_1_ID, 21), item(VOL_1_ID, "repeat_due")]},
            "Vol. 1 recommended to a customer who bought it",
        ),
    ],
)
def test_every_difference_from_the_planted_truth_is_a_mismatch(answer, expected):
    # When an answer that differs from the planted truth is checked
    lines, failures = rec.check(answer, "c_new")
    # Then it counts as one failure, and the summary says which
    assert failures == 1
    assert any(line.startswith("  MISMATCH recommendations") and expected in line for line in lines), lines


class FakeStack:
    """The local stack's URLs, its scheduled jobs (by name) and the stream's wait."""

    api_url, webhook_url = "http://127.0.0.1:1", "http://127.0.0.1:2"

    def __init__(self, jobs: dict[str, Any]) -> None:
        self.jobs, self.ran, self.waits = jobs, [], 0

    def run_schedule(self, name: str) -> Any:
        self.ran.append(name)
        return self.jobs[name]

    def wait_idle(self) -> bool:
        self.waits += 1
        return True


class FakeHttp:
    """Webhook posts recorded; GETs answered by path prefix."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers, self.posted, self.asked = answers, [], []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        self.posted.append((url, json.loads(body), headers))
        return 200, {"status": "stored"}

    def get(self, url: str, api_key: str) -> tuple[int, Any]:
        path = url.removeprefix(FakeStack.api_url)
        self.asked.append(path)
        return next(v for k, v in self.answers.items() if path.startswith(k))


class Workspace:
    api_key = "pk_test"


def test_the_run_plants_trains_through_the_scheduled_job_and_asks_the_api(monkeypatch):
    # Given a stack with the training job and an API that recommends Vol. 2 to the newcomer
    answers = {
        f"/customers?email={rec.planted(3, NOW)[1].email}": (200, {"customers": [{"customer_id": "c_new"}]}),
        "/customers/c_new/recommendations": (200, {"items": [item(VOL_2_ID, "bought_next", VOL_1_ID, 21)]}),
    }
    fake = FakeHttp(answers)
    monkeypatch.setattr(rec, "http", fake)
    stack = FakeStack({"recommend_train": {"workspaces": 1, "orders": 71}})
    # When the demo's phase runs
    lines, failures = rec.run(stack, Workspace(), "shpss_secret", 3, NOW)
    # Then the catalogue's books and every planted order went to the shop's webhook, signed,
    # each once, before the job ran once
    topics = sorted(h["X-Shopify-Topic"] for _, _, h in fake.posted)
    assert topics == ["orders/create"] * (2 * rec.READERS + 1) + ["products/create"] * len(rec.TITLES)
    assert len({h["X-Shopify-Webhook-Id"] for _, _, h in fake.posted}) == len(fake.posted)
    assert all(url == "http://127.0.0.1:2/webhooks/shopify" for url, _, _ in fake.posted)
    assert all(h["X-Shopify-Hmac-Sha256"] for _, _, h in fake.posted)
    books = {b["id"]: b["title"] for _, b, h in fake.posted if h["X-Shopify-Topic"] == "products/create"}
    assert books[int(VOL_2_ID)] == "The Long Road, Vol. 2"
    assert stack.ran == ["recommend_train"] and stack.waits == 2
    # And the newcomer's recommendations were read for the web placement, and matched
    assert fake.asked[-1] == "/customers/c_new/recommendations?placement=web&limit=10"
    assert failures == 0
    assert re.fullmatch(
        r"  trained by the recommend_train job in \d+\.\d s, the phase \d+\.\d s: workspaces 1, orders 71",
        lines[-1],
    ), lines[-1]


def test_a_stack_without_the_training_job_is_a_mismatch(monkeypatch):
    # Given a stack with no recommend_train job
    monkeypatch.setattr(rec, "http", FakeHttp({}))
    # When the demo's phase runs
    lines, failures = rec.run(FakeStack({}), Workspace(), "shpss_secret", 3, NOW)
    # Then it says so as a mismatch
    assert failures == 1 and lines == [
        "  MISMATCH recommendations: no `recommend_train` scheduled job in this stack"
    ]
