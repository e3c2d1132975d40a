"""The desk's changes answered with the ticket's SLA (docs/service.md, "A ticket's SLA on
read"): `POST /tickets`, `POST /tickets/{id}/events` and a reply's delivery give the same
`sla` as `GET /tickets/{id}`, computed by the same engine from the log they just wrote, as of
the request's clock (no second read of the ticket)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.service.model import EventKind, TicketEvent, reduce
from chalicelib.domain.service.sla_ops import SlaOperations, ticket_sla
from chalicelib.domain.service.sla_views import sla_view
from chalicelib.domain.service.tickets import TicketService
from chalicelib.domain.service.views import TicketDetail, TicketEventIn, TicketIn
from chalicelib.domain.timemath import parse_iso


def _events(detail: TicketDetail) -> list[TicketEvent]:
    """The log as the detail shows it (times are written to the microsecond: exact)."""
    found: list[TicketEvent] = []
    for e in detail.events:
        at = parse_iso(e.at)
        assert at is not None
        found.append(TicketEvent(EventKind(e.kind), at, e.by, dict(e.data)))
    return found


class TicketsWithSla:
    def __init__(self, tickets: TicketService, sla: SlaOperations) -> None:
        self.tickets = tickets
        self.sla = sla

    def create(self, workspace_id: str, body: TicketIn, by: str, now: datetime) -> TicketDetail:
        return self.with_sla(workspace_id, self.tickets.create(workspace_id, body, by, now), now)

    def record(
        self, workspace_id: str, ticket_id: str, body: TicketEventIn, by: str, now: datetime
    ) -> TicketDetail:
        return self.with_sla(workspace_id, self.tickets.record(workspace_id, ticket_id, body, by, now), now)

    def deliver(self, workspace_id: str, ticket_id: str, reply_seq: int, now: datetime) -> TicketDetail:
        return self.with_sla(workspace_id, self.tickets.deliver(workspace_id, ticket_id, reply_seq, now), now)

    def with_sla(self, workspace_id: str, detail: TicketDetail, now: datetime) -> TicketDetail:
        """The detail with its `sla` as `SlaOperations.show` computes it."""
        events = _events(detail)
        ticket = reduce(workspace_id, detail.id, events)
        policies, _calendar = self.sla.settings.policies(workspace_id)
        at = max(now, ticket.created_at)  # a clock behind the ticket's creation: as of its creation
        state = ticket_sla(ticket, events, policies, at, self.sla.tiers)
        return detail.model_copy(update={"sla": sla_view(state, at)})
