"""Engagement: what a customer does with the messages they get, turned into a tier.

SES reports each message's delivery, opens and clicks (configuration set -> SNS -> SQS ->
`ses_events`). The first delivery, open and click of each message (the claim says which
is first) update the customer's engagement item, `W#<ws>#ENG#<cid>` / `E`. It is an item
of its own, so an open does not rewrite the profile or wake the profile stream. It holds:

- `nd`, `no`, `nc`: deliveries, opened messages and clicked messages, ever;
- `ld`, `lo`, `lc`: the last delivery, open and click; `po`: the open before `lo`, so
  "two opens within N days" is one comparison;
- `ds`: deliveries since the last open or click;
- `lk`: the last click: message key, scope, A/B variant and time (for attribution).

Every change is one atomic update (ADD, or SET conditioned on the time being newer);
nothing is read first.

Tiers (thresholds per workspace, defaults in `Rules`):

- **high**: clicked within `recent_days`, or `high_opens` opens within `recent_days`;
- **low**: `low_deliveries` or more deliveries since the last open or click, and no
  open or click within `low_quiet_days`;
- **medium**: everyone else, including new customers.

The score (0-100) ranks customers within a tier; the caps use the tier only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messaging.model import EngagementState, LastClick
from chalicelib.domain.messaging.ports import EngagementStore, WorkspaceReader
from chalicelib.domain.timemath import parse_iso

TIERS = ("high", "medium", "low")


@dataclass(frozen=True)
class Rules:
    """A workspace's tier thresholds (defaults shown)."""

    recent_days: int = 30  # a click, or `high_opens` opens, within this many days: high
    high_opens: int = 2  # 1 or 2 (the item keeps the last two open times)
    low_deliveries: int = 3  # this many deliveries since the last open or click ...
    low_quiet_days: int = 90  # ... and no open or click within this many days: low

    @classmethod
    def of(cls, values: dict[str, Any] | None) -> Rules:
        """From a workspace's stored thresholds (unknown names ignored, missing ones default)."""
        known = {k: int(v) for k, v in (values or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def check(self) -> None:
        if self.high_opens not in (1, 2):
            raise BadRequest("high_opens is 1 or 2 (the last two open times are kept)")
        if min(self.recent_days, self.low_deliveries, self.low_quiet_days) < 1:
            raise BadRequest("engagement thresholds are positive whole numbers")

    def as_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.__dataclass_fields__}


class EngagementView(BaseModel):
    tier: str
    score: int
    deliveries: int = 0
    opens: int = 0
    clicks: int = 0
    deliveries_since_engaged: int = 0
    last_delivery_at: str | None = None
    last_open_at: str | None = None
    last_click_at: str | None = None
    last_click: LastClick | None = None


def _at(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _within(when: datetime | None, now: datetime, days: int) -> bool:
    return when is not None and now - when <= timedelta(days=days)


def tier_of(state: EngagementState | None, rules: Rules, now: datetime) -> str:
    """high, medium or low from a customer's engagement (None: never messaged)."""
    if state is None:
        return "medium"
    last_open, last_click = _at(state.last_open), _at(state.last_click_at)
    nth_open = last_open if rules.high_opens <= 1 else _at(state.prior_open)  # two kept
    if _within(last_click, now, rules.recent_days) or _within(nth_open, now, rules.recent_days):
        return "high"
    active = max((t for t in (last_open, last_click) if t is not None), default=None)
    if state.since_engaged >= rules.low_deliveries and not _within(active, now, rules.low_quiet_days):
        return "low"
    return "medium"


def score_of(state: EngagementState | None, rules: Rules, now: datetime) -> int:
    """0-100: recent clicks weigh most, then recent opens; unanswered deliveries cost."""
    if state is None:
        return 50

    def recency(when: datetime | None, days: int) -> float:
        if when is None:
            return 0.0
        age = (now - when).total_seconds() / 86400
        return max(0.0, 1 - age / days)

    window = max(rules.low_quiet_days, rules.recent_days)
    score = (
        30
        + 45 * recency(_at(state.last_click_at), window)
        + 25 * recency(_at(state.last_open), window)
        + 10 * recency(_at(state.prior_open), window)
        - 5 * min(state.since_engaged, 6)
    )
    return int(max(0, min(100, round(score))))


def view_of(state: EngagementState | None, rules: Rules, now: datetime) -> EngagementView:
    seen = state or EngagementState()
    return EngagementView(
        tier=tier_of(seen, rules, now),
        score=score_of(seen, rules, now),
        deliveries=seen.deliveries,
        opens=seen.opens,
        clicks=seen.clicks,
        deliveries_since_engaged=seen.since_engaged,
        last_delivery_at=seen.last_delivery,
        last_open_at=seen.last_open,
        last_click_at=seen.last_click_at,
        last_click=seen.last_click,
    )


class EngagementService:
    """The tier port `MessagingService` asks before a marketing send, and the read side."""

    def __init__(self, store: EngagementStore, workspaces: WorkspaceReader) -> None:
        self.store = store
        self.workspaces = workspaces

    def rules(self, workspace_id: str) -> Rules:
        settings = self.workspaces.settings(workspace_id)
        return Rules.of(getattr(settings, "engagement_rules", None) if settings else None)

    def tier(self, workspace_id: str, customer_id: str, now: datetime) -> str:
        return tier_of(self.store.get(workspace_id, customer_id), self.rules(workspace_id), now)

    def tiers(self, workspace_id: str, customer_ids: list[str], now: datetime) -> dict[str, str]:
        """Tiers of many customers in one batch read (for bulk campaign sends)."""
        rules = self.rules(workspace_id)
        items = self.store.get_many(workspace_id, customer_ids)
        return {cid: tier_of(items.get(cid), rules, now) for cid in customer_ids}

    def view(self, workspace_id: str, customer_id: str, now: datetime) -> EngagementView:
        return view_of(self.store.get(workspace_id, customer_id), self.rules(workspace_id), now)

    def last_click(self, workspace_id: str, customer_id: str) -> LastClick | None:
        state = self.store.get(workspace_id, customer_id)
        return None if state is None else state.last_click
