"""A workspace's live customers, page by page, without a table scan.

Every live customer is in exactly one built-in lifecycle segment, so the six
`lifecycle:<stage>` member lists are the workspace's customer list. A walk reads them in
stage order, one page of ids at a time, then the page's profiles (BatchGetItem,
eventually consistent). It reads only the workspace's own partitions, whatever else the
table holds. The segment backfill, the nightly job, the analytics report and the audience
export all walk with this one iterator.

A position (`Position.dumps`) can be stored and resumed from. A customer whose stage moves
while a walk runs can be listed twice (once in each stage) or, moving to a stage already
walked, not at all until the next walk; `customers_of` drops the repeats of one walk. A
profile the segment processor has not evaluated yet (its first seconds) is not listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.ports import MemberLists, ProfilePages
from chalicelib.domain.segments import LIFECYCLE_STAGES

PAGE = 100  # BatchGetItem reads at most 100 keys


@dataclass(frozen=True)
class Position:
    """Where a walk stands: the lifecycle stage's index and the last member key read."""

    stage: int = 0
    key: str | None = None

    @property
    def finished(self) -> bool:
        return self.stage >= len(LIFECYCLE_STAGES)

    def dumps(self) -> str:
        return json.dumps({"stage": self.stage, "key": self.key})

    @classmethod
    def loads(cls, raw: str | None) -> Position:
        if not raw:
            return cls()
        value = json.loads(raw)
        return cls(int(value["stage"]), value.get("key"))


@dataclass(frozen=True)
class Page:
    ids: list[str]  # as listed; an id whose profile is gone is absent from `customers`
    customers: dict[str, CustomerProfile]
    after: Position  # where the next page starts


class CustomerWalk:
    def __init__(self, members: MemberLists, profiles: ProfilePages) -> None:
        self.members = members
        self.profiles = profiles

    def pages(self, workspace_id: str, start: Position | None = None, size: int = PAGE) -> Iterator[Page]:
        """Pages from `start` to the end; each is read only when asked for, so a caller can
        stop between pages (a time budget) and resume later from the last `after`."""
        position = start or Position()
        while not position.finished:
            builtin = f"lifecycle:{LIFECYCLE_STAGES[position.stage]}"
            ids, key = self.members.members(workspace_id, builtin, size, position.key)
            customers = self.profiles.load_many(workspace_id, ids) if ids else {}
            position = Position(position.stage + 1) if key is None else Position(position.stage, key)
            yield Page(ids, customers, position)

    def customers_of(self, workspace_id: str, size: int = PAGE) -> Iterator[CustomerProfile]:
        """Every live profile of the workspace, once per walk."""
        seen: set[str] = set()
        for page in self.pages(workspace_id, None, size):
            for customer_id in page.ids:
                profile = page.customers.get(customer_id)
                if profile is None or customer_id in seen:
                    continue
                seen.add(customer_id)
                yield profile
