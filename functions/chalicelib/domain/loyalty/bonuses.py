"""Bonus points for actions (docs/loyalty.md#bonuses).

A custom action (a review, a referral: any name with a bonus in the workspace's rules)
credits its bonus once per (action, external id): the entry (action, id, "bonus") is
written with `PointsLedger.earn`, so a replay adds nothing and answers the stored entry.
Bonus points are available at once (no pending lot). A capped action's entry moves its
counter (per customer, action and period) in the same transaction, only while it is below
the cap: over it, 409 `cap_reached` and nothing written; a replay never counts twice. The automatic actions
(`first_order`, `birthday`, `enrolment`) are keyed by Patron, never through this call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.enrolment import MembershipView
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.adjust import PointsRefused, loyalty_on
from chalicelib.domain.loyalty.follow import BalanceKeptMoving, write_followed
from chalicelib.domain.loyalty.lots import with_credit_lot
from chalicelib.domain.loyalty.merge import HOPS
from chalicelib.domain.loyalty.model import EARN, EntryKey, LedgerEntry
from chalicelib.domain.loyalty.ports import BonusLedger, LoyaltySettings, OrderPoints
from chalicelib.domain.loyalty.rules import (
    ACTION,
    AUTOMATIC,
    BIRTHDAY,
    BONUS,
    ENROLMENT,
    FIRST_ORDER,
    CapCounter,
    cap_counter,
)
from chalicelib.domain.messaging.flow_definition import next_birthday
from chalicelib.domain.messaging.model import policy_for
from chalicelib.domain.messaging.service import local_zone
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import ProfileReader
from chalicelib.domain.workspace_settings import WorkspaceSettings

MAX_ID = 128


class ActionIn(BaseModel):
    """The body of `POST /customers/{id}/points/actions`."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=32)
    id: str = Field(min_length=1, max_length=MAX_ID)

    @field_validator("action")
    @classmethod
    def _action_name(cls, value: str) -> str:
        if not ACTION.fullmatch(value):
            raise ValueError("an action is a-z, 0-9 and _, starting with a letter")
        return value

    @field_validator("id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or "#" in value:
            raise ValueError("an id is printable, without #")
        return value


class PointsActions:
    def __init__(self, ledger: BonusLedger, workspaces: LoyaltySettings, profiles: ProfileReader) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles

    def award(self, workspace_id: str, customer_id: str, body: ActionIn, now: datetime) -> LedgerEntry:
        """The action's bonus entry: written now, or the one an earlier delivery wrote."""
        settings = loyalty_on(self.workspaces, workspace_id)
        if body.action in AUTOMATIC:
            raise PointsRefused(f"{body.action} is credited by Patron itself", "automatic_action")
        points = settings.loyalty.bonuses.get(body.action)
        if points is None:
            raise PointsRefused(f"no bonus is set for {body.action}", "unknown_action")
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        key = EntryKey(body.action, body.id, BONUS)
        cid = profile.customer_id  # a merged-away id credits the surviving profile
        stored = self.ledger.entry(workspace_id, cid, key)
        if stored is not None:
            return stored
        entry = with_credit_lot(  # as stored: its points in the lot of today
            LedgerEntry(workspace_id=workspace_id, customer_id=cid, key=key, points=points, at=now)
        )
        cap = cap_counter(body.action, settings.loyalty.caps.get(body.action), now)
        written = self._write(entry, cap, settings.loyalty.lists_lot_days)
        if written is not None:
            return written
        stored = self.ledger.entry(workspace_id, cid, key)  # written meanwhile, or over the cap
        if stored is None:
            raise PointsRefused(
                f"{body.action} reached its cap of {cap.max if cap else 0} this period", "cap_reached"
            )
        return stored

    def credit(
        self, workspace_id: str, customer_id: str, action: str, at: datetime, once: str | None = None
    ) -> LedgerEntry | None:
        """An automatic action's bonus, once per customer ever (the entry ("bonus", action,
        "bonus"); `once` instead of the action: `birthday:2026`): the entry written now, or
        None (no bonus set, loyalty off, written before, over its cap: nothing written)."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled:
            return None
        points = settings.loyalty.bonuses.get(action)
        if points is None:
            return None
        key = EntryKey(BONUS, once or action, BONUS)
        if self.ledger.entry(workspace_id, customer_id, key) is not None:
            return None
        entry = with_credit_lot(
            LedgerEntry(workspace_id=workspace_id, customer_id=customer_id, key=key, points=points, at=at)
        )
        cap = cap_counter(action, settings.loyalty.caps.get(action), at)
        return self._write(entry, cap, settings.loyalty.lists_lot_days)

    def _write(self, entry: LedgerEntry, cap: CapCounter | None, list_lots: bool) -> LedgerEntry | None:
        """The entry as written, or None (written before, over its cap); a balance a merge
        closed meanwhile: on the survivor's (domain/loyalty/merge.py). Its lot day is listed
        only when the workspace expires points (`list_lots`)."""

        def write(tried: LedgerEntry) -> bool:
            if cap is None:
                return self.ledger.earn(tried, list_lots)
            return self.ledger.earn_capped(tried, cap, list_lots)

        try:
            return write_followed(self.ledger, entry, write, HOPS, on_survivor=True)
        except BalanceKeptMoving:
            return None


class FirstOrderBonus:
    """The ingest consumer's OrderPoints with the `first_order` bonus: credited once per
    customer, ever, when an order's earning is first written to their ledger."""

    def __init__(self, points: OrderPoints, bonuses: PointsActions) -> None:
        self.points = points
        self.bonuses = bonuses

    def on_order(self, change: IngestChange, now: datetime, customer_id: str | None) -> list[Any]:
        written = self.points.on_order(change, now, customer_id)
        for entry in list(written):
            if isinstance(entry, LedgerEntry) and entry.key.source == "order" and entry.key.kind == EARN:
                bonus = self.bonuses.credit(entry.workspace_id, entry.customer_id, FIRST_ORDER, entry.at)
                if bonus is not None:
                    written.append(bonus)
        return written


class EnrolmentBonus:
    """The `enrolment` bonus: credited once per customer, ever, when they become a member
    (the enrolment service's `on_joined`: an enrolment through the API or the CLI, a join
    link, or a storefront account first numbered)."""

    def __init__(self, bonuses: PointsActions, now: Callable[[], datetime] = now_utc) -> None:
        self.bonuses = bonuses
        self.now = now

    def __call__(self, workspace_id: str, customer_id: str, view: MembershipView) -> None:
        if view.member:
            self.bonuses.credit(workspace_id, customer_id, ENROLMENT, self.now())


class BirthdayBonus:
    """The `birthday` bonus, once a year (the entry ("bonus", "birthday:<year>", "bonus")), on
    the customer's birthday in their zone (their own, else their phone country's, else the
    workspace's default zone). The nightly job hands it each page of its walk: its runs are a
    day apart, so every customer's local day is seen once a day, on that run."""

    def __init__(self, bonuses: PointsActions) -> None:
        self.bonuses = bonuses

    def on_profiles(self, workspace_id: str, profiles: list[CustomerProfile], now: datetime) -> int:
        """The bonuses credited for this page (nothing read when loyalty is off or no bonus is set
        beyond the workspace's settings)."""
        settings = self.bonuses.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or BIRTHDAY not in settings.loyalty.bonuses:
            return 0
        credited = 0
        for profile in profiles:
            today = _local_day(profile, now, settings)
            if today is None or not _is_birthday(profile.birthday, today):
                continue
            once = f"{BIRTHDAY}:{today.year}"
            if self.bonuses.credit(workspace_id, profile.customer_id, BIRTHDAY, now, once) is not None:
                credited += 1
        return credited


def _local_day(profile: CustomerProfile, now: datetime, settings: WorkspaceSettings) -> date | None:
    """The customer's day at `now` in their zone, as messages see it (`local_zone`); None
    when the profile names a zone that does not exist."""
    try:
        zone = local_zone(profile, policy_for(settings))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return now.astimezone(zone).date()


def _is_birthday(birthday: str | None, today: date) -> bool:
    """`MM-DD` (or `YYYY-MM-DD`) falls on `today`; 29 February on the 28th in a common year
    (the flows' `next_birthday`)."""
    try:
        return next_birthday("-".join((birthday or "").split("-")[-2:]), today) == today
    except ValueError:
        return False
