"""An in-memory CustomerIndex and SearchEntryStore (domain/customer_list.py,
domain/search_entries.py): the search entries as the CRM stream writes them, each at a
profile revision, and the tier states."""

from __future__ import annotations

from chalicelib.domain.customer_list import bad_cursor
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.search.ports import EntryKind, SearchKind
from chalicelib.domain.search_entries import SearchEntries


class _NoWalk:
    def pages(self, *args: object, **kwargs: object) -> list[object]:
        return []


class FakeCustomerIndex:
    def __init__(self) -> None:
        # (workspace, kind, value, customer id) -> the revision that wrote it
        self.entries: dict[tuple[str, str, str, str], int] = {}
        self.tiers: dict[tuple[str, str], str] = {}

    def given_profile(self, profile: CustomerProfile) -> None:
        """The profile as the CRM stream's consumer indexes a new one."""
        SearchEntries(self, _NoWalk()).on_change(None, profile)  # type: ignore[arg-type]

    def given_tier(self, workspace_id: str, customer_id: str, tier: str) -> None:
        self.tiers[(workspace_id, customer_id)] = tier

    def put_entry(self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int) -> bool:
        key = (workspace_id, kind, value, customer_id)
        if self.entries.get(key, rev) > rev:
            return False
        self.entries[key] = rev
        return True

    def delete_entry(
        self, workspace_id: str, customer_id: str, kind: EntryKind, value: str, rev: int
    ) -> bool:
        key = (workspace_id, kind, value, customer_id)
        if self.entries.get(key, rev) > rev:
            return False
        self.entries.pop(key, None)
        return True

    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        if cursor is not None and not cursor.startswith(prefix):
            raise bad_cursor()
        keys = sorted(
            f"{value}#{cid}"
            for (ws, k, value, cid) in self.entries
            if ws == workspace_id and k == kind and value.startswith(prefix)
        )
        return self._page([(key, key.rsplit("#", 1)[1]) for key in keys], limit, cursor)

    def tagged(
        self, workspace_id: str, tag: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        ids = sorted(
            cid for (ws, k, value, cid) in self.entries if ws == workspace_id and (k, value) == ("tag", tag)
        )
        return self._page([(cid, cid) for cid in ids], limit, cursor)

    @staticmethod
    def _page(keyed: list[tuple[str, str]], limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        if cursor:
            keyed = [(key, cid) for key, cid in keyed if key > cursor]
        page = keyed[:limit]
        return [cid for _, cid in page], (page[-1][0] if len(keyed) > limit else None)

    def in_tier(
        self, workspace_id: str, tier: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        ids = sorted(cid for (ws, cid), t in self.tiers.items() if ws == workspace_id and t == tier)
        if cursor:
            ids = [cid for cid in ids if "C#" + cid > cursor]
        return ids[:limit], ("C#" + ids[limit - 1] if len(ids) > limit else None)
