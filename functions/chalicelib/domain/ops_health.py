"""The console's ops health (`GET /ops/health`): the same figures the operator commands show.

- `quarantine_open`: the workspace's quarantined deliveries still open (`patron quarantine
  list -w WS`'s open entries; one Query of the workspace's quarantine partition);
- `dead_letters`: per dead-letter queue of the stack, the messages waiting (`patron dlq
  list`: `stream_failures.batches`, `campaign_batches_dead_lettered`); one
  GetQueueAttributes each; counts only, nothing of what they hold;
- `unconverted_currencies`: the report's `warnings` (`patron workspace show`): one walk of
  the workspace, as a report.
"""

from __future__ import annotations

from chalicelib.domain.analytics_views import OpsHealth, QueueDepth, UnconvertedCurrency
from chalicelib.domain.money import round_money
from chalicelib.domain.ops_ports import QueueDepths
from chalicelib.domain.ports import QuarantineCounter
from chalicelib.domain.workspace_analytics import AnalyticsService


class OpsHealthService:
    def __init__(
        self,
        quarantine: QuarantineCounter,
        depths: QueueDepths,
        queues: dict[str, str | None],
        analytics: AnalyticsService,
    ) -> None:
        self.quarantine = quarantine
        self.depths = depths
        self.queues = {name: url for name, url in queues.items() if url}  # the stage's own
        self.analytics = analytics

    def health(self, workspace_id: str) -> OpsHealth:
        unconverted = self.analytics.unconverted(workspace_id)
        return OpsHealth(
            quarantine_open=self.quarantine.count_open(workspace_id),
            dead_letters=[
                QueueDepth(queue=name, messages=self.depths.depth(url)) for name, url in self.queues.items()
            ],
            unconverted_currencies=[
                UnconvertedCurrency(
                    currency=currency,
                    orders=found.orders,
                    amount=round_money(found.amount, currency),
                    command=f"patron workspace set-rate -w {workspace_id} {currency} RATE",
                )
                for currency, found in sorted(unconverted.items())
            ],
        )
