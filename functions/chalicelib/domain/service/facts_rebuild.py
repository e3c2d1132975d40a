"""Ticket facts rebuilt from the tickets' heads (docs/service.md, "Ticket facts"): tickets
last written before the facts existed have none until their next change; this walk writes
them. It reads the workspace's queue partitions, one status after the other (no scan), and
puts each head's fact through the same conditional write the CRM stream uses (only over an
older `seq` of the same ticket), so it is idempotent, safe beside the stream (a ticket that
changes meanwhile keeps its newer fact) and resumable from a cursor. The customers whose facts
moved are evaluated again when a segment of the workspace uses a ticket field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.service.facts import TicketFactStore, fact_of
from chalicelib.domain.service.model import TicketStatus
from chalicelib.domain.service.ports import TicketStore

STATUSES = tuple(TicketStatus)  # open, pending, on_hold, solved, closed: every ticket is in one
PAGE = 100


@dataclass
class RebuildResult:
    tickets_read: int = 0
    facts_written: int = 0  # heads whose fact was absent or older
    customers_reevaluated: int = 0
    next_cursor: str | None = None  # `<status>|<queue sort key>` to resume a cut-short run
    customers: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tickets_read": self.tickets_read,
            "facts_written": self.facts_written,
            "customers_changed": len(self.customers),
            "customers_reevaluated": self.customers_reevaluated,
            "next_cursor": self.next_cursor,
        }


def _start(cursor: str | None) -> tuple[int, str | None]:
    if not cursor:
        return 0, None
    status, _, key = cursor.partition("|")
    try:
        return STATUSES.index(TicketStatus(status)), key or None
    except ValueError:
        raise BadRequest("not a cursor of this walk", [{"field": "cursor", "error": "invalid"}]) from None


class FactsRebuild:
    def __init__(
        self,
        tickets: TicketStore,
        facts: TicketFactStore,
        reevaluate: Callable[[str, str, datetime], Any] | None = None,
    ) -> None:
        self.tickets = tickets
        self.facts = facts
        self.reevaluate = reevaluate  # MembershipService.on_ticket_change

    def run(
        self, workspace_id: str, now: datetime, cursor: str | None = None, pages: int | None = None
    ) -> RebuildResult:
        """Walk the queues from `cursor` (all of them by default; `pages` pages at most)."""
        result = RebuildResult()
        first, key = _start(cursor)
        read = 0
        for status in STATUSES[first:]:
            while True:
                if pages is not None and read >= pages:
                    result.next_cursor = f"{status.value}|{key or ''}"
                    return self._reevaluate(workspace_id, now, result)
                heads, key = self.tickets.queue(workspace_id, status, PAGE, key)
                read += 1
                for ticket in heads:
                    result.tickets_read += 1
                    if self.facts.put(fact_of(ticket)):
                        result.facts_written += 1
                        result.customers.add(ticket.customer_id)
                if key is None:
                    break
        return self._reevaluate(workspace_id, now, result)

    def _reevaluate(self, workspace_id: str, now: datetime, result: RebuildResult) -> RebuildResult:
        if self.reevaluate is not None:
            for customer_id in sorted(result.customers):
                if self.reevaluate(workspace_id, customer_id, now) is not None:
                    result.customers_reevaluated += 1
        return result
