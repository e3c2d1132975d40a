"""A workspace's sending settings: quiet hours, daily caps by engagement tier, the spacing
of low-engagement customers and the default zone (today's values are the defaults, `Policy`).

`changes` checks what an operator asks for (`patron workspace sending`) and returns the
settings to store (`SendingChanges`; the workspace store names their attributes); `shown`
is what `patron workspace show` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.model import Policy, policy_for
from chalicelib.domain.timezones import is_zone

TIERS = ("high", "medium")  # capped by day; a "low" customer is spaced (low_every_days) instead


@dataclass(frozen=True)
class SendingChanges:
    """The sending settings an operator changes (None: unchanged)."""

    quiet_start: int | None = None  # local hour; quiet_start and quiet_end are set together
    quiet_end: int | None = None
    daily_caps: dict[str, int] | None = None  # replaces the stored caps whole
    low_every_days: int | None = None
    default_timezone: str | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


def shown(settings: Any) -> dict[str, Any]:
    policy = policy_for(settings)
    return {
        "quiet_hours": f"{policy.quiet_start:02d}-{policy.quiet_end:02d}",
        "daily_caps": {tier: policy.daily_caps[tier] for tier in TIERS},
        "low_every_days": policy.low_every_days,
        "default_timezone": policy.default_timezone,
        "no_marketing_on_open_complaint": policy.hold_on_open_complaint,
        "defaults": _defaults(),
    }


def _defaults() -> dict[str, Any]:
    policy = Policy()
    return {
        "quiet_hours": f"{policy.quiet_start:02d}-{policy.quiet_end:02d}",
        "daily_caps": dict(policy.daily_caps),
        "low_every_days": policy.low_every_days,
        "default_timezone": policy.default_timezone,
        "no_marketing_on_open_complaint": policy.hold_on_open_complaint,
    }


def changes(
    current: Any,
    quiet_hours: str | None = None,
    caps: str | None = None,
    low_every_days: int | None = None,
    default_timezone: str | None = None,
) -> SendingChanges:
    """The settings given, checked (None: unchanged). `quiet_hours` "21-9" (local hours,
    start-end; equal hours: none), `caps` "high=2,medium=1" (merged into the current caps),
    `default_timezone` an IANA zone."""
    quiet_start = quiet_end = None
    merged: dict[str, int] | None = None
    if quiet_hours is not None:
        start, _, end = quiet_hours.partition("-")
        if not (start.strip().isdigit() and end.strip().isdigit()):
            raise BadRequest("--quiet-hours takes START-END local hours, e.g. 21-9")
        quiet_start, quiet_end = int(start), int(end)
        if not (0 <= quiet_start <= 23 and 0 <= quiet_end <= 23):
            raise BadRequest("quiet hours are between 0 and 23")
    if caps is not None:
        merged = dict(current.daily_caps) if current is not None else {}
        for pair in (p.strip() for p in caps.split(",") if p.strip()):
            tier, _, value = pair.partition("=")
            if tier not in TIERS or not value.strip().isdigit() or not 1 <= int(value) <= 50:
                raise BadRequest("--caps takes tier=messages-a-day pairs (1-50) of high, medium")
            merged[tier] = int(value)
    if low_every_days is not None and not 1 <= low_every_days <= 90:
        raise BadRequest("--low-every-days is between 1 and 90")
    if default_timezone is not None and not is_zone(default_timezone):
        raise BadRequest("--default-timezone takes an IANA zone, e.g. America/Los_Angeles")
    return SendingChanges(quiet_start, quiet_end, merged, low_every_days, default_timezone)
