"""The counts `patron bench cost` takes from the ingest bench, measured against moto."""

from __future__ import annotations

import os

from patron.bench.ingest import measure_writes


def test_the_ingest_bench_counts_each_phase_of_an_order():
    # Given a small ingest run (its own moto): new orders, retries, a fulfilment of each
    # order, and the segment path drained
    counts = measure_writes(40, seed=3, segment_path=True, changes=True)
    phases = counts["phases"]
    # Then the webhook reads what is stored (plus, once, the source its cache then keeps),
    # then writes a new order once
    assert 1.0 <= phases["webhook_new"]["read_requests"] < 1.1
    assert phases["webhook_new"]["write_requests"] == 1.0
    # and a delivery that repeats a stored state costs that read and no write (a failed
    # conditional write would have been billed a whole write unit)
    assert counts["duplicates"] > 0
    duplicate = phases["webhook_duplicate"]
    assert (duplicate["read_requests"], duplicate["write_requests"], duplicate["rcu"]) == (1.0, 0.0, 0.5)
    # and the ingest consumer writes the profile of a new order, but not for its fulfilment,
    # which moves no figure: no write, so no record for the CRM stream's consumer either
    assert phases["consumer_new"]["profile_writes"] == 1.0
    assert (
        phases["consumer_change"]["write_requests"] == 0 and phases["consumer_change"]["profile_writes"] == 0
    )
    assert phases["webhook_change"]["write_requests"] == 1.0  # the order item's new state is kept
    # and the segment path's reads and writes are counted on their own
    assert phases["segment_path"]["read_requests"] > 0 and phases["segment_path"]["write_requests"] > 0


def test_a_heavy_customers_later_orders_cost_the_same_writes_and_keep_the_profile_small():
    # Given one customer placing 60 orders, each processed before the next (its own moto)
    from patron.bench.heavy import measure_heavy

    counts = measure_heavy(60, seed=5)
    # Then their last 20 orders cost at most 1.5 times the write units of their first 20:
    # the order item, the profile (under 2 KB) and the oldest entry's own item, 4 units,
    # however many orders came before (before this change it grew by a unit every few orders)
    assert counts["heavy_customer_wcu_last_order"] == 4
    assert counts["heavy_customer_write_units_ratio"] <= 1.5
    # (orders 41-60 against 21-40: at most one more unit on one write in twenty; the entries'
    # `ni`, a few bytes each, brings the profile at its bound to 2 KB a little sooner)
    assert counts["heavy_customer_write_units_ratio_vs_orders_21_40"] <= 1.05
    # and the profile item stays near its size at the bound, far from DynamoDB's 400 KB
    assert counts["max_profile_item_bytes"] < 2500
    assert counts["profile_item_bytes_last_order"] > counts["profile_item_bytes_first_order"]


def test_the_campaign_bench_counts_the_dispatcher_and_sender_but_not_its_own_checks(monkeypatch):
    from moto import mock_aws

    from patron.bench.campaign import counted
    from patron.bench.ingest import BENCH_ENV
    from patron.harness import Harness

    for key, value in BENCH_ENV.items():
        monkeypatch.setenv(key, os.environ.get(key, value))
    with mock_aws():
        # Given a bench stage with a workspace, and the campaign bench's counters
        harness = Harness(stage="bench")
        ws = harness.create_workspace("Counted")
        container, writes, reads = counted(harness)
        before = (reads.snapshot(), writes.snapshot())
        # When the bench verifies through the harness's own container (a read and a write)
        harness.container.workspaces.settings(ws.workspace_id)
        harness.container.campaigns.dispatch()
        # Then nothing is counted
        assert (reads.snapshot(), writes.snapshot()) == before
        # and when the same work runs through the counted container (as the sender's does), it is
        container.workspaces.settings(ws.workspace_id)
        container.campaigns.dispatch()
        assert reads.snapshot()[0] > before[0][0]
        harness.close()


def test_the_campaign_bench_counts_units_as_billed_and_the_second_deliveries_apart():
    from patron.bench.campaign import run

    # When the campaign bench runs on a small audience (every queue message delivered twice)
    result = run(recipients=150, seed=4)
    # Then it counts read and write units per recipient, beside the requests
    assert (
        result["dynamodb_read_units_per_recipient"] > 0 and result["dynamodb_write_units_per_recipient"] > 0
    )
    # and the second deliveries apart: at least the failed claim (billed a write unit) and the
    # consistent read that tells it is done (a unit), per recipient
    second = result["second_delivery_per_recipient"]
    assert second["write_units"] >= 1.0 and second["read_units"] >= 1.0
    assert second["requests"] < result["dynamodb_requests_per_recipient"]
