"""Manual points adjustments by an operator: a ledger entry with a reason and an actor.

An adjustment is the entry (`manual`, Idempotency-Key, `adjustment`): written once, with
the balance's atomic `ADD`, in one transaction. A replay with the same key and the same
points and reason adds nothing and answers the stored entry; the same key with another
body is refused (`idempotency_key_reused`). A credit adds to the lot of its day; a
deduction is a spend: it settles any debt and takes the oldest *available* lots (pending
points are in later lots, so they cannot be taken), each lot conditioned on holding what it
takes, so two deductions racing for the same points cannot both pass
(docs/loyalty.md#lots-and-debt).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from chalicelib.domain.enrolment import Actor
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.loyalty.lots import plan_spend, spend_refusal, with_credit_lot
from chalicelib.domain.loyalty.merge import open_balance
from chalicelib.domain.loyalty.model import ADJUSTMENT, MANUAL, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.ports import LoyaltySettings, PointsLedger
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.workspace_settings import WorkspaceSettings

MAX_POINTS = 1_000_000  # one adjustment's bound, either way
MAX_REASON = 200
MAX_KEY = 128
ATTEMPTS = 5  # a deduction's condition failed because the balance moved meanwhile: read again


class AdjustmentIn(BaseModel):
    """The body of `POST /customers/{id}/points/adjustments`."""

    model_config = ConfigDict(extra="forbid")
    points: StrictInt = Field(ge=-MAX_POINTS, le=MAX_POINTS)
    reason: str = Field(min_length=1, max_length=MAX_REASON)

    @field_validator("points")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment moves at least one point")
        return value


class PointsRefused(Conflict):
    """A business rule refuses the adjustment (409 with its `reason`)."""

    code = "points_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


def loyalty_on(workspaces: LoyaltySettings, workspace_id: str) -> WorkspaceSettings:
    """The workspace's settings while its loyalty is on; else refused (409 `loyalty_off`)."""
    settings = workspaces.settings(workspace_id)
    if settings is None or not settings.loyalty.enabled:
        raise PointsRefused("loyalty is off in this workspace", "loyalty_off")
    return settings


class PointsAdjustments:
    def __init__(self, ledger: PointsLedger, workspaces: LoyaltySettings, profiles: ProfileReader) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles

    def adjust(
        self,
        workspace_id: str,
        customer_id: str,
        body: AdjustmentIn,
        idempotency_key: str,
        actor: Actor,
        now: datetime,
    ) -> LedgerEntry:
        """The adjustment's entry: written now, or the one a replay of the key wrote."""
        settings = loyalty_on(self.workspaces, workspace_id)
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        entry = LedgerEntry(
            workspace_id=workspace_id,
            customer_id=profile.customer_id,  # a merged-away id adjusts the surviving profile
            key=EntryKey(MANUAL, idempotency_key, ADJUSTMENT),
            points=body.points,
            at=now,
            reason=body.reason,
            actor=actor.by,
        )
        for _ in range(ATTEMPTS):
            stored = self.ledger.entry(workspace_id, entry.customer_id, entry.key)
            if stored is not None:
                return _replayed(stored, body)
            if body.points < 0:
                entry = spend_entry(self.ledger, entry, -body.points, now.date())
            else:
                entry = with_credit_lot(entry)
            if self.ledger.adjust(entry, settings.loyalty.lists_lot_days):
                return entry
        raise Conflict("the balance kept changing; try again with the same Idempotency-Key")


def spend_entry(ledger: PointsLedger, entry: LedgerEntry, points: int, today: date) -> LedgerEntry:
    """`entry` as a spend of `points` from the balance as it stands: the oldest available lots,
    the debt settled first; refused (409) when the available points do not cover it."""
    ids, balance = open_balance(ledger, entry.workspace_id, entry.customer_id)  # a merge: its survivor's
    refusal = spend_refusal(balance.lots, balance.debt, today, points)
    if refusal is not None:
        reason, have = refusal
        message = (
            "the customer owes points (debt)" if reason == "debt" else f"only {have} points are available"
        )
        raise PointsRefused(message, reason)
    plan = plan_spend(balance.lots, balance.debt, today, points)
    return replace(entry, customer_id=ids[-1], points=-points, lots=plan.lots, debt=plan.debt)


def _replayed(stored: LedgerEntry, body: AdjustmentIn) -> LedgerEntry:
    if stored.points != body.points or stored.reason != body.reason:
        raise PointsRefused("this Idempotency-Key was used for another adjustment", "idempotency_key_reused")
    return stored
