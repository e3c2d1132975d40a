"""`patron bench cost`: what a million orders and a million emails cost in a region.

Computed, not guessed: the counts come from the benchmarks (the ingest bench is run in
process: write and read requests and units per order, per duplicate and on the segment
path, handler CPU, import time; the campaign figures are the campaign bench's recorded
ones unless `--campaign-recipients N` runs it), the prices from the dated table
`PRICES` (us-east-1 list prices), and every figure that no bench measures is an
explicit, named assumption in `ASSUMPTIONS` that the output repeats.

Each cost is given per front door the webhook can use (API Gateway REST as Chalice builds
it, an HTTP API, the Lambda Function URL that Patron ships by default), at 1x, 10x and
100x volume (a million, ten million, a hundred million orders a month in one region);
then the single-partition keys that get hot at those rates.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from chalicelib.adapters.messaging import LIST_SHARDS, STATS_SHARDS
from patron import stack

# us-east-1 list prices (USD), as published on the AWS pricing pages; DynamoDB's are the
# on-demand prices since the 2024-11-01 reduction. First tier of each where tiered.
PRICES: dict[str, Any] = {
    "as_of": "2026-11-23",
    "region": "us-east-1",
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second_x86_64": 0.0000166667,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_write_request_units_per_million": 0.625,
    "dynamodb_read_request_units_per_million": 0.125,
    "apigateway_rest_requests_per_million": 3.50,  # first 333 million a month
    "apigateway_http_requests_per_million": 1.00,  # first 300 million, metered per 512 KB
    "function_url_requests_per_million": 0.0,  # no charge beyond the function's own
    "sqs_requests_per_million": 0.40,  # standard queue, per 64 KB chunk
    "sns_publishes_per_million": 0.50,  # the SES event notifications
    "ses_emails_per_thousand": 0.10,
    "sns_sms": "per destination country and carrier (SNS SMS price list): not included here",
}

# What no benchmark measures, stated. Each can be overridden (`--assume name=value`).
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "new_order_deliveries": (1.0, "orders/create: the order is new (costs as the ingest bench measures)"),
    "change_deliveries": (
        1.0,
        "one later change that is stored (e.g. orders/updated when fulfilled); costs what the "
        "ingest bench measures for a fulfilment",
    ),
    "same_state_deliveries": (
        1.0,
        "one delivery that repeats a stored state (e.g. orders/paid after orders/create): a duplicate",
    ),
    "segment_path_share": (1.0, "share of orders whose segment path writes as the bench's worst case"),
    "retry_share": (0.05, "storefront retries, as a share of all deliveries: each a duplicate"),
    "dynamodb_call_ms": (6.0, "one DynamoDB request, warm connection, same region"),
    "invoke_overhead_ms": (1.0, "runtime, event parsing and response, per invocation"),
    "stream_record_cpu_ms": (1.0, "CPU of one stream record at a full vCPU (profile merge, diff)"),
    "cold_start_share": (0.01, "invocations that start a new environment (AWS: typically under 1%)"),
    "full_vcpu_mb": (1769.0, "Lambda memory at which a function has one full vCPU"),
    "stream_shards": (4.0, "stream shards per table (an on-demand table's first partitions)"),
    "stream_window_s": (1.0, "the event source mappings' batching window (infra/wiring.json)"),
    "ses_events_per_email": (
        2.34,
        "SES events published per email: send and delivery, 0.3 opens, 0.03 clicks, 0.01 bounces",
    ),
    "ses_event_writes": (1.15, "DynamoDB writes per SES event: the counter, plus engagement on opens/clicks"),
    "ses_event_reads": (1.0, "DynamoDB reads per SES event: the message's ledger entry"),
    "ses_event_write_units": (
        3.73,
        "DynamoDB write units per SES event, by DynamoDB's rules over feedback.handle's writes: "
        "send 2 (the claim's ev_send, and confirm_sent's conditional update, billed when it "
        "fails); delivery and open 5 (a transaction of the claim and one statistics shard, "
        "doubled, plus the engagement update); click 5; bounce about 7 (and the suppression): "
        "8.72 an email over 2.34 events",
    ),
    "ses_event_read_units": (0.0, "DynamoDB read units per SES event: its writes are conditional, no read"),
    "ses_call_ms": (100.0, "one SendBulkTemplatedEmail call"),
    "peak_factor": (10.0, "a sale's peak rate over the month's average (for hot keys)"),
    "audience_per_monthly_order": (1.0, "a campaign's audience per order a month (for hot keys)"),
    "campaign_seconds": (3600.0, "a campaign to the whole audience is sent within an hour (for hot keys)"),
    "parallelization_factor": (10.0, "concurrent batches per stream shard (infra/wiring.json)"),
}

# The campaign bench's recorded figures (docs/benchmarks.md, 20,000 recipients, every queue
# message delivered twice): requests and units per recipient of the dispatcher and the
# sender, and the part of them the second deliveries took.
CAMPAIGN_RECORDED: dict[str, Any] = {
    "source": "docs/benchmarks.md, patron bench campaign --recipients 20000, 2026-12-05",
    "dynamodb_requests_per_recipient": 5.377,
    "dynamodb_read_units_per_recipient": 8.771,
    "dynamodb_write_units_per_recipient": 4.139,
    "second_delivery_per_recipient": {"requests": 2.106, "read_units": 4.03, "write_units": 1.023},
    "first_delivery_writes": 3.0,  # claim PutItem, cap and `sent` UpdateItem
    "recipients_per_call": 49.42,
    "deferred_share": 0.377,  # 6,384 deferrals (quiet hours) of 16,941 enqueued
}
CAMPAIGN_MEASURED = (  # what a fresh campaign run replaces
    "dynamodb_requests_per_recipient",
    "dynamodb_read_units_per_recipient",
    "dynamodb_write_units_per_recipient",
    "second_delivery_per_recipient",
    "recipients_per_call",
)

SECONDS_PER_MONTH = 30 * 24 * 3600
VOLUMES = {"1x": 1_000_000, "10x": 10_000_000, "100x": 100_000_000}  # orders a month
FRONT_DOORS = {
    "apigateway_rest": ("apigateway_rest_requests_per_million", "api_handler"),
    "apigateway_http": ("apigateway_http_requests_per_million", "webhook_url"),
    "function_url": ("function_url_requests_per_million", "webhook_url"),
}
DEFAULT_FRONT_DOOR = "function_url"
TARGET_PER_MILLION_ORDERS = 2.0


CHALICE_DEFAULT_MB = 128  # what Chalice gives a function chalice.json does not size
FUNCTIONS = (
    "api_handler",
    "webhook_url",
    "ingest_stream",
    "profile_stream",
    "campaign_sender",
    "ses_events",
)


def memory_of() -> dict[str, int]:
    """Each function's memory (MB) as chalice.json sets it."""
    config = json.loads((stack.ROOT / "chalice.json").read_text())["lambda_functions"]
    return {
        name: int(config.get(name, {}).get("lambda_memory_size", CHALICE_DEFAULT_MB)) for name in FUNCTIONS
    }


