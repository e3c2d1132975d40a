"""The SLA operations' ports (docs/data-model.md, "SLA settings, alerts and the SLA report")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from chalicelib.domain.service.model import Ticket, TicketEvent
from chalicelib.domain.service.sla import TargetName
from chalicelib.domain.timemath import iso

Level = Literal["near", "breach"]
Recorded = Literal["recorded", "exists", "conflict"]


@dataclass(frozen=True)
class SlaAlert:
    """One alert of the scheduled check: no personal data (ids, the target, the instant)."""

    workspace_id: str
    ticket_id: str
    target: TargetName
    level: Level
    due_at: datetime
    policy_id: str

    @property
    def key(self) -> str:
        """What makes it once: (ticket, target, level, due at)."""
        return f"{self.target}#{self.level}#{iso(self.due_at)}"

    def message(self) -> dict[str, str]:
        return {
            "type": "sla_alert",
            "workspace_id": self.workspace_id,
            "ticket_id": self.ticket_id,
            "target": self.target,
            "level": self.level,
            "due_at": iso(self.due_at) or "",
            "policy_id": self.policy_id,
        }


class SlaAlertLog(Protocol):
    """Alert markers beside the ticket's log: written with the `sla_alert` event and the head
    in one transaction, so an alert is recorded once whoever runs the check."""

    def record(
        self, before: Ticket, event: TicketEvent, after: Ticket, alert: SlaAlert, claim_until: datetime
    ) -> Recorded:
        """The marker (claimed until `claim_until`), the event and the head at `before.seq`:
        `exists` when the marker was there (nothing written), `conflict` when the head moved."""
        ...

    def unpublished(self, workspace_id: str, ticket_id: str, now: datetime) -> list[SlaAlert]:
        """The ticket's alerts recorded but not published whose claim has lapsed by `now`."""
        ...

    def claim(self, alert: SlaAlert, now: datetime, until: datetime) -> bool:
        """Take an unpublished alert whose claim lapsed (one run wins)."""
        ...

    def published(self, alert: SlaAlert, at: datetime) -> None: ...


class AlertPublisher(Protocol):
    """The ServiceAlerts topic."""

    def publish(self, alert: SlaAlert) -> None: ...


class TicketsCreated(Protocol):
    """The ids of a workspace's tickets created in [start, end), any status, oldest first,
    at most `limit` (and whether there were more)."""

    def created_between(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[list[str], bool]: ...
