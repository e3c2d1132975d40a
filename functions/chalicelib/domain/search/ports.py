"""The customer list's ports (`domain/customer_list.py`): the search indexes and a tier's
customers (`adapters/customer_search.py`), and the segment lookup."""

from __future__ import annotations

from typing import Literal, Protocol

SearchKind = Literal["name", "email", "phone"]


class CustomerIndex(Protocol):
    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """Customer ids whose `kind` value starts with `prefix` (a normalised, non-empty
        value), in value order then id, after `cursor`; the next cursor only when more follow."""
        ...

    def in_tier(
        self, workspace_id: str, tier: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """Customer ids whose tier state holds `tier`, by id, after `cursor` (a page may hold
        fewer than `limit` and still give a cursor)."""
        ...


class SegmentLookup(Protocol):
    def get(self, workspace_id: str, segment_id: str) -> object: ...  # NotFound when absent
