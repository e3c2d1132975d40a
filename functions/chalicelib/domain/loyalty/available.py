"""`points.available` (docs/loyalty.md#flow-triggers): the day a lot of pending points
becomes available, from the daily `points_expire` job.

The sweep reads the lot-day buckets (`customers_with_lot`), which are written only while
the workspace expires points (policy `lots` or `inactivity`): so `points.available` needs
expiry on; with policy `none` it starts nothing. For each customer listed under today's
lot (and yesterday's, a missed run's catch-up) whose lot still holds points, one run keyed
`<lot day>:available`: a second sweep the same day, or the next day's catch-up, starts
nothing more. A credit available at once (a bonus, an adjustment) lands in the same day's
lot, so it is announced with it. The run carries `points_available` (what the lot holds:
the `{{ points }}` variable shows the whole available balance when it is sent).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from chalicelib.domain.loyalty.model import day_start
from chalicelib.domain.loyalty.ports import ExpiringLedger, LoyaltySettings
from chalicelib.domain.messaging.flow_definition import TriggerEvent
from chalicelib.domain.messaging.model import RunContext

TRIGGER = "points.available"
CATCH_UP_DAYS = 1


class AvailableFlows(Protocol):
    def has_flows(self, workspace_id: str) -> bool: ...

    def trigger(self, event: TriggerEvent) -> list[str]: ...


class AvailableMessages:
    def __init__(self, ledger: ExpiringLedger, workspaces: LoyaltySettings, flows: AvailableFlows) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.flows = flows

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
                context = RunContext("order", extra={"points_available": lot})
                event = TriggerEvent(
                    TRIGGER,
                    workspace_id,
                    customer_id,
                    f"{lot_day.isoformat()}:available",
                    day_start(lot_day),
                    context,
                )
                started += len(self.flows.trigger(event))
        return started
