"""The sales pipeline's services of the composition root (docs/sales.md): the store, the
service, and the triggers the ingest stream and the segment events feed. `Container`
inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.adapters.sales_store import DynamoSalesStore
    from chalicelib.domain.sales.rules import SalesTriggers
    from chalicelib.domain.sales.service import SalesService
    from chalicelib.domain.service.tickets import TicketService


class TicketCustomers:
    """sales.ports.CustomerResolver: the customer as a ticket resolves them (by id, merges
    followed, or by email then phone through the identity rules, a guest becoming a profile:
    domain/service/tickets.py `TicketService.resolve_customer`)."""

    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def resolve(
        self,
        workspace_id: str,
        customer_id: str | None,
        email: str | None,
        phone: str | None,
        at: datetime,
    ) -> str:
        return self.tickets.resolve_customer(workspace_id, customer_id, email, phone, at)


class SalesServices(Adapters):
    if TYPE_CHECKING:

        @property
        def tickets(self) -> TicketService:
            """The ticket desk (`Container.tickets`): prospects are resolved as tickets are."""
            ...

    @cached_property
    def sales_store(self) -> DynamoSalesStore:
        from chalicelib.adapters.sales_store import DynamoSalesStore

        return DynamoSalesStore(table=self.crm)

    @cached_property
    def sales(self) -> SalesService:
        """Opportunities, stages, targets, rules and the forecast (docs/sales.md)."""
        from chalicelib.domain.sales.service import SalesService

        return SalesService(
            store=self.sales_store,
            settings=self.sales_store,
            customers=TicketCustomers(self.tickets),
            orders=self.profile_store,
            workspaces=self.workspaces,
            tickets=self.ticket_store,
        )

    @cached_property
    def sales_triggers(self) -> SalesTriggers:
        """The rules on checkouts and segment entries, and won opportunities' orders."""
        from chalicelib.domain.sales.rules import SalesTriggers

        return SalesTriggers(
            sales=self.sales,
            settings=self.sales_store,
            workspaces=self.workspaces,
            profiles=self.profile_store,
        )