def _lambda_cost(
    invocations: float, billed_ms: float, memory_mb: int, prices: dict[str, Any], arch: str
) -> float:
    gb_seconds = invocations * (billed_ms / 1000) * (memory_mb / 1024)
    return (
        invocations * prices["lambda_requests_per_million"] / 1e6
        + gb_seconds * prices[f"lambda_gb_second_{arch}"]
    )


def _billed(ms: float, cold_ms: float, a: dict[str, float]) -> float:
    """Average billed milliseconds: 1 ms granularity, plus the share of cold starts."""
    return math.ceil(ms) + a["cold_start_share"] * cold_ms


def _per_batch(records_per_second: float, a: dict[str, float], batch_size: float = 100) -> float:
    per_shard = records_per_second / a["stream_shards"] * a["stream_window_s"]
    return min(batch_size, max(1.0, per_shard))


def orders_cost(
    measured: dict[str, Any],
    volume: int,
    prices: dict[str, Any] | None = None,
    assumptions: dict[str, float] | None = None,
    arch: str = "x86_64",
) -> dict[str, Any]:
    """Cost of `volume` orders a month, per million orders, for each front door."""
    p = prices or PRICES
    a = {k: v for k, (v, _) in ASSUMPTIONS.items()} | (assumptions or {})
    memory = memory_of()
    scale = {name: max(1.0, a["full_vcpu_mb"] / mb) for name, mb in memory.items()}
    wru, rru = (
        p["dynamodb_write_request_units_per_million"] / 1e6,
        p["dynamodb_read_request_units_per_million"] / 1e6,
    )

    ph = measured["phases"]
    new, change = a["new_order_deliveries"], a["change_deliveries"]
    stored = new + change
    base = stored + a["same_state_deliveries"]
    deliveries = base / (1 - a["retry_share"])
    duplicates = a["same_state_deliveries"] + deliveries - base

    def requests_of(phase: str) -> float:
        """DynamoDB requests per event of a phase."""
        return float(ph[phase]["read_requests"] + ph[phase]["write_requests"])

    def per_order(*keys: str) -> float:
        """Per order, from the measured phases: the sum of `keys` of each phase, weighted."""

        def of(phase: str) -> float:
            return sum(ph[phase][k] for k in keys)

        return (
            new * (of("webhook_new") + of("consumer_new"))
            + change * (of("webhook_change") + of("consumer_change"))
            + duplicates * of("webhook_duplicate")
            + a["segment_path_share"] * of("segment_path")
        )

    # DynamoDB units per order, from the ingest bench's phases (the segment path once per
    # order, as measured: its worst case, where every order moves the customer's segments)
    wcu, rcu = per_order("wcu"), per_order("rcu")
    dynamodb = {"write_units": round(wcu, 3), "read_units": round(rcu, 3)}
    dynamodb_cost = wcu * wru + rcu * rru
    # provisioned: what is used, or the minimum capacity held all month if that is more
    dynamodb_cost = max(dynamodb_cost, p.get("dynamodb_floor_usd_per_month", 0.0) / volume)

    # Stream consumers: invocations shrink as batches fill at higher volume
    rate = volume / SECONDS_PER_MONTH  # orders a second, on average
    ingest_records = stored  # duplicates write nothing, so no stream record
    ingest_calls = (new * requests_of("consumer_new") + change * requests_of("consumer_change")) / stored
    webhook_calls = (
        new * requests_of("webhook_new")
        + change * requests_of("webhook_change")
        + duplicates * requests_of("webhook_duplicate")
    ) / deliveries
    profile_records = (
        new * ph["consumer_new"]["profile_writes"] + change * ph["consumer_change"]["profile_writes"]
    )
    segment = ph["segment_path"]
    # the bench's segment path took the profile records of its new orders
    segment_calls = (segment["read_requests"] + a["segment_path_share"] * segment["write_requests"]) / max(
        ph["consumer_new"]["profile_writes"], 1e-9
    )
    consumers = {
        # name: (function, records per order, DynamoDB calls per record)
        "ingest_stream": ("ingest_stream", ingest_records, ingest_calls),
        "profile_stream": ("profile_stream", profile_records, segment_calls),
    }
    lambda_streams = 0.0
    streams: dict[str, Any] = {}
    for name, (function, records, calls) in consumers.items():
        batch = _per_batch(rate * records, a)
        per_record_ms = a["stream_record_cpu_ms"] * scale[function] + calls * a["dynamodb_call_ms"]
        billed = _billed(
            a["invoke_overhead_ms"] + batch * per_record_ms, measured["cold_ms"] * scale[function], a
        )
        invocations = records / batch
        cost = _lambda_cost(invocations, billed, memory[function], p, arch)
        lambda_streams += cost
        streams[name] = {
            "records_per_order": round(records, 3),
            "records_per_invocation": round(batch, 2),
            "billed_ms_per_invocation": round(billed, 1),
            "usd_per_million_orders": round(cost * 1e6, 3),
        }

    doors: dict[str, Any] = {}
    for door, (price_key, function) in FRONT_DOORS.items():
        handler_ms = measured["handler_cpu_us_median"] / 1000 * scale[function]
        billed = _billed(
            # the read of what is stored, and the conditional write when it is new
            a["invoke_overhead_ms"] + handler_ms + webhook_calls * a["dynamodb_call_ms"],
            measured["cold_ms"] * scale[function],
            a,
        )
        webhook_lambda = _lambda_cost(deliveries, billed, memory[function], p, arch)
        front = deliveries * p[price_key] / 1e6
        total = front + webhook_lambda + lambda_streams + dynamodb_cost
        doors[door] = {
            "webhook_function": function,
            "webhook_memory_mb": memory[function],
            "webhook_billed_ms": round(billed, 1),
            "usd_per_million_orders": {
                "front_door": round(front * 1e6, 3),
                "lambda_webhook": round(webhook_lambda * 1e6, 3),
                "lambda_streams": round(lambda_streams * 1e6, 3),
                "dynamodb": round(dynamodb_cost * 1e6, 3),
                "total": round(total * 1e6, 2),
            },
        }
    return {
        "orders_per_month": volume,
        "orders_per_second_average": round(rate, 3),
        "deliveries_per_order": round(deliveries, 3),
        "duplicates_per_order": round(duplicates, 3),
        "dynamodb_units_per_order": dynamodb,
        "dynamodb_usd_per_million_orders": {
            "writes": round(wcu * wru * 1e6, 3),
            "reads": round(rcu * rru * 1e6, 3),
        },
        "stream_consumers": streams,
        "front_doors": doors,
    }


