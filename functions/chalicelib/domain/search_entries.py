"""The customer list's search entries, kept off the order path
(docs/data-model.md#the-customer-list).

The CRM stream's profile consumer hands each profile change to `SearchEntries.on_change`:
the entries of the old image and of the new one are compared, and only what changed is
written (the new entries) or deleted (the old ones), each at the profile's revision, so a
replayed record never undoes a newer one. An order that moves only figures writes nothing.
`reindex` backfills a workspace's profiles saved before the entries existed: a resumable
walk of its lifecycle member lists (`domain/walk.py`), never a scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.customer_list import search_keys, tag_key
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.search.ports import EntryKind, SearchEntryStore
from chalicelib.domain.walk import CustomerWalk, Position

Entry = tuple[EntryKind, str]


def entries_of(profile: CustomerProfile | None) -> set[Entry]:
    """What the list finds a profile by: its name, email and phone keys and its tags."""
    if profile is None:
        return set()
    found: set[Entry] = {(kind, value) for kind, value in search_keys(profile).items()}
    found |= {("tag", key) for tag in profile.tags if (key := tag_key(tag))}
    return found


@dataclass(frozen=True)
class EntryChange:
    written: int = 0
    deleted: int = 0
    skipped: int = 0  # a newer revision had written the entry


@dataclass(frozen=True)
class ReindexResult:
    profiles: int
    written: int
    cursor: str | None  # where to resume; None when the walk is done


class SearchEntries:
    def __init__(self, store: SearchEntryStore, walk: CustomerWalk) -> None:
        self.store = store
        self.walk = walk

    def on_change(self, before: CustomerProfile | None, after: CustomerProfile | None) -> EntryChange:
        """One profile change: the entries it added are written, those it dropped deleted. A
        profile merged away or erased (`after` None) drops all of its entries."""
        current = after or before
        if current is None:
            return EntryChange()
        old, new = entries_of(before), entries_of(after)
        if old == new:
            return EntryChange()
        rev = (after.rev if after is not None else None) or ((before.rev or 0) + 1 if before else 0)
        written = deleted = skipped = 0
        ws, cid = current.workspace_id, current.customer_id
        for kind, value in sorted(new - old):
            if self.store.put_entry(ws, cid, kind, value, rev):
                written += 1
            else:
                skipped += 1
        for kind, value in sorted(old - new):
            if self.store.delete_entry(ws, cid, kind, value, rev):
                deleted += 1
            else:
                skipped += 1
        return EntryChange(written, deleted, skipped)

    def reindex(
        self, workspace_id: str, cursor: str | None = None, pages: int | None = None
    ) -> ReindexResult:
        """Writes every live profile's entries at its revision (already there: rewritten,
        the same), from `cursor`, for at most `pages` pages of the walk."""
        start = Position.loads(cursor) if cursor else None
        profiles = written = read = 0
        after: Position | None = start
        for page in self.walk.pages(workspace_id, start):
            for customer_id in page.ids:
                profile = page.customers.get(customer_id)
                if profile is None:
                    continue
                profiles += 1
                for kind, value in sorted(entries_of(profile)):
                    written += self.store.put_entry(workspace_id, customer_id, kind, value, profile.rev or 0)
            after = page.after
            read += 1
            if pages is not None and read >= pages:
                break
        more = after.dumps() if after is not None and not after.finished else None
        return ReindexResult(profiles, written, more)
