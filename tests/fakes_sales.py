"""In-memory pipeline stores (chalicelib.domain.sales.ports): items kept as the adapter maps
them (adapters/sales_store.py), partitions as dicts, like the DynamoDB one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.adapters.sales_store import (
    CFG,
    event_item,
    event_of,
    events_pk,
    guard_item,
    guards_pk,
    head_item,
    heads_pk,
    opportunity_of,
    settings_item,
    settings_of,
    settings_pk,
    wait_item,
    waits_pk,
)
from chalicelib.domain.errors import Conflict
from chalicelib.domain.sales.model import Opportunity, OpportunityEvent
from chalicelib.domain.sales.settings import SalesSettings


class FakeSalesStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # pk -> sk -> item

    def _put(self, item: dict[str, Any]) -> None:
        self.items[item["pk"]][item["sk"]] = item

    def sales_settings(self, workspace_id: str, fresh: bool = False) -> SalesSettings:
        item = self.items[settings_pk(workspace_id)].get(CFG)
        return SalesSettings() if item is None else settings_of(item)

    def save_sales_settings(self, workspace_id: str, settings: SalesSettings) -> None:
        item = self.items[settings_pk(workspace_id)].get(CFG)
        if (None if item is None else int(item["ver"])) != settings.version:
            raise Conflict("the pipeline settings changed")
        version = 0 if settings.version is None else settings.version + 1
        self._put(settings_item(workspace_id, settings, version))

    def create(self, opportunity: Opportunity, event: OpportunityEvent, guard: str | None = None) -> bool:
        o = opportunity
        if guard and guard in self.items[guards_pk(o.workspace_id)]:
            return False
        if o.id in self.items[heads_pk(o.workspace_id)]:
            return False
        self._put(head_item(o))
        self._put(event_item(o.workspace_id, o.id, 1, event))
        if guard:
            self._put(guard_item(o.workspace_id, guard, o.id))
        return True

    def guarded(self, workspace_id: str, guard: str) -> str | None:
        item = self.items[guards_pk(workspace_id)].get(guard)
        return None if item is None else str(item["oid"])

    def append(
        self,
        before: Opportunity,
        events: list[OpportunityEvent],
        after: Opportunity,
        release: str | None = None,
        wait: bool | None = None,
    ) -> bool:
        head = self.items[heads_pk(after.workspace_id)].get(after.id)
        if head is None or int(head["seq"]) != before.seq:
            return False
        for n, event in enumerate(events, start=1):
            self._put(event_item(after.workspace_id, after.id, before.seq + n, event))
        self._put(head_item(after))
        if release:
            self.items[guards_pk(after.workspace_id)].pop(release, None)
        mark = wait_item(after)
        if wait is True:
            self._put(mark)
        elif wait is False:
            self.items[mark["pk"]].pop(mark["sk"], None)
        return True

    def load(
        self, workspace_id: str, opportunity_id: str
    ) -> tuple[Opportunity, list[OpportunityEvent]] | None:
        head = self.items[heads_pk(workspace_id)].get(opportunity_id)
        if head is None:
            return None
        partition = self.items[events_pk(workspace_id, opportunity_id)]
        return opportunity_of(head), [event_of(partition[sk]) for sk in sorted(partition)]

    def all(self, workspace_id: str) -> list[Opportunity]:
        partition = self.items[heads_pk(workspace_id)]
        return [opportunity_of(partition[sk]) for sk in sorted(partition, reverse=True)]

    def waiting(self, workspace_id: str, customer_id: str) -> list[str]:
        prefix = f"{customer_id}#"
        return [
            sk[len(prefix) :] for sk in sorted(self.items[waits_pk(workspace_id)]) if sk.startswith(prefix)
        ]
