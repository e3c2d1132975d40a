"""`patron bench ingest --heavy-customer N`: what one more order costs a customer who has
placed many (a wholesale buyer, a bot account), against their first orders.

One customer places N orders, one at a time, each delivered as a signed webhook and its
stream record processed before the next. Per order it counts the DynamoDB write units
(webhook and ingest consumer, DynamoDB's sizing rules: `capacity.py`) and the time spent
in the two handlers (the webhook request, and the consumer's invocation as Lambda runs
it; the local poller's own reads of moto's stream are left out, they are not Lambda's
time). Time is the thread's CPU time (`time.thread_time`): moto runs in process, in the
same thread, so it holds the handlers' work and DynamoDB's, and the other processes of a
shared machine barely move it. It reads the profile item after each order for its size.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from patron.bench.ingest import SECRET, SHOP, counted_stage
from patron.synthetic.orders import PRODUCTS, order_body, order_template

WINDOW = 20  # orders in each window: the first WINDOW against the last WINDOW
WARMUP = 20  # orders of other customers first, so the first window is not a cold start
# A wholesale buyer reorders the same lines: 3 lines an order out of 24 products. (The
# profile keeps the set of distinct products bought, which grows with the catalog, not
# with the number of orders; docs/data-model.md.)
BASKET = PRODUCTS[:24]


def measure_heavy(orders: int, seed: int = 11, basket: int = len(BASKET)) -> dict[str, Any]:
    from moto import mock_aws

    from chalicelib.domain import profiles
    from chalicelib.domain.identity import customer_id_for
    from patron.bench.capacity import item_size
    from patron.storefront import shopify_headers

    if orders < 2 * WINDOW:
        raise ValueError(f"--heavy-customer needs at least {2 * WINDOW} orders")
    rng = random.Random(seed)
    template = order_template()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    heavy = (8_900_000, "wholesale.buyer@example.com", "+16465550100")
    times: list[float] = []
    units: list[float] = []
    sizes: list[int] = []
    with mock_aws():
        harness, ws, counter, _reads = counted_stage()
        spent = [0.0]
        handler = harness.poller.handler

        def timed(event: dict[str, Any], context: Any) -> Any:
            t0 = time.thread_time()
            try:
                return handler(event, context)
            finally:
                spent[0] += time.thread_time() - t0

        harness.poller.handler = timed
        http = harness.http.http
        profile_key: dict[str, Any] | None = None

        def place(n: int, customer: tuple[int, str, str | None]) -> tuple[float, float]:
            at = start + timedelta(minutes=17 * n)
            body = order_body(template, rng, 6_100_000_000 + n, customer, at, PRODUCTS[:basket])
            headers = shopify_headers(SHOP, "orders/create", SECRET, body, f"wh-h{n}")
            wcu_before = counter.snapshot()[1]
            spent[0] = 0.0
            t0 = time.thread_time()
            response = http.post("/webhooks/shopify", headers=headers, body=body)
            webhook = time.thread_time() - t0
            if json.loads(response.body)["status"] != "stored":
                raise RuntimeError(f"order {n} was not stored: {response.body!r}")
            harness.poller.drain()
            return webhook + spent[0], counter.snapshot()[1] - wcu_before

        for n in range(WARMUP):
            place(n, (8_800_000 + n, f"warmup.{n}@example.com", None))
        for n in range(orders):
            elapsed, wcu = place(WARMUP + n, heavy)
            times.append(elapsed)
            units.append(wcu)
            if profile_key is None:
                salt = harness.container.workspaces.settings(ws.workspace_id).id_salt
                cid = customer_id_for(salt, "email:" + heavy[1])
                profile_key = {"pk": {"S": f"W#{ws.workspace_id}#P#{cid}"}, "sk": {"S": "P"}}
            item = counter.reader.get_item(TableName=harness.settings.crm_table, Key=profile_key).get("Item")
            sizes.append(item_size(item))
        harness.close()
    first, second, last = slice(0, WINDOW), slice(WINDOW, 2 * WINDOW), slice(orders - WINDOW, orders)
    time_ratio = statistics.median(times[last]) / statistics.median(times[first])
    wcu_ratio = statistics.mean(units[last]) / statistics.mean(units[first])
    return {
        "heavy_customer_orders": orders,
        "recent_orders_kept_in_profile": getattr(profiles, "RECENT_ORDERS", None),  # None: every order
        "distinct_products_in_basket": basket,
        "window_orders": WINDOW,
        "heavy_customer_cpu_ms_per_order_first_window": round(statistics.median(times[first]) * 1000, 2),
        "heavy_customer_cpu_ms_per_order_last_window": round(statistics.median(times[last]) * 1000, 2),
        "heavy_customer_wcu_per_order_first_window": round(statistics.mean(units[first]), 3),
        "heavy_customer_wcu_per_order_last_window": round(statistics.mean(units[last]), 3),
        "heavy_customer_wcu_first_order": units[0],
        "heavy_customer_wcu_last_order": units[-1],
        "heavy_customer_time_ratio": round(time_ratio, 3),
        "heavy_customer_write_units_ratio": round(wcu_ratio, 3),
        "heavy_customer_cost_ratio": round(max(time_ratio, wcu_ratio), 3),
        # the last window against orders 21..40: whether cost still grows past the first orders
        "heavy_customer_time_ratio_vs_orders_21_40": round(
            statistics.median(times[last]) / statistics.median(times[second]), 3
        ),
        "heavy_customer_write_units_ratio_vs_orders_21_40": round(
            statistics.mean(units[last]) / statistics.mean(units[second]), 3
        ),
        "profile_item_bytes_first_order": sizes[0],
        "profile_item_bytes_last_order": sizes[-1],
        "max_profile_item_bytes": max(sizes),
    }


def run(orders: int = 1000, seed: int = 11, basket: int = len(BASKET)) -> dict[str, Any]:
    from patron.bench.ingest import BENCH_ENV

    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    result: dict[str, Any] = {"benchmark": "ingest --heavy-customer"}
    result |= measure_heavy(orders, seed, basket)
    result["targets"] = {
        "heavy_customer_cost_ratio<=1.5": result["heavy_customer_cost_ratio"] <= 1.5,
        "max_profile_item_bytes<=4096": result["max_profile_item_bytes"] <= 4096,
    }
    return result
