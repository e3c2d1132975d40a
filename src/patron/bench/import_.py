"""`patron bench import`: the same orders through the webhook path and through a history
import, in one run on moto: orders per second, write units per order, equal profiles.

The orders are generic-webhook bodies (the generic JSON-lines import's lines are the same
bodies), with repeat customers. Each path runs on fresh tables (moto's index queries read
the whole index, so a path run second would pay for the first one's items), twice: once
with the write counters (units, profiles), once without them for the time (each of
their reads costs moto about what the write it sizes does). The webhook path is timed
from the first HTTP request to the last stream record handled (the ingest stream's
consumer, then the CRM stream's), as `patron bench ingest` runs it, plus that
workspace's nightly scoring: the import's end state has the scores and the memberships
they move, so the webhook path's must too (`webhook_before_nightly`: without it). The
import is timed from reading the file to the end of its recompute; the stream records
it leaves (each skipped) are drained after and timed apart (Lambda handles them beside
the import). The two workspaces' profiles are compared field by field, leaving out what
must differ (ids, revs, write times, `imp`, workspace and source ids). See
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from patron.bench.ingest import BENCH_ENV
from patron.synthetic.orders import PRODUCTS

SECRET = "gen_bench_secret_0123456789abcdef"
HOOKED_SHOP, IMPORTED_SHOP = "hooks.example.com", "import.example.com"
# differ between the two workspaces by construction: ids, revs, write times, the import's mark
IGNORED = ("pk", "sk", "ws", "cid", "rev", "ua", "imp", "mrg")


def order_bodies(orders: int, seed: int) -> list[dict[str, Any]]:
    """Generic order bodies of about three lines each; 60% as many customers as orders."""
    rng = random.Random(seed)
    pool = max(1, int(orders * 0.6))
    customers = [
        {"id": f"cust-{i}", "email": f"customer.{i}@example.com", "country": "US", "state": "NY"}
        | ({"phone": f"+1646555{i % 10000:04d}"} if rng.random() < 0.5 else {})
        for i in range(pool)
    ]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    bodies = []
    for i in range(orders):
        lines = rng.sample(PRODUCTS, rng.choice([2, 3, 3, 4]))
        stamp = (start + timedelta(minutes=17 * i)).isoformat(timespec="seconds")
        bodies.append(
            {
                "type": "order",
                "id": f"o-{i}",
                "number": str(1000 + i),
                "currency": "USD",
                "total": str(sum((price for *_, price in lines), Decimal(0))),
                "status": "paid",
                "channel": "web",
                "created_at": stamp,
                "updated_at": stamp,
                "customer": rng.choice(customers),
                "line_items": [
                    {"product_id": str(pid), "sku": sku, "title": title, "quantity": 1, "price": str(price)}
                    for pid, sku, title, price in lines
                ],
                "refunds": [],
            }
        )
    return bodies


def profile_views(client: Any, table: str, workspace_id: str, source_id: str) -> dict[str, str]:
    """Each live profile of the workspace, keyed by its identities, as comparable text."""
    views: dict[str, str] = {}
    kwargs: dict[str, Any] = {"TableName": table}
    from chalicelib.adapters.codec import from_item

    while True:
        page = client.scan(**kwargs)  # a bench on moto: the whole table, once
        for raw in page.get("Items", []):
            item = from_item(raw) or {}
            if item.get("t") != "profile" or item.get("ws") != workspace_id:
                continue
            view = {k: v for k, v in item.items() if k not in IGNORED}
            text = json.dumps(
                view, sort_keys=True, default=lambda v: sorted(v) if isinstance(v, set) else str(v)
            )
            identities = sorted(set(item.get("ems") or ()) | set(item.get("phs") or ()))
            views["|".join(identities)] = text.replace(source_id, "SRC").replace(workspace_id, "WS")
        if "LastEvaluatedKey" not in page:
            return views
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, set) else str(value)


def _workspace(harness: Any, shop: str) -> tuple[Any, str]:
    ws = harness.create_workspace("Webhooks" if shop == HOOKED_SHOP else "Import", "USD")
    return ws, harness.add_source(ws, "generic", shop, SECRET)["source_id"]


def _webhooks(harness: Any, bodies: list[dict[str, Any]], counter: Any = None) -> dict[str, Any]:
    """The webhook path: HTTP webhook -> ingest stream's consumer -> CRM stream's consumer,
    then the workspace's nightly scoring (the import's end state has its scores and the
    memberships they move)."""
    from chalicelib.domain.models import now_utc
    from patron.storefront import headers_for

    ws, src = _workspace(harness, HOOKED_SHOP)
    http = harness.http.http
    w0, b0, t0 = _units(counter), _tables(counter), time.perf_counter()
    for i, body in enumerate(bodies):
        raw = json.dumps(body).encode()
        headers = headers_for("generic", HOOKED_SHOP, "order", SECRET, raw, f"wh-{i}")
        http.post("/webhooks/generic", headers=headers, body=raw)
        if i % 100 == 99:
            harness.drain()
    harness.drain()
    live = (time.perf_counter() - t0, _units(counter) - w0)
    harness.container.scoring.rescore(ws.workspace_id, now_utc())
    return {
        "seconds": time.perf_counter() - t0,
        "wcu": _units(counter) - w0,
        "by_table": _tables(counter) - b0,
        "before_nightly": live,
        "views": _views(harness, ws.workspace_id, src),
    }


def _import(harness: Any, bodies: list[dict[str, Any]], counter: Any = None) -> dict[str, Any]:
    """The import of the same orders as a generic JSON-lines file, its recompute included.
    The stream records it leaves (each skipped) are drained after, timed apart: Lambda
    handles them beside the import, not in its time."""
    from chalicelib.domain.models import now_utc
    from chalicelib.parsers.history import reader_for

    ws, src = _workspace(harness, IMPORTED_SHOP)
    data = b"\n".join(json.dumps(body).encode() for body in bodies)
    source = harness.container.workspaces.source(ws.workspace_id, src)
    w0, b0, t0 = _units(counter), _tables(counter), time.perf_counter()
    summary = harness.container.history_import.run(source, reader_for("generic-jsonl", data), now_utc())
    seconds = time.perf_counter() - t0
    harness.drain()
    return {
        "seconds": seconds,
        "stream_seconds": time.perf_counter() - t0 - seconds,
        "wcu": _units(counter) - w0,
        "by_table": _tables(counter) - b0,
        "summary": summary.as_dict(),
        "views": _views(harness, ws.workspace_id, src),
    }


def _units(counter: Any) -> float:
    return float(counter.snapshot()[1]) if counter is not None else 0.0


def _tables(counter: Any) -> Counter[str]:
    return Counter(counter.wcu_by) if counter is not None else Counter()


def _views(harness: Any, workspace_id: str, source_id: str) -> dict[str, str]:
    return profile_views(harness.client("dynamodb"), harness.info.crm_table, workspace_id, source_id)


def run(orders: int = 1000, seed: int = 11) -> dict[str, Any]:
    """Each path twice on moto, each time on fresh tables: once with the write counters
    (units per order, profiles), once without (orders per second: the counters' own reads
    would slow both paths)."""
    from moto import mock_aws

    from patron import motofast
    from patron.bench.ingest import counted_stage
    from patron.harness import Harness

    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    bodies = order_bodies(orders, seed)
    motofast.install()  # the emulator's own costs, out of both paths alike (patron/motofast.py)
    counted: dict[str, Any] = {}
    timed: dict[str, Any] = {}
    for name, path in (("webhook", _webhooks), ("import", _import)):
        # each path on tables of its own (moto's index queries read the whole index)
        with mock_aws(), motofast.fast_reads():
            harness, _ws, counter, _reads = counted_stage()
            counted[name] = path(harness, bodies, counter)
            harness.close()
        with mock_aws(), motofast.fast_reads():
            harness = Harness(stage="bench")
            timed[name] = path(harness, bodies)
            harness.close()
    hooked_views, imported_views = counted["webhook"]["views"], counted["import"]["views"]
    keys = hooked_views.keys() | imported_views.keys()
    differ = sorted(k for k in keys if hooked_views.get(k) != imported_views.get(k))
    webhook_ops, import_ops = orders / timed["webhook"]["seconds"], orders / timed["import"]["seconds"]
    webhook_wcu, import_wcu = counted["webhook"]["wcu"], counted["import"]["wcu"]
    summary = counted["import"]["summary"]
    result: dict[str, Any] = {
        "benchmark": "import",
        "orders": orders,
        "customers": len(hooked_views),
        "webhook_orders_per_second": round(webhook_ops, 1),
        "import_orders_per_second": round(import_ops, 1),
        "orders_per_second_ratio": round(import_ops / webhook_ops, 2),
        "webhook_wcu_per_order": round(webhook_wcu / orders, 3),
        "webhook_before_nightly": {
            "orders_per_second": round(orders / timed["webhook"]["before_nightly"][0], 1),
            "wcu_per_order": round(counted["webhook"]["before_nightly"][1] / orders, 3),
        },
        "import_stream_records_seconds": round(timed["import"]["stream_seconds"], 1),
        "import_wcu_per_order": round(import_wcu / orders, 3),
        "wcu_per_order_ratio": round(import_wcu / webhook_wcu, 3) if webhook_wcu else None,
        "wcu_per_order_by_table": {
            path: {k: round(v / orders, 3) for k, v in sorted(counted[path]["by_table"].items())}
            for path in ("webhook", "import")
        },
        "profiles_equal": not differ and bool(hooked_views),
        "profiles_differing": len(differ),
        "import_summary": {k: summary[k] for k in ("orders", "stored", "customers", "recomputed")},
    }
    result["targets"] = {
        "import>=5x_webhook_orders_per_second": result["orders_per_second_ratio"] >= 5,
        "import_wcu<=webhook_wcu": import_wcu <= webhook_wcu,
        "profiles_equal": result["profiles_equal"],
    }
    return result