def emails_cost(
    campaign: dict[str, Any],
    prices: dict[str, Any] | None = None,
    assumptions: dict[str, float] | None = None,
    arch: str = "x86_64",
) -> dict[str, Any]:
    """A million campaign emails: SES's own price apart from Patron's share."""
    p = prices or PRICES
    a = {k: v for k, (v, _) in ASSUMPTIONS.items()} | (assumptions or {})
    memory = memory_of()
    wru, rru = (
        p["dynamodb_write_request_units_per_million"] / 1e6,
        p["dynamodb_read_request_units_per_million"] / 1e6,
    )
    # one delivery of each recipient: the bench delivers every message twice
    second = campaign["second_delivery_per_recipient"]
    single = campaign["dynamodb_requests_per_recipient"] - second["requests"]
    writes = campaign["first_delivery_writes"]
    reads = single - writes  # the guardrail reads plus the per-batch share (status, profiles, template)
    read_units = campaign["dynamodb_read_units_per_recipient"] - second["read_units"]
    write_units = campaign["dynamodb_write_units_per_recipient"] - second["write_units"]
    per_call = campaign["recipients_per_call"]
    events = a["ses_events_per_email"]
    # the sender: guardrail calls one recipient after another, one SES call per batch
    sender_ms = a["invoke_overhead_ms"] + per_call * single * a["dynamodb_call_ms"] + a["ses_call_ms"]
    sender = _lambda_cost(1 / per_call, math.ceil(sender_ms), memory["campaign_sender"], p, arch)
    # SES events: SNS -> SQS -> the SesEvents function, batches of 10
    events_ms = (
        a["invoke_overhead_ms"] + 10 * (a["ses_event_writes"] + a["ses_event_reads"]) * a["dynamodb_call_ms"]
    )
    event_lambda = _lambda_cost(events / 10, math.ceil(events_ms), memory["ses_events"], p, arch)
    # priced from units, as DynamoDB bills: not from requests
    dynamodb = (write_units + events * a["ses_event_write_units"]) * wru + (
        read_units + events * a["ses_event_read_units"]
    ) * rru
    sqs_requests = 3 / per_call + events * (
        1 + 2 / 10
    )  # batch send/receive/delete; event send, receive, delete
    sqs = sqs_requests * p["sqs_requests_per_million"] / 1e6
    sns = events * p["sns_publishes_per_million"] / 1e6
    ses = p["ses_emails_per_thousand"] / 1000
    patron = sender + event_lambda + dynamodb + sqs + sns
    return {
        "dynamodb_requests_per_email": {"reads": round(reads, 2), "writes": round(writes, 2)},
        "dynamodb_units_per_email": {
            "read_units": round(read_units + events * a["ses_event_read_units"], 3),
            "write_units": round(write_units + events * a["ses_event_write_units"], 3),
            "of_which_ses_events": {
                "read_units": round(events * a["ses_event_read_units"], 3),
                "write_units": round(events * a["ses_event_write_units"], 3),
            },
        },
        "usd_per_million_emails": {
            "ses": round(ses * 1e6, 2),
            "patron_lambda": round((sender + event_lambda) * 1e6, 2),
            "patron_dynamodb": round(dynamodb * 1e6, 2),
            "patron_sqs_sns": round((sqs + sns) * 1e6, 2),
            "patron_total": round(patron * 1e6, 2),
            "total": round((ses + patron) * 1e6, 2),
        },
        "sms": PRICES["sns_sms"],
    }


