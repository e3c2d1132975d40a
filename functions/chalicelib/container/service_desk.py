"""The service desk's tickets in the composition root (docs/service.md): the ticket service
built on the intake's guests and replies and the CSAT survey's hook. `Container` inherits it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.csat import CsatServices
from chalicelib.container.service_intake import ServiceIntake

if TYPE_CHECKING:
    from chalicelib.domain.service.tickets import TicketService


class ServiceDesk(ServiceIntake, CsatServices):
    @cached_property
    def tickets(self) -> TicketService:
        """The service desk's tickets (docs/service.md)."""
        from chalicelib.domain.service.tickets import TicketService

        return TicketService(
            store=self.ticket_store,
            profiles=self.profile_store,
            orders=self.order_reader,
            workspaces=self.workspaces,
            guests=self.ticket_guests,
            replies=self.ticket_replies,
            hooks=(self.csat,),
        )
