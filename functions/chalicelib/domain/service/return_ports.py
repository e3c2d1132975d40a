"""The returns' ports (domain/service/returns.py; docs/data-model.md, "Returns")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.service.model import Ticket, TicketEvent
from chalicelib.domain.service.return_model import StoredReturn


class ReturnStore(Protocol):
    """Returns by their key (`<source>.<return id>`, or `patron.<ticket id>`), each written with
    its ticket's change in one atomic transaction."""

    def get(self, workspace_id: str, key: str) -> StoredReturn | None: ...

    def create(self, ret: StoredReturn, ticket: Ticket | None, events: list[TicketEvent]) -> bool:
        """The new return, only if none has its key; with `ticket` (its head after `events`),
        the ticket created with those events in the same transaction; without, the return
        of a ticket that exists (nothing else written). False (nothing written): it exists."""
        ...

    def move(
        self,
        before: StoredReturn,
        after: StoredReturn,
        ticket: Ticket | None,
        event: TicketEvent | None,
        ticket_after: Ticket | None,
    ) -> bool:
        """The return moved to `after` only while it is still at `before.status`, and the
        ticket's event appended while its head is still at `ticket.seq`: all or nothing.
        False (nothing written) when either moved meanwhile."""
        ...


class ReturnPoints(Protocol):
    """Loyalty's side (domain/loyalty/ledger.py `PointsService.on_return`)."""

    def on_return(
        self, workspace_id: str, order_id: str, return_id: str, amount: Decimal, approved: bool, at: datetime
    ) -> Any: ...


class ReturnOutbox(Protocol):
    """The customer's return messages waiting for the minute job (`flow_tick`), which sends
    them through the messaging service: the webhook functions send nothing themselves."""

    def put(self, workspace_id: str, key: str, kind: str, at: datetime) -> None:
        """The message `kind` of the return `key` due (idempotent: the same again is one)."""
        ...

    def due(self, limit: int) -> list[tuple[str, str, str, datetime]]:
        """Up to `limit` waiting messages: (workspace, return key, kind, status time)."""
        ...

    def done(self, workspace_id: str, key: str, kind: str) -> None: ...


class ReturnNotices(Protocol):
    """The customer's message on a return's status (domain/service/return_messages.py)."""

    def send(self, ret: StoredReturn, kind: str, now: datetime) -> Any: ...
