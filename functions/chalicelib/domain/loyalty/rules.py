"""The points rules that are data: bonus points per action (`bonuses` in `LoyaltyRules`).

An action is a short lowercase name (`review`, `referral`, ...). Three are automatic and
keyed once by Patron itself (`first_order`, `birthday`, `enrolment`); every other action
is credited through `POST /customers/{id}/points/actions` (docs/loyalty.md#bonuses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain.order_snapshot import OrderSnapshot
from chalicelib.domain.workspace_settings import ActionCap

BONUS = "bonus"  # the kind of an action's entry: (action, external id, "bonus")
ACTION = re.compile(r"[a-z][a-z0-9_]{0,31}")
FIRST_ORDER, BIRTHDAY, ENROLMENT = "first_order", "birthday", "enrolment"
AUTOMATIC = frozenset({FIRST_ORDER, BIRTHDAY, ENROLMENT})
MAX_BONUS = 100_000  # one action's points
MAX_ACTIONS = 50
PERIODS = ("day", "month", "year", "lifetime")
MAX_CAP = 100_000


EARN_ON = ("total", "subtotal", "subtotal_shipping", "subtotal_tax")


def earning_base(snapshot: OrderSnapshot, earn_on: str) -> Decimal:
    """What an order earns on, in its currency: its total as paid, or its subtotal after
    discounts (as reported, else the total less the shipping and tax reported), with its
    shipping or its tax if asked; never below zero nor above the total."""
    if earn_on not in EARN_ON[1:]:
        return snapshot.total
    shipping, tax = snapshot.shipping or Decimal(0), snapshot.tax or Decimal(0)
    subtotal = snapshot.subtotal if snapshot.subtotal is not None else snapshot.total - shipping - tax
    base = (
        subtotal
        + (shipping if earn_on == "subtotal_shipping" else 0)
        + (tax if earn_on == "subtotal_tax" else 0)
    )
    return min(max(base, Decimal(0)), snapshot.total)


class RulesError(ValueError):
    """A rule that cannot be stored (its message names it)."""


def check_bonuses(bonuses: Mapping[str, int]) -> dict[str, int]:
    """The bonuses, valid: known-shaped action names, 1 to MAX_BONUS whole points each."""
    if len(bonuses) > MAX_ACTIONS:
        raise RulesError(f"at most {MAX_ACTIONS} actions have a bonus")
    checked: dict[str, int] = {}
    for action, points in bonuses.items():
        if not ACTION.fullmatch(action):
            raise RulesError(f"action {action!r} is not 1 to 32 of a-z, 0-9 and _, starting with a letter")
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_BONUS:
            raise RulesError(f"the bonus of {action} is a whole number from 1 to {MAX_BONUS}")
        checked[action] = points
    return checked


def parse_bonuses(values: Iterable[str], current: Mapping[str, int]) -> dict[str, int]:
    """`ACTION=POINTS` options over the current bonuses (`ACTION=0` removes one)."""
    bonuses = dict(current)
    for value in values:
        action, sep, points = value.partition("=")
        if not sep or not points.strip().lstrip("-").isdigit():
            raise RulesError(f"{value!r} is not ACTION=POINTS")
        if int(points) == 0:
            bonuses.pop(action.strip(), None)
        else:
            bonuses[action.strip()] = int(points)
    return check_bonuses(bonuses)


@dataclass(frozen=True)
class CapCounter:
    """The counter a capped bonus moves in its entry's transaction: one per customer, action
    and period (`period_key`), at most `max`."""

    action: str
    period_key: str
    max: int


def period_key(period: str, at: datetime) -> str:
    """The period `at` falls in, on the UTC calendar: `2026-12-06`, `2026-12`, `2026`, `all`."""
    day = at.astimezone(UTC)
    return {"day": day.strftime("%Y-%m-%d"), "month": day.strftime("%Y-%m"), "year": day.strftime("%Y")}.get(
        period, "all"
    )


def cap_counter(action: str, cap: ActionCap | None, at: datetime) -> CapCounter | None:
    return None if cap is None else CapCounter(action, period_key(cap.period, at), cap.max)


def check_caps(caps: Mapping[str, ActionCap]) -> dict[str, ActionCap]:
    """The caps, valid: known-shaped action names, 1 to MAX_CAP per period, a known period."""
    if len(caps) > MAX_ACTIONS:
        raise RulesError(f"at most {MAX_ACTIONS} actions have a cap")
    for action, cap in caps.items():
        if not ACTION.fullmatch(action):
            raise RulesError(f"action {action!r} is not 1 to 32 of a-z, 0-9 and _, starting with a letter")
        if cap.period not in PERIODS:
            raise RulesError(f"the cap's period of {action} is one of {', '.join(PERIODS)}")
        if isinstance(cap.max, bool) or not isinstance(cap.max, int) or not 1 <= cap.max <= MAX_CAP:
            raise RulesError(f"the cap of {action} is a whole number from 1 to {MAX_CAP}")
    return dict(caps)


def parse_caps(values: Iterable[str], current: Mapping[str, ActionCap]) -> dict[str, ActionCap]:
    """`ACTION=MAX/PERIOD` options over the current caps (`ACTION=0` removes one)."""
    caps = dict(current)
    for value in values:
        action, sep, rest = value.partition("=")
        action = action.strip()
        if rest.strip() == "0":
            caps.pop(action, None)
            continue
        most, slash, period = rest.partition("/")
        if not sep or not slash or not most.strip().isdigit():
            raise RulesError(f"{value!r} is not ACTION=MAX/PERIOD (day, month, year, lifetime)")
        caps[action] = ActionCap(int(most), period.strip())
    return check_caps(caps)