def hot_keys(volume: int, measured: dict[str, Any], a: dict[str, float]) -> list[dict[str, Any]]:
    """Request rates at a sale's peak on the keys that one partition serves (DynamoDB: 1,000
    WCU and 3,000 RCU a second per partition; a single item never splits). One workspace
    holds all the volume, the worst case of a single huge store, and sends a campaign to
    its whole audience within an hour."""
    peak = volume / SECONDS_PER_MONTH * a["peak_factor"]  # orders a second
    send_rate = volume * a["audience_per_monthly_order"] / a["campaign_seconds"]  # emails a second
    memory = memory_of()
    per_record_ms = (
        a["stream_record_cpu_ms"] * max(1.0, a["full_vcpu_mb"] / memory["ingest_stream"])
        + sum(measured["phases"]["consumer_new"][k] for k in ("read_requests", "write_requests"))
        * a["dynamodb_call_ms"]
    )
    shard_capacity = 1000 / per_record_ms * a["parallelization_factor"]  # records a second per shard
    rows = [
        (
            f"W#<ws>#STATS#NN camp#<id> (one of {STATS_SHARDS} partitions)",
            "write",
            send_rate * a["ses_events_per_email"] / STATS_SHARDS,
            1000,
            f"sharded: each SES event's ADD goes to one of {STATS_SHARDS} partitions at random; "
            "readers sum them. Past 10x, raise STATS_SHARDS",
        ),
        (
            f"W#<ws>#OPT#NN and W#<ws>#SUP#NN (each one of {LIST_SHARDS} partitions)",
            "read",
            send_rate / LIST_SHARDS,
            3000,
            f"sharded: by the customer id's or the address's hash over {LIST_SHARDS} partitions each",
        ),
        (
            "W#<ws>#SEGM#<segment> (a built-in segment's members)",
            "write",
            peak,
            1000,
            "one partition per segment; split by sort key under heat",
        ),
        ("by_recheck R#<day>#<shard>", "write", peak / 16, 1000, "sharded: 16 buckets a day"),
        ("by_recheck F#<day>#<shard>", "write", peak / 16, 1000, "sharded: 16 buckets a day"),
        (
            "ingest stream shard -> ingest_stream",
            "records",
            peak * 2 / a["stream_shards"],
            shard_capacity,
            "sharded by DynamoDB; up to 10 batches per shard at once (ParallelizationFactor 10), "
            "records of one item still in order",
        ),
        (
            "CAMPDUE (held batches, all workspaces)",
            "write",
            send_rate * 0.38 / 50,
            1000,
            "not sharded; small",
        ),
        (
            "CAMPQ, SWEEP, WSLIST (all workspaces)",
            "write",
            1 / 60,
            1000,
            "not sharded; a few writes a minute",
        ),
    ]
    return [
        {
            "key": key,
            "kind": kind,
            "per_second_at_peak": round(rate, 1),
            "limit_per_second": round(limit, 1),
            "hot": rate > limit,
            "today": note,
        }
        for key, kind, rate, limit, note in rows
    ]


