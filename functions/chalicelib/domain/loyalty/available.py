"""`points.available` (docs/loyalty.md#flow-triggers): the day a lot of pending points
becomes available, from the daily `points_expire` job.

The sweep reads the lot-day buckets (`customers_with_lot`), which credits write while the
workspace expires points (policy `lots` or `inactivity`) and, with policy `none`, while an
enabled flow starts on `points.available`: the earning reads its settings through
`AvailableListing`, which marks them so (`LoyaltyRules.announces_available`) from the
flows' cached list, so a workspace without such a flow writes no bucket on the order path.
For each customer listed under today's lot (and yesterday's, a missed run's catch-up)
whose lot still holds points, one run keyed `<local day>:available`, the customer's local
day (their profile's zone, else the workspace's default) at the instant the lot became
available (the start of its UTC day): a second sweep the same day, or the next day's
catch-up, starts nothing more. A credit available at once (a bonus, an adjustment) lands
in the same day's lot, so it is announced with it (with policy `none`: only an order's
earning lists its lot). The run carries `points_available` (what the lot holds: the
`{{ points }}` variable shows the whole available balance when it is sent).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Protocol

from chalicelib.domain.loyalty.model import day_start
from chalicelib.domain.loyalty.ports import ExpiringLedger, LoyaltySettings
from chalicelib.domain.messaging.flow_definition import TriggerEvent
from chalicelib.domain.messaging.model import RunContext, policy_for
from chalicelib.domain.messaging.service import local_zone
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.workspace_settings import WorkspaceSettings

TRIGGER = "points.available"
CATCH_UP_DAYS = 1


class AvailableFlows(Protocol):
    def has_flows(self, workspace_id: str) -> bool: ...

    def trigger(self, event: TriggerEvent) -> list[str]: ...


class TriggerUse(Protocol):
    def uses_trigger(self, workspace_id: str, trigger: str) -> bool: ...


class AvailableListing:
    """The workspace settings as the earning reads them: with policy `none`, marked
    `announces_available` while an enabled flow starts on `points.available`."""

    def __init__(self, workspaces: LoyaltySettings, flows: TriggerUse) -> None:
        self.workspaces = workspaces
        self.flows = flows

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or settings.loyalty.lists_lot_days:
            return settings
        if not self.flows.uses_trigger(workspace_id, TRIGGER):
            return settings
        return replace(settings, loyalty=replace(settings.loyalty, announces_available=True))


class AvailableMessages:
    def __init__(
        self,
        ledger: ExpiringLedger,
        workspaces: LoyaltySettings,
        flows: AvailableFlows,
        profiles: ProfileReader | None = None,
    ) -> None:
        self.ledger = ledger
        self.workspaces = workspaces  # an AvailableListing: `lists_lot_days` with policy none too
        self.flows = flows
        self.profiles = profiles  # the customer's zone (None: UTC)

    def announce(self, workspace_id: str, today: date) -> int:
        """The runs started for the lots becoming available by `today` (UTC day)."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or not settings.loyalty.lists_lot_days:
            return 0  # no lot-day buckets to read
        if not self.flows.has_flows(workspace_id):
            return 0
        started = 0
        for back in range(CATCH_UP_DAYS, -1, -1):
            lot_day = today - timedelta(days=back)
            for customer_id in self.ledger.customers_with_lot(workspace_id, lot_day):
                lot = self.ledger.balance(workspace_id, customer_id).lots.get(lot_day, 0)
                if lot <= 0:
                    continue  # spent, reversed or expired meanwhile
                local = self._local_day(settings, customer_id, lot_day)
                if local is None:
                    continue  # no profile (erased): no one to tell
                context = RunContext("order", extra={"points_available": lot})
                event = TriggerEvent(
                    TRIGGER,
                    workspace_id,
                    customer_id,
                    f"{local.isoformat()}:available",
                    day_start(lot_day),
                    context,
                )
                started += len(self.flows.trigger(event))
        return started

    def _local_day(self, settings: WorkspaceSettings, customer_id: str, lot_day: date) -> date | None:
        """The customer's local day at the start of the lot's UTC day (when it became available)."""
        if self.profiles is None:
            return lot_day
        profile = self.profiles.load(settings.workspace_id, customer_id)
        if profile is None:
            return None
        return day_start(lot_day).astimezone(local_zone(profile, policy_for(settings))).date()
