"""Loyalty's flow triggers (docs/loyalty.md#flow-triggers), from the CRM stream's inserts:

- `tier.changed`: a tier audit entry (one per change of a customer's tier, up, down or by
  hand); key `tier#<version>`, the state's version the change wrote, so a replayed record
  starts nothing more; the run's context carries `tier_from` and `tier_to` (`""`: none);
- `points.earned`: a ledger entry crediting earned points (an order's earning, an action's
  bonus; not an operator's adjustment, a give-back nor a history import's entry); key: the
  entry's key, once per entry whatever the replays;
- `points.redeemed`: a redemption once final (not its give-back); key: the entry's key; the
  context carries `coupon_code` (the code made in the store; none for store credit),
  `points_redeemed` and `redeemed_value` (the money value with its currency). A store-credit
  redemption is final when written (its insert on the stream); a code redemption is written
  `pending` (its insert starts nothing) and announced by the redemption service once the
  store made the code (`made`); one given back (the store failed) never starts anything;
- `points.reversed`: a refund's or a cancellation's reversal entry taking points back
  (points != 0); key: the entry's key; the context carries `points_reversed` (> 0).

Runs are keyed by flow and trigger key (domain/messaging/flows.py), so the at-least-once
stream enrols each customer once per change or entry.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.loyalty.model import (
    CANCEL,
    EARN,
    GIVEN_BACK,
    PENDING,
    REDEEM,
    RESTORE,
    REVERSE,
    LedgerEntry,
)
from chalicelib.domain.loyalty.ports import PointsLedger
from chalicelib.domain.loyalty.rules import BONUS
from chalicelib.domain.loyalty.tiers import TierChange
from chalicelib.domain.messaging.flow_definition import TriggerEvent
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import RunContext

TIER_CHANGED = "tier.changed"
POINTS_EARNED = "points.earned"
POINTS_REDEEMED = "points.redeemed"
POINTS_REVERSED = "points.reversed"
REVERSAL_KINDS = (REVERSE, CANCEL)
EARNED_KINDS = (EARN, BONUS)
QUIET_SOURCES = ("import",)  # the historical entry (domain/loyalty/history.py): never messages


def earned(entry: LedgerEntry) -> bool:
    return entry.points > 0 and entry.key.kind in EARNED_KINDS and entry.key.source not in QUIET_SOURCES


def redeemed(entry: LedgerEntry) -> bool:
    final = entry.state not in (PENDING, GIVEN_BACK)  # a code not made (yet): nothing redeemed
    return entry.points < 0 and entry.key.source == REDEEM and entry.key.kind == REDEEM and final


def reversed_points(entry: LedgerEntry) -> bool:
    return entry.points != 0 and entry.key.kind in REVERSAL_KINDS


def messaged(entry: LedgerEntry) -> bool:
    """A ledger entry that may start a flow: earned, redeemed or reversed points."""
    return earned(entry) or redeemed(entry) or reversed_points(entry)


def entry_context(entry: LedgerEntry) -> tuple[str, dict[str, object]] | None:
    """The trigger an entry starts and its run's context values; None: none."""
    if earned(entry):
        return POINTS_EARNED, {"points": entry.points}
    if redeemed(entry):
        extra: dict[str, object] = {"points_redeemed": -entry.points}
        if entry.amount is not None:
            extra["redeemed_value"] = f"{entry.amount} {entry.currency or ''}".strip()
        if entry.code:
            extra["coupon_code"] = entry.code
        return POINTS_REDEEMED, extra
    if reversed_points(entry):
        return POINTS_REVERSED, {"points_reversed": abs(entry.points)}
    return None


class LoyaltyTriggers:
    def __init__(self, flows: FlowService, ledger: PointsLedger | None = None) -> None:
        self.flows = flows
        self.ledger = ledger  # a redemption's give-back is looked for (one read per redemption)

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
        found = entry_context(entry)
        if found is None or not self.flows.has_flows(entry.workspace_id):
            return []
        event, extra = found
        if event == POINTS_REDEEMED and self._given_back(entry):
            return []  # the store did not make the code: nothing was redeemed
        k = entry.key
        context = RunContext("order", extra=extra)
        return self.flows.trigger(
            TriggerEvent(
                event,
                entry.workspace_id,
                entry.customer_id,
                f"{k.source}#{k.external_id}#{k.kind}",
                entry.at,
                context,
            )
        )

    def _given_back(self, entry: LedgerEntry) -> bool:
        """A code redemption written before redemptions had states: its give-back looked for."""
        if self.ledger is None or entry.state is not None or entry.code is None:
            return False
        back = replace(entry.key, kind=RESTORE)
        return self.ledger.entry(entry.workspace_id, entry.customer_id, back) is not None
