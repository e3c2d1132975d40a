"""A return's transactional messages to the customer (docs/service.md#returns-and-exchanges):
`return_approved`, `return_declined`, `return_closed`, each switched on per workspace like the
order notifications (`patron workspace messaging --notifications`), sent through the messaging
service's transactional guardrails (suppressions hold, no consent needed, one message per
return and kind whatever the replays: the message key is the return's key and the kind)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.messaging.model import Channel, Decision, Outgoing, Purpose, policy_for
from chalicelib.domain.messaging.ports import WorkspaceReader
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.ports import OrderReader, ProfileReader
from chalicelib.domain.service.return_model import StoredReturn


class ReturnMessages:
    def __init__(
        self,
        messaging: MessagingService,
        workspaces: WorkspaceReader,
        profiles: ProfileReader,
        orders: OrderReader,
    ) -> None:
        self.messaging = messaging
        self.workspaces = workspaces
        self.profiles = profiles
        self.orders = orders

    def send(self, ret: StoredReturn, kind: str, now: datetime) -> Decision | None:
        """The `kind` message for the return's customer, when the workspace sends it."""
        settings = self.workspaces.settings(ret.workspace_id)
        if settings is None or kind not in settings.notifications:
            return None
        profile = self.profiles.load(ret.workspace_id, ret.customer_id)
        if profile is None or not (profile.email or profile.phone):
            return None
        found = self.orders.order_details(ret.workspace_id, [ret.order_id])
        number = (found[0].number if found else None) or ret.order_id.partition(".")[2]
        # the storefront's name (`#1001-R1`), else (a short payload came first) by the order
        name = ret.name or f"for order {number}"
        values = {"store_name": settings.name, "order_number": number, "return_name": name}
        message = Outgoing(
            ret.workspace_id,
            profile.customer_id,
            f"txn:return:{ret.key}:{kind}",
            Channel.EMAIL if profile.email else Channel.SMS,
            Purpose.TRANSACTIONAL,
            f"txn_{kind}",
            values,
        )
        return self.messaging.send(message, profile, policy_for(settings), now)
