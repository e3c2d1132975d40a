"""The service desk's ports (domain/service/tickets.py; docs/data-model.md, "Tickets")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.service.model import Ticket, TicketEvent, TicketKind, TicketStatus
from chalicelib.domain.service.views import TicketTimelineEntry


class TicketStore(Protocol):
    """Tickets and their append-only logs. Each write is one atomic transaction, an append
    conditioned on the head's `seq` it was checked against (never a blind read then write)."""

    def create(self, ticket: Ticket, event: TicketEvent) -> None:
        """The new ticket's head, its `created` event, its queue entry and its customer link."""
        ...

    def append(self, before: Ticket, event: TicketEvent, after: Ticket) -> bool:
        """Append the event and set the head to `after`, only while the head is still at
        `before.seq`: False when another append came first (nothing written)."""
        ...

    def load(self, workspace_id: str, ticket_id: str) -> tuple[Ticket, list[TicketEvent]] | None:
        """The ticket (its head) and its events, oldest first; None when there is none."""
        ...

    def queue(
        self,
        workspace_id: str,
        status: TicketStatus,
        limit: int,
        cursor: str | None,
        assignee: str | None = None,
        kind: TicketKind | None = None,
    ) -> tuple[list[Ticket], str | None]:
        """A page of the workspace's tickets in a status, oldest first, filtered by assignee
        and kind (a page may be short and still have a next one)."""
        ...

    def of_customer(
        self, workspace_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        """A page of the customer's tickets, newest first."""
        ...

    def of_customers(
        self, workspace_id: str, customer_ids: Sequence[str], limit: int, cursor: str | None
    ) -> tuple[list[Ticket], str | None]:
        """A page of the tickets of several customer ids at once (a profile's and those
        merged into it), newest first, as if they were one customer's."""
        ...


class TicketTimeline(Protocol):
    """The customer's ticket events for their timeline (domain/customers.py)."""

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str]
    ) -> list[TicketTimelineEntry]: ...
