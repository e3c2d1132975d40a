"""The SLA operations of the composition root: the service settings (calendar, ordered
policies), a ticket's computed SLA, the report and the scheduled check (docs/service.md,
"SLA operations"). `Container` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.container.adapters import Adapters

if TYPE_CHECKING:
    from chalicelib.domain.service.sla_check import SlaCheck
    from chalicelib.domain.service.sla_ops import SlaOperations
    from chalicelib.domain.service.sla_settings import SlaSettingsService


class SlaServices(Adapters):
    @cached_property
    def sla_settings(self) -> SlaSettingsService:
        """The workspace's business calendar and SLA policies (`/service/sla`)."""
        from chalicelib.adapters.sla_store import DynamoSlaSettingsStore
        from chalicelib.domain.service.sla_settings import SlaSettingsService

        return SlaSettingsService(store=DynamoSlaSettingsStore(self.crm), workspaces=self.workspaces)

    @cached_property
    def sla(self) -> SlaOperations:
        """A ticket with its SLA as of the request, and the SLA report."""
        from chalicelib.adapters.sla_store import DynamoTicketsCreated
        from chalicelib.domain.service.sla_ops import SlaOperations

        return SlaOperations(
            settings=self.sla_settings,
            store=self.ticket_store,
            created=DynamoTicketsCreated(self.crm),
            tiers=self.tier_store,
        )

    @cached_property
    def sla_check(self) -> SlaCheck:
        """The scheduled check: alerts on the tickets and the ServiceAlerts topic."""
        from chalicelib.adapters.sla_store import DynamoSlaAlertLog, SnsAlertPublisher
        from chalicelib.domain.service.sla_check import SlaCheck

        return SlaCheck(
            settings=self.sla_settings,
            store=self.ticket_store,
            alerts=DynamoSlaAlertLog(self.crm),
            publisher=SnsAlertPublisher(self.client("sns"), self.settings.service_alerts_topic_arn),
            workspace_ids=self.workspaces.workspace_ids,
            tiers=self.tier_store,
        )
