"""The points rules that are data: bonus points per action (`bonuses` in `LoyaltyRules`).

An action is a short lowercase name (`review`, `referral`, ...). Three are automatic and
keyed once by Patron itself (`first_order`, `birthday`, `enrolment`); every other action
is credited through `POST /customers/{id}/points/actions` (docs/loyalty.md#bonuses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

BONUS = "bonus"  # the kind of an action's entry: (action, external id, "bonus")
ACTION = re.compile(r"[a-z][a-z0-9_]{0,31}")
AUTOMATIC = frozenset({"first_order", "birthday", "enrolment"})
MAX_BONUS = 100_000  # one action's points
MAX_ACTIONS = 50


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
