"""The customer list's ports (`domain/customer_list.py`): the search entries and a tier's
customers (`adapters/customer_search.py`), the entries' writer (`domain/search_entries.py`),
and the segment lookup."""

from __future__ import annotations

from typing import Literal, Protocol

SearchKind = Literal["name", "email", "phone"]
EntryKind = Literal["name", "email", "phone", "tag"]


class CustomerIndex(Protocol):
    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """Customer ids whose `kind` value starts with `prefix` (a normalised, non-empty
        value), in the order of `value#id`, after `cursor`; the next cursor only when more
        follow."""
        ...

    def tagged(
        self, workspace_id: str, tag: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """Customer ids with the tag (normalised), by id, after `cursor`; the next cursor
        only when more follow."""
        ...

    def in_tier(
        self, workspace_id: str, tier: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """Customer ids whose tier state holds `tier`, by id, after `cursor` (a page may hold
        fewer than `limit` and still give a cursor)."""
        ...


class SearchEntryStore(Protocol):
    def put_entry(self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int) -> bool:
        """Writes the entry at the profile revision `rev` unless a newer revision wrote it
        (then False)."""
        ...

    def delete_entry(
        self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int
    ) -> bool:
        """Deletes the entry unless a revision newer than `rev` wrote it (then False);
        deleting an absent entry is True."""
        ...


class SegmentLookup(Protocol):
    def get(self, workspace_id: str, segment_id: str) -> object: ...  # NotFound when absent
