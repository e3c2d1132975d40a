"""The counts `patron bench cost` takes from the ingest bench, measured against moto."""

from __future__ import annotations

from patron.bench.ingest import measure_writes


def test_the_ingest_bench_counts_reads_as_well_as_writes():
    # Given a small ingest run (its own moto), with retries and the segment path drained
    counts = measure_writes(40, seed=3, segment_path=True)
    # Then a new order is two writes and some reads, and a retried delivery reads nothing
    assert counts["write_requests_per_order"] == 2.0
    assert counts["read_requests_per_order"] > 0 and counts["rcu_per_order"] > 0
    assert counts["duplicates"] > 0 and counts["read_requests_per_duplicate"] == 0
    # and the segment path's reads are counted on their own
    assert counts["segment_path_read_requests_per_order"] > 0
