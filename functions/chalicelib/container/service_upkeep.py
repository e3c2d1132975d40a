"""The service desk's upkeep in the composition root (docs/service.md): the desk's changes
answered with their SLA, the sweep of public replies left `queued`, and the ticket facts
rebuilt from the queues. Split from `__init__.py`
(full); `Container` inherits it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.service_desk import ServiceDesk
from chalicelib.container.service_facts import TicketFactsServices
from chalicelib.container.service_sla import SlaServices

if TYPE_CHECKING:
    from chalicelib.domain.service.desk import TicketsWithSla
    from chalicelib.domain.service.facts_rebuild import FactsRebuild
    from chalicelib.domain.service.reply_sweep import ReplySweep


class ServiceUpkeep(TicketFactsServices, SlaServices, ServiceDesk):
    @cached_property
    def desk(self) -> TicketsWithSla:
        """The desk's changes answered with the ticket's SLA, as `GET /tickets/{id}` gives it."""
        from chalicelib.domain.service.desk import TicketsWithSla

        return TicketsWithSla(tickets=self.tickets, sla=self.sla)

    @cached_property
    def reply_sweep(self) -> ReplySweep:
        """Replies recorded `queued` whose outcome never came, delivered (the `csat_tick` job)."""
        from chalicelib.domain.service.reply_sweep import ReplySweep

        return ReplySweep(
            tickets=self.tickets, store=self.ticket_store, workspace_ids=self.workspaces.workspace_ids
        )

    @cached_property
    def ticket_facts_rebuild(self) -> FactsRebuild:
        """Facts for the tickets written before the facts existed (`patron tickets facts-rebuild`)."""
        from chalicelib.domain.service.facts_rebuild import FactsRebuild

        membership = self.membership  # type: ignore[attr-defined]  # Container's (container/__init__.py)
        return FactsRebuild(self.ticket_store, self.ticket_fact_store, membership.on_ticket_change)
