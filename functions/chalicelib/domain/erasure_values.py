"""What erasing a source finds in storage, as the domain reads it (SourceErasureStore).

The store answers in workspace, source, customer and order ids; where the erasure must
hand an item back to be deleted it gets an opaque reference (`ItemRef`, `IngestRef`) that
it never builds, parses nor compares: the key layouts stay in
adapters/source_erasure_store.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

ItemRef = tuple[str, str]  # a CRM-table item, as the store names it (opaque here)
IngestRef = str  # an ingest-table item, as the store names it (opaque here)


@dataclass(frozen=True)
class RunItem:
    """An item of a customer's flow-run partition: a run (its flow and trigger key), or
    another item kept there (the customer's re-entry mark)."""

    ref: ItemRef
    customer_id: str
    is_run: bool
    flow_id: str = ""
    key: str = ""  # the trigger key: an order or checkout id of the run's source, a year...


@dataclass
class SourceRecords:
    """The live (not erased) ingest records of one source, by id, with their references."""

    orders: dict[str, IngestRef] = field(default_factory=dict)  # by public order id
    customers: dict[str, IngestRef] = field(default_factory=dict)  # by platform customer id
    checkouts: dict[str, IngestRef] = field(default_factory=dict)  # by checkout id


@dataclass(frozen=True)
class ProfileRemains:
    """What erasing a profile also removes, counted before it acts."""

    pointers_into: int  # identity pointers (of the ids given) into the profile
    moved_entries: int  # moved order entries under the profile's ids
    engagement: bool  # the profile has an engagement item
    segment_memberships: int  # segments the profile's membership record lists


@dataclass(frozen=True)
class MergedPointer:
    """A merged-away customer id's pointer, with the identities an index finds it by."""

    customer_id: str
    into: str | None  # the profile it points into (None: not a pointer)
    phone: str | None = None  # the phone the by-phone index finds it by
    external_id: str | None = None  # the platform id the by-ext index finds it by


@dataclass(frozen=True)
class ErasureProgress:
    """The progress of erasing one source (resumable, every change at version `version`)."""

    workspace_id: str
    source_id: str
    request_id: str
    phase: str  # walk, verify, rest, done
    version: int
    pages: int = 0
    cursor: str = ""  # where the walk resumes ("" : from the start)
    started_at: str | None = None
    finished_at: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # removed, per kind
    journal_cursor: str | None = None  # the page whose counts were journaled before acting
    journal: dict[str, int] | None = None  # those counts (None: no page cut short)


class HeldBy(StrEnum):
    """What can hold a person outside their profile's partitions, for the domain to list
    in the person index (the others, quarantined bodies and coupons, are listed by the
    adapters that write them)."""

    CHECKOUT = "checkout"  # ref: the checkout's ingest key
    AUDIENCE_EXPORT = "audience_export"  # ref: the export's object key
    DATA_EXPORT = "data_export"  # ref: the data request's id


@dataclass(frozen=True)
class Holding:
    """One thing that holds a customer id's person (the person index's entry)."""

    customer_id: str
    held_by: HeldBy
    ref: str
