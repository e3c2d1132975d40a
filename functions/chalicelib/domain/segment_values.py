"""Segment value types: a stored definition, a customer's membership record, a backfill.

The stores map them to and from their items (adapters/segment_store.py,
adapters/membership_store.py, adapters/sweep_store.py); the domain never sees keys or
short attribute names.
"""

from __future__ import annotations

from dataclasses import dataclass

# Customers due for a segment recheck on a day are listed in this many partitions (a
# shard each, by customer id), so a day's rechecks never crowd one partition.
RECHECK_SHARDS = 16


@dataclass(frozen=True)
class SegmentDefinition:
    """A workspace's segment: its id, name, canonical definition text and creation time."""

    workspace_id: str
    segment_id: str
    name: str
    definition: str
    created_at: str  # ISO-8601 UTC


@dataclass(frozen=True)
class MembershipRecord:
    """One customer's stored memberships: the segments they are in, when the answer can
    next change by time alone, and the record's version (its write condition)."""

    segments: frozenset[str]
    next_check: str | None  # ISO-8601 UTC
    version: str | None


@dataclass(frozen=True)
class Sweep:
    """A new segment's pending backfill: not before when, how far the walk got (a stored
    walk position), and how many customers it evaluated so far."""

    workspace_id: str
    segment_id: str
    not_before: str | None = None  # ISO-8601 UTC
    cursor: str | None = None
    processed: int = 0
