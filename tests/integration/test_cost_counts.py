"""The counts `patron bench cost` takes from the ingest bench, measured against moto."""

from __future__ import annotations

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