PROVISIONED_UTILIZATION = 0.7  # auto scaling's target (patron.capacity: CapacityTarget)
HOURS_PER_MONTH = SECONDS_PER_MONTH / 3600


def scaled_capacities() -> int:
    """Tables plus their global indexes: each holds its own read and write capacity."""
    resources = json.loads(stack.RESOURCES.read_text())["Resources"].values()
    tables = [r["Properties"] for r in resources if r["Type"] == "AWS::DynamoDB::Table"]
    return sum(1 + len(t.get("GlobalSecondaryIndexes", [])) for t in tables)


def provisioned_prices(minimum_units: int = 1) -> dict[str, Any]:
    """On-demand unit prices replaced by provisioned capacity's ($0.00065 per WCU-hour and
    $0.00013 per RCU-hour in us-east-1) at auto scaling's 70% utilization; and the floor
    a month that `minimum_units` of each kind on every table and index cost however
    little is used (`patron deploy --table-capacity provisioned --capacity-min N`)."""
    hours = 1e6 / 3600 / PROVISIONED_UTILIZATION  # capacity-hours per million units consumed
    floor = scaled_capacities() * minimum_units * HOURS_PER_MONTH * (0.00065 + 0.00013)
    return PRICES | {
        "dynamodb_write_request_units_per_million": round(0.00065 * hours, 4),
        "dynamodb_read_request_units_per_million": round(0.00013 * hours, 4),
        "dynamodb_floor_usd_per_month": round(floor, 2),
    }


LEVERS: dict[str, tuple[dict[str, float], bool, str]] = {
    "subscribe_create_and_updated_only": (
        {"same_state_deliveries": 0.0},
        False,
        "no delivery that repeats a stored state (no orders/paid beside orders/updated)",
    ),
    "no_segment_move": (
        {"segment_path_share": 0.0},
        False,
        "orders that move no segment or lifecycle stage (the measured segment path is the worst case)",
    ),
    "stream_window_10s": (
        {"stream_window_s": 10.0},
        False,
        "a 10 s batching window on the stream consumers (fuller batches; segment events ~10 s later)",
    ),
    "provisioned_capacity": ({}, True, "DynamoDB provisioned with auto scaling at 70% utilization"),
}


