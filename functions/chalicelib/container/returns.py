"""The service desk's returns in the composition root (docs/service.md#returns-and-exchanges):
storefront return webhooks and an agent's moves, with their tickets, points and messages.
`Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.adapters.return_store import DynamoReturnStore
    from chalicelib.domain.service.returns import ReturnService


class ReturnServices(Adapters):
    @cached_property
    def return_store(self) -> DynamoReturnStore:
        from chalicelib.adapters.return_store import DynamoReturnStore

        return DynamoReturnStore(table=self.crm)

    @cached_property
    def returns(self) -> ReturnService:
        """Returns: their tickets, the points of their lines, the customer's messages."""
        from chalicelib.adapters.return_store import DynamoReturnOutbox
        from chalicelib.domain.service.return_messages import ReturnMessages
        from chalicelib.domain.service.returns import ReturnService

        return ReturnService(
            store=self.return_store,
            tickets=self.ticket_store,
            orders=self.order_reader,
            profiles=self.profile_store,
            workspaces=self.workspaces,
            points=self.points,  # type: ignore[attr-defined]  # LoyaltyServices' (container/loyalty.py)
            outbox=DynamoReturnOutbox(self.crm),
            notify=ReturnMessages(
                messaging=self.messaging,  # type: ignore[attr-defined]  # Container's (container/__init__.py)
                workspaces=self.workspaces,
                profiles=self.profile_store,
                orders=self.order_reader,
            ),
        )
