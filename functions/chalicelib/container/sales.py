"""The sales pipeline's services of the composition root (docs/sales.md): the store, the
service, and the triggers the ingest stream and the segment events feed. `Container`
inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.sales_store import DynamoSalesStore
    from chalicelib.domain.sales.rules import SalesTriggers
    from chalicelib.domain.sales.service import SalesService


class TicketCustomers:
    """sales.ports.CustomerResolver: the customer as a ticket resolves them (by id, merges
    followed, or by email then phone through the identity rules: domain/service/tickets.py)."""

    def __init__(self, adapters: Adapters) -> None:
        from chalicelib.domain.service.tickets import TicketService

        self.tickets = TicketService(
            store=adapters.ticket_store, profiles=adapters.profile_store, workspaces=adapters.workspaces
        )

    def resolve(
        self, workspace_id: str, customer_id: str | None, email: str | None, phone: str | None
    ) -> str:
        from chalicelib.domain.service.model import TicketKind
        from chalicelib.domain.service.views import TicketIn

        asked = TicketIn(
            customer_id=customer_id, email=email, phone=phone, subject="-", kind=TicketKind.PRE_SALE
        )
        return self.tickets._customer(workspace_id, asked).customer_id


class SalesServices(Adapters):
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
            customers=TicketCustomers(self),
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
