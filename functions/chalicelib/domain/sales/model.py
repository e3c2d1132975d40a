"""An opportunity's value types: the workspace's stages, its append-only event log
(`OpportunityEvent`: `kind`, `at`, `by`, `data`) and the state the log reduces to
(`reduce`), as tickets do (domain/service/model.py). The log is the truth; the head is
its reduction, written with each event.

Event kinds and their `data`:
- `created`: `customer_id`, `title`, `owner`, `stage`, `outcome`, `value`, `currency`,
  `expected_close`, `source`, `ticket_id`, `notes`
- `stage_changed`: `from`, `to`, `outcome` (`open`, `won` or `lost`: the stage's flags
  when the move was made, so the log needs no settings to reduce)
- `owner_changed`, `value_changed` (`from`, `to`, `currency`), `close_date_changed`: `from`, `to`
- `noted`: `body`
- `order_linked`: `order_id`, `placed_at`, `actual_value` (workspace currency),
  `forecast_value` (the value in the workspace currency), `difference` (actual - forecast)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import Conflict


class OpportunityEventKind(StrEnum):
    CREATED = "created"
    STAGE_CHANGED = "stage_changed"
    OWNER_CHANGED = "owner_changed"
    VALUE_CHANGED = "value_changed"
    CLOSE_DATE_CHANGED = "close_date_changed"
    NOTED = "noted"
    ORDER_LINKED = "order_linked"


class Outcome(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class OpportunityEvent:
    """One change to an opportunity: what, when (timezone-aware UTC), who (`key:<hash
    prefix>`, `cli`, `rule:<id>`), and its data (module docstring)."""

    kind: OpportunityEventKind
    at: datetime
    by: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("an opportunity event's time is timezone-aware")


@dataclass(frozen=True)
class Opportunity:
    """An opportunity's current state: what its events reduce to."""

    workspace_id: str
    id: str
    customer_id: str
    title: str
    owner: str | None
    stage: str
    outcome: Outcome
    value: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime  # its last event's time: the stale rule reads it
    source: str = "manual"  # manual | ticket | rule:<id>
    expected_close: date | None = None
    ticket_id: str | None = None
    closed_at: datetime | None = None  # when it was won or lost (None while open)
    order_id: str | None = None  # a won one's first order
    actual_value: Decimal | None = None
    difference: Decimal | None = None
    seq: int = 0  # the number of events reduced

    def is_stale(self, stale_days: int, now: datetime) -> bool:
        """Open, and no event for `stale_days` days (0: never stale)."""
        return (
            self.outcome == Outcome.OPEN
            and stale_days > 0
            and now - self.updated_at >= timedelta(days=stale_days)
        )


class OpportunityRefused(Conflict):
    """A business rule refuses the change (409 with its `reason`)."""

    code = "conflict"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _created(workspace_id: str, opportunity_id: str, event: OpportunityEvent) -> Opportunity:
    d = event.data
    outcome = Outcome(d.get("outcome") or Outcome.OPEN)
    return Opportunity(
        workspace_id=workspace_id,
        id=opportunity_id,
        customer_id=str(d["customer_id"]),
        title=str(d.get("title") or ""),
        owner=d.get("owner") or None,
        stage=str(d["stage"]),
        outcome=outcome,
        value=Decimal(str(d.get("value") or "0")),
        currency=str(d["currency"]),
        created_at=event.at,
        updated_at=event.at,
        source=str(d.get("source") or "manual"),
        expected_close=_day(d.get("expected_close")),
        ticket_id=d.get("ticket_id") or None,
        closed_at=None if outcome == Outcome.OPEN else event.at,
        seq=1,
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def apply(opportunity: Opportunity, event: OpportunityEvent) -> Opportunity:
    """The opportunity after one more event (`check` refuses what is not allowed first)."""
    d = event.data
    moved = replace(opportunity, updated_at=max(opportunity.updated_at, event.at), seq=opportunity.seq + 1)
    kind = event.kind
    if kind == OpportunityEventKind.STAGE_CHANGED:
        outcome = Outcome(d.get("outcome") or Outcome.OPEN)
        closed = None if outcome == Outcome.OPEN else (opportunity.closed_at or event.at)
        if outcome != opportunity.outcome and outcome != Outcome.OPEN:
            closed = event.at
        return replace(moved, stage=str(d["to"]), outcome=outcome, closed_at=closed)
    if kind == OpportunityEventKind.OWNER_CHANGED:
        return replace(moved, owner=d.get("to") or None)
    if kind == OpportunityEventKind.VALUE_CHANGED:
        return replace(moved, value=Decimal(str(d["to"])), currency=str(d.get("currency") or moved.currency))
    if kind == OpportunityEventKind.CLOSE_DATE_CHANGED:
        return replace(moved, expected_close=_day(d.get("to")))
    if kind == OpportunityEventKind.ORDER_LINKED:
        return replace(
            moved,
            order_id=str(d["order_id"]),
            actual_value=_decimal(d.get("actual_value")),
            difference=_decimal(d.get("difference")),
        )
    return moved  # a note changes no state but the time and the count


def reduce(workspace_id: str, opportunity_id: str, events: Iterable[OpportunityEvent]) -> Opportunity:
    """The opportunity its log describes; the first event is `created`."""
    found: Opportunity | None = None
    for event in events:
        if found is None:
            if event.kind != OpportunityEventKind.CREATED:
                raise ValueError("an opportunity's log begins with `created`")
            found = _created(workspace_id, opportunity_id, event)
        else:
            found = apply(found, event)
    if found is None:
        raise ValueError("an opportunity has at least its `created` event")
    return found


def check(opportunity: Opportunity, event: OpportunityEvent) -> None:
    """Refuse an event the opportunity's state does not allow (OpportunityRefused)."""
    d = event.data
    kind = event.kind
    if kind == OpportunityEventKind.CREATED:
        raise OpportunityRefused("the opportunity exists already", "already_created")
    if kind == OpportunityEventKind.ORDER_LINKED:
        if opportunity.outcome != Outcome.WON:
            raise OpportunityRefused("only a won opportunity links to an order", "not_won")
        if opportunity.order_id is not None:
            raise OpportunityRefused("the opportunity has its order already", "no_change")
        return
    if kind == OpportunityEventKind.STAGE_CHANGED and d["to"] == opportunity.stage:
        raise OpportunityRefused(f"the stage is {opportunity.stage} already", "no_change")
    if kind == OpportunityEventKind.OWNER_CHANGED and (d.get("to") or None) == opportunity.owner:
        raise OpportunityRefused("the opportunity has that owner already", "no_change")
    if opportunity.outcome != Outcome.OPEN and kind in (
        OpportunityEventKind.VALUE_CHANGED,
        OpportunityEventKind.CLOSE_DATE_CHANGED,
    ):
        raise OpportunityRefused(f"the opportunity is {opportunity.outcome}", "closed")
