"""The one consumer of the ingest stream: a stored change, and everything it brings.

Each ingest-table change updates the customer's profile first, then sends the
transactional notifications it implies, starts or ends flow runs, and attributes a new
order to a recent click, then marks the coupons its discount codes used as redeemed
(`messaging/coupons.py`), then writes the order's points (earned, reversed: loyalty/ledger.py,
for workspaces with loyalty on). A state a history import stored (`IngestChange.quiet`) is
skipped whole: the import's batch engine built its profile (domain/batch_import.py), and
historical orders notify no one and start no flow. One
consumer, not two reading the same stream, halves the invocations per order
(docs/cost.md). A retry is safe at every step: the profile write is versioned
(`already_applied` the second time), every message is claimed by its key, flow runs by
their trigger key, and an attribution by its order.

A notification the provider refuses for now (throttled, or its claim held by another
attempt) does not hold back the profiles behind it on the shard: the record succeeds,
the order is kept in a small list of held notifications, and the minute job
(`retry_held`, from `flow_tick`) sends them from the order's current state, claimed by
key as always. Any other failure fails the record, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.ports import OrderPoints, OrderTiers
from chalicelib.domain.messaging.model import InFlight, Throttled
from chalicelib.domain.outcomes import ApplyResult
from chalicelib.domain.ports import (
    HeldNotifications,
    IngestTriggers,
    OrderAttribution,
    OrderCoupons,
    OrderItems,
    OrderNotifier,
    ProfileApplier,
)

RETRY_LATER = (Throttled, InFlight)


@dataclass
class IngestOutcome:
    profile: ApplyResult
    decisions: list[Any] = field(default_factory=list)  # notification decisions
    runs: list[str] = field(default_factory=list)  # flow runs started or ended
    attributed: bool = False
    held: bool = False  # the notifications wait for the minute job (the provider refused for now)
    redeemed: list[Any] = field(default_factory=list)  # coupons the order's codes redeemed (or gave back)
    points: list[Any] = field(default_factory=list)  # points entries the order wrote
    tier: Any = None  # the tier change the order made (an upgrade), if any


class IngestPipeline:
    def __init__(
        self,
        profiles: ProfileApplier,
        notifications: OrderNotifier,
        triggers: IngestTriggers,
        attribution: OrderAttribution,
        later: HeldNotifications | None = None,
        orders: OrderItems | None = None,
        coupons: OrderCoupons | None = None,
        points: OrderPoints | None = None,
        tiers: OrderTiers | None = None,
    ) -> None:
        self.profiles = profiles
        self.notifications = notifications
        self.triggers = triggers
        self.attribution = attribution
        self.later = later
        self.orders = orders
        self.coupons = coupons
        self.points = points
        self.tiers = tiers

    def apply(self, change: IngestChange, now: datetime) -> IngestOutcome:
        if change.quiet:  # a history import's state: its batch engine built the profile
            return IngestOutcome(ApplyResult(None, "imported"))  # (domain/batch_import.py)
        result = self.profiles.apply_change(change)
        outcome = IngestOutcome(result)
        try:
            outcome.decisions = self.notifications.on_order_change(change, now)
        except RETRY_LATER:
            if self.later is None or change.order is None:
                raise
            self.later.hold(change.order.workspace_id, change.order.key, now)
            outcome.held = True
        # the profile just written names the customer: the triggers and attribution need not
        # look them up
        customer_id = result.customer_id
        outcome.runs = self.triggers.on_ingest_change(change, now, customer_id=customer_id)
        outcome.attributed = self.attribution.on_order(change, now, customer_id=customer_id) is not None
        if self.coupons is not None:  # the order's discount codes redeem Patron's coupons
            outcome.redeemed = self.coupons.on_order(change, now)
        if self.points is not None and change.order is not None:  # earned, reversed (keyed: replay-safe)
            outcome.points = self.points.on_order(change, now, customer_id)
        if self.tiers is not None and change.order is not None:  # up at once, after the points
            outcome.tier = self.tiers.on_order(change, now, customer_id)
        return outcome

    def retry_held(self, now: datetime, limit: int = 100) -> dict[str, Any]:
        """Send the held notifications from their orders' current state (as if first seen:
        what went out already is a duplicate by its key). Stops at the first refusal for
        now; an order whose send fails otherwise stays held and is reported in `errors`
        (by its key: no personal data), and the others still go."""
        counts: dict[str, Any] = {"sent": 0, "released": 0, "still_held": 0, "errors": []}
        if self.later is None or self.orders is None:
            return counts
        held = self.later.held(limit)
        orders = {o.key: o for o in self.orders.order_images([key for _, key in held])}
        for n, (workspace_id, key) in enumerate(held):
            order = orders.get(key)
            try:
                decisions = (
                    self.notifications.on_order_change(IngestChange(after=order), now) if order else []
                )
            except RETRY_LATER:
                counts["still_held"] = len(held) - n
                break
            except Exception as exc:  # noqa: BLE001 - kept held, reported and logged; retried next minute
                counts["errors"].append({"item": key, "error": type(exc).__name__})
                continue
            counts["sent"] += sum(1 for d in decisions if d.status == "sent")
            self.later.release(workspace_id, key)
            counts["released"] += 1
        return counts
