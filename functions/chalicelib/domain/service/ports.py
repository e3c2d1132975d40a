"""The service desk's ports (domain/service/tickets.py; docs/data-model.md, "Tickets")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.models import Person
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


class TicketTimeline(Protocol):
    """The customer's ticket events for their timeline (domain/customers.py)."""

    def timeline(
        self, workspace_id: str, customer_id: str, merged_ids: Sequence[str]
    ) -> list[TicketTimelineEntry]: ...


class GuestProfiles(Protocol):
    """A guest's profile made through the identity path orders take (domain/service/intake.py)."""

    def profile_for(self, workspace_id: str, person: Person, at: datetime) -> str | None:
        """The id of the profile holding the person's identities, made when none does (once,
        however many callers at once); None when the person was erased after `at`."""
        ...


class ReplyDelivery(Protocol):
    """Public replies sent to the customer (domain/service/replies.py)."""

    def deliver(self, ticket: Ticket, reply_seq: int, body: str, now: datetime) -> Mapping[str, Any] | None:
        """Send the reply once (keyed by the ticket and `reply_seq`): the `reply_delivery`
        event's data (`delivery`, `reason`, `channel`, `provider_id`), or None when another
        attempt is sending it right now."""
        ...
