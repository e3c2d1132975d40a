"""Warnings before points expire (docs/loyalty.md#expiry): 30 and 7 days before a lot
expires, on the customer's local day (their profile's zone, else the workspace's default),
through the flows: a `points.expiring` trigger keyed `<lot day>:30` / `<lot day>:7`, so each
warning enrolls the customer once however often the sweep runs. The warning carries what is
left of the lot (after the debt it will settle), as `points_expiring` and the day it
expires, `points_expiry_date`; a lot spent meanwhile warns for what is left, and a lot
spent whole warns of nothing.

Policy `inactivity`: the deadline is the last activity's UTC day + N (`la`), the warning
keyed `inactive:<la day>:30` / `:7` (new activity moves the deadline and its warnings).
The candidates are read from the lot-day buckets where a customer whose last activity was
on day A is listed: A itself (a bonus's or an adjustment's lot, or listed again by a sweep)
and A + return window + 1 (an earning's lot); each is checked against `la` exactly. A
customer found whose `la` is another day is listed again under it (one idempotent put), so
a later activity without a lot of its own (a redemption) is found by the later passes, and
the expiry sweep visits the customer on the deadline itself (not the earning lot's day + N).

The daily sweep runs once per UTC day: at that instant each customer's local day is the
UTC day or the one either side, so it looks at the lots expiring in `ahead - 1 .. ahead + 1`
UTC days and warns a customer only when their local day is the warning's day; consecutive
runs see consecutive local days, so each warning's day comes once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.loyalty.expiry import listing_day, plan_lot_expiry
from chalicelib.domain.loyalty.lots import available_lots
from chalicelib.domain.loyalty.ports import ExpiringLedger, LoyaltySettings
from chalicelib.domain.messaging.flow_definition import TriggerEvent
from chalicelib.domain.messaging.model import RunContext, policy_for
from chalicelib.domain.messaging.service import local_zone
from chalicelib.domain.ports import ProfileReader

TRIGGER = "points.expiring"
AHEAD = (30, 7)
POLICIES = ("lots", "inactivity")


class FlowTrigger(Protocol):
    def trigger(self, event: TriggerEvent) -> list[str]: ...


class ExpiryWarnings:
    def __init__(
        self, ledger: ExpiringLedger, workspaces: LoyaltySettings, profiles: ProfileReader, flows: FlowTrigger
    ) -> None:
        self.ledger = ledger
        self.workspaces = workspaces
        self.profiles = profiles
        self.flows = flows

    def warn(self, workspace_id: str, now: datetime) -> int:
        """The warnings of the customers' local day at `now`; the runs started."""
        settings = self.workspaces.settings(workspace_id)
        if settings is None or not settings.loyalty.enabled or settings.loyalty.expiry not in POLICIES:
            return 0
        if settings.loyalty.expiry == "inactivity":
            return self._inactivity(workspace_id, now, settings)
        days = settings.loyalty.expiry_days
        started = 0
        for ahead in AHEAD:
            if ahead >= days:
                continue  # a lot cannot be warned of before it is earned
            for shift in (-1, 0, 1):
                lot_day = now.date() + timedelta(days=ahead + shift - days)
                for customer_id in self.ledger.customers_with_lot(workspace_id, lot_day):
                    started += self._warn(workspace_id, customer_id, lot_day, days, ahead, now, settings)
        return started

    def _warn(
        self, ws: str, cid: str, lot_day: date, days: int, ahead: int, now: datetime, settings: Any
    ) -> int:
        expires = lot_day + timedelta(days=days)
        profile = self.profiles.load(ws, cid)
        if profile is None or now.astimezone(
            local_zone(profile, policy_for(settings))
        ).date() != expires - timedelta(days=ahead):
            return 0
        balance = self.ledger.balance(ws, cid)
        plan = plan_lot_expiry(balance.lots.get(lot_day, 0), balance.debt)
        if plan is None or plan.points <= 0:
            return 0  # spent (or owed) whole: nothing will expire
        context = RunContext(
            "order", extra={"points_expiring": plan.points, "points_expiry_date": expires.isoformat()}
        )
        event = TriggerEvent(TRIGGER, ws, profile.customer_id, f"{lot_day.isoformat()}:{ahead}", now, context)
        return len(self.flows.trigger(event))

    def _inactivity(self, ws: str, now: datetime, settings: Any) -> int:
        """The inactivity deadlines' warnings of the customers' local day at `now`."""
        rules = settings.loyalty
        days, earning_lag = rules.expiry_days, timedelta(days=rules.return_window_days + 1)
        started = 0
        for ahead in AHEAD:
            if ahead >= days:
                continue
            seen: set[str] = set()
            for shift in (-1, 0, 1):
                active = now.date() + timedelta(days=ahead + shift - days)  # the last activity's day
                for lot_day in (active, active + earning_lag):
                    for cid in self.ledger.customers_with_lot(ws, lot_day):
                        if cid not in seen:
                            seen.add(cid)
                            started += self._warn_inactive(ws, cid, lot_day, ahead, now, settings)
        return started

    def _warn_inactive(
        self, ws: str, cid: str, lot_day: date, ahead: int, now: datetime, settings: Any
    ) -> int:
        days = settings.loyalty.expiry_days
        balance = self.ledger.balance(ws, cid)
        if balance.last_activity is None:
            return 0  # never active: nothing expires by inactivity
        last_day = balance.last_activity.astimezone(UTC).date()
        if last_day != lot_day:  # listed where the next passes and the sweep look for it
            self.ledger.mark_lot_day(ws, cid, listing_day(last_day, now.date(), days))
        deadline = last_day + timedelta(days=days)
        if abs((deadline - timedelta(days=ahead) - now.date()).days) > 1:
            return 0  # not this warning's day anywhere on earth
        profile = self.profiles.load(ws, cid)
        if profile is None or now.astimezone(
            local_zone(profile, policy_for(settings))
        ).date() != deadline - timedelta(days=ahead):
            return 0
        have = sum(available_lots(balance.lots, deadline).values())
        points = have - min(have, max(balance.debt, 0))
        if points <= 0:
            return 0  # nothing available (or all owed): nothing will expire
        context = RunContext(
            "order", extra={"points_expiring": points, "points_expiry_date": deadline.isoformat()}
        )
        key = f"inactive:{last_day.isoformat()}:{ahead}"
        return len(self.flows.trigger(TriggerEvent(TRIGGER, ws, profile.customer_id, key, now, context)))