def levers(measured: dict[str, Any], a: dict[str, float], arch: str) -> dict[str, Any]:
    """The default path's total per million orders at 1x, one change at a time, then all."""

    def total(overrides: dict[str, float], provisioned: bool, architecture: str = arch) -> float:
        result = orders_cost(
            measured,
            VOLUMES["1x"],
            provisioned_prices() if provisioned else None,
            a | overrides,
            architecture,
        )
        return float(result["front_doors"][DEFAULT_FRONT_DOOR]["usd_per_million_orders"]["total"])

    out: dict[str, Any] = {"as_shipped": total({}, False)}
    for name, (overrides, provisioned, why) in LEVERS.items():
        out[name] = {"usd_per_million_orders": total(overrides, provisioned), "what": why}
    out["arm64"] = {"usd_per_million_orders": total({}, False, "arm64"), "what": "the functions on arm64"}
    every: dict[str, float] = {}
    for overrides, _, _ in LEVERS.values():
        every |= overrides
    out["all_of_them"] = {"usd_per_million_orders": total(every, True, "arm64"), "what": "every lever above"}
    return out


def measure(orders: int, seed: int = 11) -> dict[str, Any]:
    """The counts this model needs, measured now by the ingest bench (in process, moto)."""
    from patron.bench import ingest

    for key, value in ingest.BENCH_ENV.items():
        os.environ.setdefault(key, value)
    writes = ingest.measure_writes(orders, seed, segment_path=True, changes=True)
    cpu = ingest.measure_cpu()
    imports = ingest.measure_imports()
    out: dict[str, Any] = {"orders": orders, "phases": writes["phases"]}
    out["handler_cpu_us_median"] = cpu["handler_cpu_us_median"]
    out["cold_ms"] = imports["cold_import_plus_first_webhook_ms"]
    return out


def compute(
    measured: dict[str, Any],
    campaign: dict[str, Any] | None = None,
    assumptions: dict[str, float] | None = None,
    arch: str = "x86_64",
) -> dict[str, Any]:
    """Everything the command prints, from the measured counts (pure: no AWS, no clock)."""
    a = {k: v for k, (v, _) in ASSUMPTIONS.items()} | (assumptions or {})
    campaign = campaign or CAMPAIGN_RECORDED
    volumes = {name: orders_cost(measured, v, assumptions=a, arch=arch) for name, v in VOLUMES.items()}
    default = volumes["1x"]["front_doors"][DEFAULT_FRONT_DOOR]["usd_per_million_orders"]["total"]
    # the same default path with the tables provisioned (patron deploy --table-capacity provisioned)
    provisioned = {
        name: orders_cost(measured, v, provisioned_prices(), a, arch)["front_doors"][DEFAULT_FRONT_DOOR][
            "usd_per_million_orders"
        ]
        for name, v in VOLUMES.items()
    }
    return {
        "benchmark": "cost",
        "prices": PRICES,
        "assumptions": {k: {"value": a[k], "why": why} for k, (_, why) in ASSUMPTIONS.items()},
        "measured": measured,
        "campaign": campaign,
        "architecture": arch,
        "default_front_door": DEFAULT_FRONT_DOOR,
        "orders": volumes,
        "orders_provisioned": provisioned,
        "emails": emails_cost(campaign, assumptions=a, arch=arch),
        "levers": levers(measured, a, arch),
        "hot_keys": {name: hot_keys(v, measured, a) for name, v in VOLUMES.items()},
        "default_usd_per_million_orders": default,
        "target_usd_per_million_orders": TARGET_PER_MILLION_ORDERS,
        "meets_target": default <= TARGET_PER_MILLION_ORDERS,
    }


def run(
    orders: int = 300,
    measured: dict[str, Any] | None = None,
    assumptions: dict[str, float] | None = None,
    arch: str = "x86_64",
    campaign_recipients: int | None = None,
) -> dict[str, Any]:
    campaign = None
    if campaign_recipients:
        from patron.bench.campaign import run as run_campaign

        result = run_campaign(recipients=campaign_recipients)
        campaign = {
            **CAMPAIGN_RECORDED,
            "source": f"patron bench campaign --recipients {campaign_recipients}, this run",
            **{k: result[k] for k in CAMPAIGN_MEASURED},
        }
    return compute(measured or measure(orders), campaign, assumptions, arch)
