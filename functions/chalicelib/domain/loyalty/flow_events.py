"""Loyalty's flow triggers (docs/loyalty.md#flow-triggers), from the CRM stream's inserts:

- `tier.changed`: a tier audit entry (one per change of a customer's tier, up, down or by
  hand); key `tier#<version>`, the state's version the change wrote, so a replayed record
  starts nothing more; the run's context carries `tier_from` and `tier_to` (`""`: none);
- `points.earned`: a ledger entry crediting earned points (an order's earning, an action's
  bonus; not an operator's adjustment, a give-back nor a history import's entry); key: the
  entry's key, once per entry whatever the replays.

Runs are keyed by flow and trigger key (domain/messaging/flows.py), so the at-least-once
stream enrols each customer once per change or entry.
"""

from __future__ import annotations

from chalicelib.domain.loyalty.model import EARN, LedgerEntry
from chalicelib.domain.loyalty.rules import BONUS
from chalicelib.domain.loyalty.tiers import TierChange
from chalicelib.domain.messaging.flow_definition import TriggerEvent
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import RunContext

TIER_CHANGED = "tier.changed"
POINTS_EARNED = "points.earned"
EARNED_KINDS = (EARN, BONUS)
QUIET_SOURCES = ("import",)  # the historical entry (domain/loyalty/history.py): never messages


def earned(entry: LedgerEntry) -> bool:
    return entry.points > 0 and entry.key.kind in EARNED_KINDS and entry.key.source not in QUIET_SOURCES


class LoyaltyTriggers:
    def __init__(self, flows: FlowService) -> None:
        self.flows = flows

    def on_tier_change(self, change: TierChange, version: int) -> list[str]:
        """`version`: the state's version this change wrote (its audit entry's)."""
        if change.before == change.after or not self.flows.has_flows(change.workspace_id):
            return []
        context = RunContext("order", extra={"tier_from": change.before or "", "tier_to": change.after or ""})
        return self.flows.trigger(
            TriggerEvent(
                TIER_CHANGED, change.workspace_id, change.customer_id, f"tier#{version}", change.at, context
            )
        )

    def on_entry(self, entry: LedgerEntry) -> list[str]:
        if not earned(entry) or not self.flows.has_flows(entry.workspace_id):
            return []
        k = entry.key
        context = RunContext("order", extra={"points": entry.points})
        return self.flows.trigger(
            TriggerEvent(
                POINTS_EARNED,
                entry.workspace_id,
                entry.customer_id,
                f"{k.source}#{k.external_id}#{k.kind}",
                entry.at,
                context,
            )
        )
