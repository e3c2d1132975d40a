"""The demo's recommendations (docs/recommendations.md): a planted series pattern, the
recommender trained by its scheduled job, and the answer of the HTTP API checked against it.

The simulated store's products are bought at random, so a pattern is planted beside it
(small and deterministic): `READERS` readers each bought The Long Road, Vol. 1 and, `GAP_DAYS`
days later, Vol. 2; a newcomer bought Vol. 1 only, a few days ago; the shop's catalogue
sends its books (titles, prices, stock) first. After the `recommend_train`
job (the same path the local stack runs it on its schedule), the newcomer's recommendations
must hold Vol. 2 with the reason `bought_next` after Vol. 1, and never Vol. 1 again (a book is
no repeat purchase). The readers are new customers after every other check of the demo, so
the store's truths stay as they were.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from patron import http
from patron.storefront import shopify_headers
from patron.synthetic.store import CATALOG, SHOP, Person, SimOrder
from patron.synthetic.storefront_bodies import shopify_order, timestamp

READERS = 6
GAP_DAYS = 21
NEWCOMER_DAYS = 6  # the newcomer's Vol. 1, this many days ago
JOB = "recommend_train"
VOL_1, VOL_2 = "series-1-vol-1", "series-1-vol-2"
TITLES = {sku: title for sku, title, _ in CATALOG}
PRICES = {sku: price for sku, _, price in CATALOG}


def ids_of(sku: str) -> set[str]:
    """The ids an order names the product by: the Shopify product id and the SKU."""
    return {sku, str(zlib.crc32(sku.encode()))}


@dataclass(frozen=True)
class Planted:
    """One planted order: who, when and which book."""

    person: Person
    order_id: int
    created: datetime
    sku: str


def reader(seed: int, n: int, newcomer: bool = False) -> Person:
    kind = "new" if newcomer else "series"
    return Person(
        index=900 + n,
        first="Reader",
        last=f"No{n}",
        email=f"{kind}.{seed}.{n}@example.org",
        phone=None,
        member=False,
        registers_later=False,
        platforms=["shopify"],
        shopify_id=7_200_000_000 + seed * 100 + n,
        woo_id=0,
    )


def planted(seed: int, now: datetime) -> tuple[list[Planted], Person]:
    """The planted orders (oldest first) and the newcomer, from the seed and `now` alone."""
    base = 6_100_000_000_000 + seed * 1000
    orders = []
    for n in range(READERS):
        person = reader(seed, n)
        first = now - timedelta(days=200 - 9 * n, hours=n)
        orders.append(Planted(person, base + 2 * n, first, VOL_1))
        orders.append(Planted(person, base + 2 * n + 1, first + timedelta(days=GAP_DAYS), VOL_2))
    newcomer = reader(seed, READERS, newcomer=True)
    orders.append(Planted(newcomer, base + 999, now - timedelta(days=NEWCOMER_DAYS), VOL_1))
    return sorted(orders, key=lambda o: o.created), newcomer


def order_body(rng: random.Random, order: Planted) -> dict[str, Any]:
    """The order as the shop's `orders/create` webhook, its customer not subscribed to
    marketing (the planted readers get no newsletter nor flow email)."""
    price = PRICES[order.sku]
    sim = SimOrder(
        order.person,
        "shopify",
        order.order_id,
        order.created,
        [(order.sku, TITLES[order.sku], price, 1)],
        price,
    )
    body = shopify_order(rng, sim, "create", order.created + timedelta(seconds=5))
    body["email"] = order.person.email
    body["customer"]["email_marketing_consent"]["state"] = "not_subscribed"
    return body


def product_body(sku: str, at: datetime) -> dict[str, Any]:
    """A book as the shop's `products/create` webhook: the id its orders name it by, title,
    price and stock (no picture: the console would fetch it from another host)."""
    product_id = zlib.crc32(sku.encode())
    return {
        "id": product_id,
        "title": TITLES[sku],
        "handle": sku,
        "vendor": "Demo Books & Co",
        "product_type": "Books",
        "status": "active",
        "tags": sku.rsplit("-vol-", 1)[0],
        "updated_at": timestamp(at),
        "variants": [
            {"id": product_id * 10 + 1, "sku": sku, "price": str(PRICES[sku]), "inventory_quantity": 50}
        ],
        "images": [],
    }


def plant(local: Any, shop_secret: str, seed: int, now: datetime) -> Person:
    """Send the catalogue's books and the planted orders as the shop's signed webhooks;
    returns the newcomer."""
    orders, newcomer = planted(seed, now)
    rng = random.Random(seed)
    sent = [("products/create", product_body(sku, now), f"demo-rec-{sku}", now) for sku in TITLES]
    sent += [
        ("orders/create", order_body(rng, o), f"demo-rec-{o.order_id}", o.created + timedelta(seconds=5))
        for o in orders
    ]

    def deliver(item: tuple[str, dict[str, Any], str, datetime]) -> None:
        topic, body, delivery_id, at = item
        raw = json.dumps(body).encode()
        headers = shopify_headers(SHOP, topic, shop_secret, raw, delivery_id, at)
        status, answer = http.post(f"{local.webhook_url}/webhooks/shopify", raw, headers)
        if status != 200:
            raise RuntimeError(f"demo webhook {topic} answered {status}: {answer}")

    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time, as the store's deliveries
        list(pool.map(deliver, sent))
    local.wait_idle()
    return newcomer


def check(answer: dict[str, Any] | None, customer_id: str) -> tuple[list[str], int]:
    """The newcomer's recommendations (the API's answer, None when it had none) against the
    planted truth: Vol. 2 recommended as bought next after Vol. 1, Vol. 1 not again.
    Returns the summary lines and the number of failed checks."""
    items = (answer or {}).get("items") or []
    vol_2 = [(k, i) for k, i in enumerate(items, 1) if i["product_id"] in ids_of(VOL_2)]
    failures, lines = 0, []
    if not vol_2:
        shown = ", ".join(f"{i['product_id']} ({i['reason']['kind']})" for i in items[:5]) or "nothing"
        return [
            f"  MISMATCH recommendations: {customer_id} bought Vol. 1, Vol. 2 is not recommended ({shown})"
        ], 1
    rank, item = vol_2[0]
    reason = item["reason"]
    lines.append(
        f"recommendations               {customer_id} bought {TITLES[VOL_1]}: {TITLES[VOL_2]} "
        f'#{rank} of {len(items)}, "{reason["text"]}" (planted: {READERS} readers, {GAP_DAYS} days apart)'
    )
    if reason["kind"] != "bought_next" or reason.get("product_id") not in ids_of(VOL_1):
        failures += 1
        lines.append(
            f"  MISMATCH recommendations: Vol. 2's reason is {reason['kind']} "
            f"({reason.get('product_id')}), not bought_next after Vol. 1"
        )
    if any(i["product_id"] in ids_of(VOL_1) for i in items):
        failures += 1
        lines.append("  MISMATCH recommendations: Vol. 1 recommended to a customer who bought it")
    return lines, failures


def run(local: Any, ws: Any, shop_secret: str, seed: int, now: datetime) -> tuple[list[str], int]:
    """Plant, train through the scheduled job, and check the API's answer for the newcomer."""
    started = time.perf_counter()
    newcomer = plant(local, shop_secret, seed, now)
    training = time.perf_counter()
    try:
        trained = local.run_schedule(JOB)
        training = time.perf_counter() - training
    except KeyError:
        return [f"  MISMATCH recommendations: no `{JOB}` scheduled job in this stack"], 1
    local.wait_idle()
    _, found = http.get(f"{local.api_url}/customers?email={newcomer.email}", ws.api_key)
    if len(found.get("customers") or []) != 1:
        return ["  MISMATCH recommendations: the newcomer's profile is not found"], 1
    customer_id = found["customers"][0]["customer_id"]
    status, answer = http.get(
        f"{local.api_url}/customers/{customer_id}/recommendations?placement=web&limit=10", ws.api_key
    )
    if status != 200:
        return [f"  MISMATCH recommendations: GET /customers/{{id}}/recommendations answered {status}"], 1
    lines, failures = check(answer, customer_id)
    took = f"in {training:.1f} s, the phase {time.perf_counter() - started:.1f} s"
    return [*lines, f"  trained by the {JOB} job {took}: {_job_text(trained)}"], failures


def _job_text(result: Any) -> str:
    """The job's answer in one line (its counts as it gives them)."""
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, int | float | str | Decimal))
    return str(result)
