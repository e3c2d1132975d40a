"""`patron bench freshness`: what keeping segments fresh costs, and how fresh they are.

Two measurements:

- **Jobs cost** (`jobs`): a simulated workspace of N customers (default 100,000) is loaded
  into the embedded AWS with its memberships already current, as the stream keeps them.
  Then one day of scheduled work runs, counted at botocore: 24 hourly rechecks, then the
  nightly job (edges, rhythm, the model fit, and re-evaluation where answers move). A
  segment created afterwards is backfilled and counted on its own. Read units come from
  the bytes each response returned, and the smallest read for each key asked for and not
  found; scans are billed on the bytes scanned, so they are priced from the table's size
  (all items, by DynamoDB's item-size rules). Write units come from the items before and
  after each write, indexes included.
- **Latency** (`latency`): on the local stack (HTTP API, embedded AWS, stream pollers),
  orders for new customers are posted one at a time, and the time to the matching
  `segment.entered` event on the segment-events queue is measured.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

CUSTOM_SEGMENTS = {
    "Recent": "last_order_days <= 30",
    "Slipping": "p_alive < 0.3 AND orders_count >= 2",
    "Loyal, active": "orders_count >= 3 AND last_order_days <= 90",
    "Big spenders": "total_spent > 200",
    "Win back": "lifecycle = 'at_risk' OR lifecycle = 'lapsed'",
}


def _load(harness: Any, ws: Any, customers: int, seed: int, now: datetime) -> int:
    """Profiles, then memberships as the stream would have left them; returns items written."""
    from chalicelib.adapters.codec import to_item
    from chalicelib.adapters.membership_store import recheck_bucket, recheck_shard
    from chalicelib.adapters.profile_items import profile_of
    from chalicelib.domain.profile_facts import score_profile
    from chalicelib.domain.timemath import iso
    from patron import synthetic

    container = harness.container
    settings = container.workspaces.settings(ws.workspace_id)
    rng = random.Random(seed)
    client = harness.client("dynamodb")
    table = harness.info.crm_table

    def write(items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            pending = {table: [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + 25]]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    profiles = [
        synthetic.profile_item(settings, f"c_{n:07d}{rng.randrange(16**4):04x}", rng, now)
        for n in range(customers)
    ]
    write(profiles)
    # the nightly job's first run sets edges, rhythm and model (not counted). It walks the
    # lifecycle member lists, so each customer is listed first under its stage without scores
    provisional = {
        i["cid"]: f"lifecycle:{score_profile(profile_of(i), None, None, now)[1].stage}" for i in profiles
    }
    write([{"pk": f"W#{ws.workspace_id}#SEGM#{s}", "sk": c, "t": "member"} for c, s in provisional.items()])
    container.scoring.membership, saved = None, container.scoring.membership
    container.scoring.nightly(now)
    container.scoring.membership = saved
    final: dict[str, set[str]] = {}
    extra: list[dict[str, Any]] = []
    for item in profiles:
        members, next_check = container.membership.evaluate(ws.workspace_id, profile_of(item), now)
        final[item["cid"]] = members
        extra.append(
            {
                "pk": f"W#{ws.workspace_id}#PM#{item['cid']}",
                "sk": "M",
                "t": "membership",
                "ws": ws.workspace_id,
                "cid": item["cid"],
                "segs": members,
                "nchk": iso(next_check),
                "rk": recheck_bucket((iso(next_check) or "")[:10], recheck_shard(item["cid"]))
                if next_check
                else None,
                "ver": iso(now),
            }
        )
        extra.extend(
            {"pk": f"W#{ws.workspace_id}#SEGM#{s}", "sk": item["cid"], "t": "member"} for s in members
        )
    write(extra)
    stale = [(c, s) for c, s in provisional.items() if s not in final[c]]  # stages the scores moved
    for start in range(0, len(stale), 25):
        keys = [
            {"pk": {"S": f"W#{ws.workspace_id}#SEGM#{s}"}, "sk": {"S": c}}
            for c, s in stale[start : start + 25]
        ]
        pending = {table: [{"DeleteRequest": {"Key": key}} for key in keys]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    for sweep in container.segments.sweeps.pending():  # the segments above are current already
        container.segments.sweeps.finish(sweep.workspace_id, sweep.segment_id)
    return len(profiles) + len(extra)


def _table_bytes(harness: Any) -> int:
    from patron.bench.capacity import item_size

    client = harness.client("dynamodb")
    total, kwargs = 0, {"TableName": harness.info.crm_table}
    while True:
        page = client.scan(**kwargs)
        total += sum(item_size(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def jobs(customers: int = 100_000, seed: int = 5, backfill: bool = True) -> dict[str, Any]:
    from moto import mock_aws

    from chalicelib.container import Container, set_container
    from patron import motofast
    from patron.bench.capacity import ReadCounter, WriteCounter
    from patron.harness import Harness

    motofast.install()
    start = datetime.now(UTC).replace(hour=0, minute=30, second=0, microsecond=0)
    with mock_aws():
        harness = Harness(stage="bench")
        ws = harness.create_workspace("Jobs")
        for name, definition in CUSTOM_SEGMENTS.items():
            harness.container.segments.create(ws.workspace_id, name, definition)
        loaded_at = time.perf_counter()
        items_loaded = _load(harness, ws, customers, seed, start)
        load_seconds = time.perf_counter() - loaded_at
        writes = WriteCounter(reader=harness.client("dynamodb"))
        reads = ReadCounter()
        writes.install(harness.session)
        reads.install(harness.session)
        container = Container(harness.settings, session=harness.session)  # clients see the counters
        set_container(container)
        phases: dict[str, dict[str, Any]] = {}

        def measure(name: str, work: Any) -> Any:
            r0, w0 = reads.snapshot(), writes.snapshot()
            t0 = time.perf_counter()
            result = work()
            r1, w1 = reads.snapshot(), writes.snapshot()
            phases[name] = {
                "read_requests": r1[0] - r0[0],
                "rcu_excluding_scans": round(r1[1] - r0[1], 1),
                "scan_passes": r1[2] - r0[2],
                "write_requests": w1[0] - w0[0],
                "wcu": round(w1[1] - w0[1], 1),
                "seconds": round(time.perf_counter() - t0, 1),
                "result": result,
            }
            print(json.dumps({name: phases[name]}, default=str), file=sys.stderr, flush=True)
            # moto recounts a queue's messages on every send: empty the events queue between
            # phases (not counted) so that a long run does not slow down quadratically
            sqs = harness.client("sqs")
            # SQS allows one purge a minute: a short phase leaves the queue as it is
            with contextlib.suppress(sqs.exceptions.PurgeQueueInProgress):
                sqs.purge_queue(QueueUrl=harness.info.segment_events_queue_url)
            return result

        def day_of_rechecks() -> dict[str, int]:
            total: Counter[str] = Counter()
            for hour in range(1, 25):
                total.update(container.membership.recheck(start + timedelta(hours=hour)))
            return dict(total)

        measure("hourly_recheck_x24", day_of_rechecks)
        measure("nightly_scores", lambda: container.scoring.nightly(start + timedelta(days=1, minutes=5)))
        segment = container.segments.create(ws.workspace_id, "New segment", "orders_count >= 2")
        if backfill:
            measure(
                "backfill_one_segment",
                lambda: container.backfill.run(lambda: 900.0, start + timedelta(days=1, hours=1)),
            )
        table_bytes = _table_bytes(harness)
        harness.close()
    scan_rcu = table_bytes / 4096 * 0.5  # one eventually consistent pass over the table
    for phase in phases.values():
        phase["rcu"] = round(phase["rcu_excluding_scans"] + phase["scan_passes"] * scan_rcu, 1)
    daily = [phases["hourly_recheck_x24"], phases["nightly_scores"]]
    per_day = {k: sum(p[k] for p in daily) for k in ("read_requests", "rcu", "write_requests", "wcu")}
    return {
        "customers": customers,
        "items_loaded": items_loaded,
        "load_seconds": round(load_seconds, 1),
        "table_bytes": table_bytes,
        "segments": len(CUSTOM_SEGMENTS) + 1,
        "new_segment": segment.segment_id,
        "phases": phases,
        "per_day": per_day,
        "per_customer_per_day": {k: round(v / customers, 4) for k, v in per_day.items()},
        "backfill_per_customer": {
            k: round(phases["backfill_one_segment"][k] / customers, 4)
            for k in ("read_requests", "rcu", "write_requests", "wcu")
        }
        if backfill
        else None,
    }


def latency(orders: int = 20, port: int = 8765, aws_port: int = 5765) -> dict[str, Any]:
    """Order posted -> `segment.entered` on the queue, on the local stack, one order at a time."""
    from chalicelib.domain import identity
    from patron import http
    from patron.local import LocalStack
    from patron.storefront import shopify_headers
    from patron.synthetic.orders import order_body, order_template

    shop, secret = "fresh-bench.myshopify.com", "shpss_freshness_bench_0001"
    local = LocalStack(port=port, aws_port=aws_port, record=False).start()  # not the CLI's
    try:
        container = local.harness.container
        ws = container.tenancy.create_workspace("Freshness", "USD")
        container.tenancy.add_source(ws.workspace_id, "shopify", shop, secret)
        segment = container.segments.create(ws.workspace_id, "Buyers", "orders_count >= 1")
        settings = container.workspaces.settings(ws.workspace_id)
        sqs = local.harness.client("sqs")
        queue = local.harness.info.segment_events_queue_url
        template, rng = order_template(), random.Random(3)
        waits: list[float] = []
        stamped: list[float] = []
        now = datetime.now(UTC)
        for n in range(orders):
            email = f"fresh.{n}@example.com"
            customer = identity.customer_id_for(settings.id_salt, f"email:{email}")
            body = order_body(template, rng, 7_100_000_000 + n, (9_100_000 + n, email, None), now)
            headers = shopify_headers(shop, "orders/create", secret, body, f"fresh-{n}")
            sent = time.time()
            status, _ = http.post(f"{local.api_url}/webhooks/shopify", body, headers)
            assert status == 200, status
            found = None
            while found is None and time.time() - sent < 60:
                # no long polling: the embedded AWS serializes requests, a waiting receive
                # would hold every other caller (the pollers) for its whole wait
                batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
                if not batch.get("Messages"):
                    time.sleep(0.02)
                for message in batch.get("Messages", []):
                    event = json.loads(message["Body"])
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                    if event["segment_id"] == segment.segment_id and event["customer_id"] == customer:
                        found = event
            if found is None:
                raise RuntimeError(f"no segment event within 60 s for order {n}")
            waits.append(time.time() - sent)
            stamped.append(datetime.fromisoformat(found["at"].replace("Z", "+00:00")).timestamp() - sent)
    finally:
        local.stop()
    ordered = sorted(waits)
    return {
        "orders": orders,
        "order_to_event_seconds_p50": round(statistics.median(ordered), 3),
        "order_to_event_seconds_max": round(ordered[-1], 3),
        "order_to_evaluation_seconds_p50": round(statistics.median(stamped), 3),
        "poll_interval_note": "the local pollers read each stream every 0.25 s when idle; Lambda "
        "polls a DynamoDB stream shard 4 times a second, and the wiring allows a 1 s batching window",
    }


def run(
    customers: int = 100_000,
    orders: int = 20,
    seed: int = 5,
    skip_latency: bool = False,
    skip_backfill: bool = False,
) -> dict[str, Any]:
    result: dict[str, Any] = {"jobs": jobs(customers, seed, backfill=not skip_backfill)}
    if not skip_latency:
        result["latency"] = latency(orders)
    return result
