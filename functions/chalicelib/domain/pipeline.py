"""The one consumer of the ingest stream: a stored change, and everything it brings.

Each ingest-table change updates the customer's profile first, then sends the
transactional notifications it implies, starts or ends flow runs, and attributes a new
order to a recent click. One consumer, not two reading the same stream, halves the
invocations per order (docs/cost.md). A retry is safe at every step: the profile write
is versioned (`already_applied` the second time), every message is claimed by its key,
flow runs by their trigger key, and an attribution by its order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class ProfileApplier(Protocol):
    def apply_change(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Any: ...


class OrderNotifier(Protocol):
    def on_order_change(
        self, old: dict[str, Any] | None, new: dict[str, Any] | None, now: datetime
    ) -> list[Any]: ...


class IngestTriggers(Protocol):
    def on_ingest_change(
        self,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        now: datetime,
        customer_id: str | None = None,
    ) -> list[str]: ...


class OrderAttribution(Protocol):
    def on_order(
        self,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        now: datetime,
        customer_id: str | None = None,
    ) -> dict[str, Any] | None: ...


@dataclass
class IngestOutcome:
    profile: Any  # profiles.ApplyResult
    decisions: list[Any] = field(default_factory=list)  # notification decisions
    runs: list[str] = field(default_factory=list)  # flow runs started or ended
    attributed: bool = False


class IngestPipeline:
    def __init__(
        self,
        profiles: ProfileApplier,
        notifications: OrderNotifier,
        triggers: IngestTriggers,
        attribution: OrderAttribution,
    ) -> None:
        self.profiles = profiles
        self.notifications = notifications
        self.triggers = triggers
        self.attribution = attribution

    def apply(self, old: dict[str, Any] | None, new: dict[str, Any] | None, now: datetime) -> IngestOutcome:
        result = self.profiles.apply_change(old, new)
        outcome = IngestOutcome(result)
        outcome.decisions = self.notifications.on_order_change(old, new, now)
        # the profile just written names the customer: the triggers and attribution need not
        # look them up
        customer_id = result.customer_id
        outcome.runs = self.triggers.on_ingest_change(old, new, now, customer_id=customer_id)
        outcome.attributed = self.attribution.on_order(old, new, now, customer_id=customer_id) is not None
        return outcome
