"""`patron bench report`: what `GET /analytics/report` reads, alone and among other workspaces.

A workspace of N simulated customers is loaded into the embedded AWS (profiles, membership
records and the member items the segment processor keeps), and its report is built by
the real service over the real adapters and boto3, with read units counted as DynamoDB bills
them (`capacity.ReadCounter`: the bytes returned, and each key asked for and not found). Then K other
workspaces of the same size are loaded into the same table and the same report is read
again. A report that reads only its own workspace reads the same units both times:
`other_workspaces_read_ratio` is 1.0. A table scan would read every workspace's items
(`full_scan_read_units`: the table's bytes in 4 KB units, eventually consistent).

Loading millions of items through the API is too slow in moto, so items are put into
moto's table directly (`_insert`); only the loading bypasses boto3, never the code measured.
The other workspaces are copies of the measured one's items under their own workspace ids
(`_clone`: the same sizes, sharing moto's attribute values, so a million customers fit in
memory), and moto answers the reads with `motofast.fast_reads` (the same bytes,
without its slow model-driven serializer).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 11


def _insert(table: Any, items: list[dict[str, Any]]) -> None:
    """Items straight into moto's table (no stream records: nothing downstream is measured)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from chalicelib.adapters.codec import to_item

    for values in items:
        attrs = to_item(values)
        hash_key, range_key = DynamoType(attrs["pk"]), DynamoType(attrs["sk"])
        table.items[hash_key][range_key] = Item(hash_key, range_key, attrs)


def _load(harness: Any, table: Any, workspace_id: str, customers: int, seed: int, now: datetime) -> None:
    """One workspace's customers as the order pipeline and the segment processor leave them."""
    from chalicelib.adapters.profile_items import profile_of
    from chalicelib.domain.profile_facts import score_profile
    from chalicelib.domain.timemath import iso
    from patron import synthetic

    settings = harness.container.workspaces.settings(workspace_id)
    rng = random.Random(seed)
    batch: list[dict[str, Any]] = []
    for n in range(customers):
        item = synthetic.profile_item(settings, f"c_{n:07d}{rng.randrange(16**4):04x}", rng, now)
        _, stage = score_profile(profile_of(item), None, None, now)
        members = {f"lifecycle:{stage.stage}", "account:guest"}
        cid = item["cid"]
        batch.append(item)
        batch.append(
            {
                "pk": f"W#{workspace_id}#PM#{cid}",
                "sk": "M",
                "t": "membership",
                "ws": workspace_id,
                "cid": cid,
                "segs": members,
                "nchk": iso(stage.next_change),
                "ver": iso(now),
            }
        )
        batch.extend({"pk": f"W#{workspace_id}#SEGM#{s}", "sk": cid, "t": "member"} for s in members)
        if len(batch) >= 10_000:
            _insert(table, batch)
            batch = []
    _insert(table, batch)


def _clone(table: Any, source: str, target: str) -> None:
    """Workspace `target` holds a copy of every item of `source`'s partitions, under its own
    keys: the same number and sizes of profiles, membership records and member items."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    prefix = f"W#{source}#"
    workspace = DynamoType({"S": target})
    for hash_key in [k for k in table.items if str(k.value).startswith(prefix)]:
        pk = DynamoType({"S": f"W#{target}#" + str(hash_key.value)[len(prefix) :]})
        partition = table.items[pk]
        for range_key, item in table.items[hash_key].items():
            clone = copy.copy(item)
            clone.hash_key = pk
            clone.attrs = copy.copy(item.attrs)
            clone.attrs["pk"] = pk
            if "ws" in clone.attrs:
                clone.attrs["ws"] = workspace
            partition[range_key] = clone


def _table_bytes(table: Any) -> tuple[int, int]:
    """(items, bytes) of the whole table, by DynamoDB's item-size rules."""
    from patron.bench.capacity import item_size

    count = size = 0
    for partition in table.items.values():
        for item in partition.values():
            count += 1
            size += item_size(item.to_json()["Attributes"])
    return count, size


def _measure(
    harness: Any, counter: Any, workspace_id: str, now: datetime
) -> tuple[float, int, float, dict[str, Any]]:
    """(read units, requests, seconds, report) of one report over the year to `now`."""
    before_requests, before_units, _ = counter.snapshot()
    started = time.perf_counter()
    report = harness.container.analytics.report(workspace_id, now - timedelta(days=365), now)
    seconds = time.perf_counter() - started
    requests, units, scans = counter.snapshot()
    assert scans == 0, "the report scanned the table"
    return units - before_units, requests - before_requests, seconds, report


def run(
    profiles: int = 100_000,
    other_workspaces: int = 10,
    seed: int = SEED,
    fast_reads: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    from moto import mock_aws
    from moto.backends import get_backend

    from patron import motofast
    from patron.bench.capacity import ReadCounter
    from patron.harness import Harness

    motofast.install()
    now = now or datetime.now(UTC).replace(microsecond=0)
    with mock_aws(), motofast.fast_reads() if fast_reads else nullcontext():
        harness = Harness(stage="bench")
        counter = ReadCounter()
        counter.install(harness.session)
        table = get_backend("dynamodb")["123456789012"][harness.region].tables[harness.info.crm_table]
        counter.enabled = False
        ws = harness.create_workspace("Report")
        started = time.perf_counter()
        _load(harness, table, ws.workspace_id, profiles, seed, now)
        counter.enabled = True
        alone_units, alone_requests, alone_seconds, alone = _measure(harness, counter, ws.workspace_id, now)
        counter.enabled = False
        for k in range(other_workspaces):
            other = harness.create_workspace(f"Other {k}")
            _clone(table, ws.workspace_id, other.workspace_id)
        load_seconds = time.perf_counter() - started
        items, size = _table_bytes(table)
        counter.enabled = True
        units, requests, seconds, report = _measure(harness, counter, ws.workspace_id, now)
        harness.close()
    assert report == alone, "the report changed when other workspaces were added"
    return {
        "profiles": profiles,
        "other_workspaces": other_workspaces,
        "report_customers": report["kpis"]["customers"],
        "report_digest": hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest(),
        "report_read_units": round(units, 1),
        "report_read_units_alone": round(alone_units, 1),
        "other_workspaces_read_ratio": round(units / alone_units, 4) if alone_units else None,
        "report_requests": requests,
        "report_requests_alone": alone_requests,
        "read_units_per_customer": round(units / profiles, 3) if profiles else None,
        "report_seconds_moto": round(seconds, 2),
        "report_seconds_moto_alone": round(alone_seconds, 2),
        "table_items": items,
        "table_bytes": size,
        "full_scan_read_units": round(size / 4096 * 0.5, 1),
        "load_seconds": round(load_seconds, 1),
    }
