"""The SLA answers: a ticket's computed state (`GET /tickets/{id}`'s `sla`) and the report
(`GET /service/reports/sla`), as of the request's instant (docs/service.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from chalicelib.domain.service.sla import SlaState, TargetState
from chalicelib.domain.timemath import iso


class SlaTargetView(BaseModel):
    target: str  # first_reply, next_reply, resolution
    status: str  # met, breached, running, paused (paused: pending, on hold under a pausing policy)
    minutes: int  # the target, in business minutes
    started_at: str
    due_at: str | None  # when it breaches (breached: when it did); None while paused
    stopped_at: str | None  # the reply or resolution that ended it
    breached_at: str | None
    used_seconds: int  # business time counted
    remaining_seconds: int  # business time left (0 once breached or stopped)
    near_breach: bool


class SlaView(BaseModel):
    """The ticket's SLA as of `at`, computed from its log (nothing stored)."""

    at: str
    policy_id: str | None  # None: no policy matches the ticket
    targets: list[SlaTargetView]


def _target_view(t: TargetState) -> SlaTargetView:
    used = int(t.used.total_seconds())
    left = timedelta(minutes=t.minutes) - t.used
    remaining = 0 if t.stopped_at is not None or t.status == "breached" else max(0, int(left.total_seconds()))
    return SlaTargetView(
        target=t.target,
        status=t.status,
        minutes=t.minutes,
        started_at=iso(t.started_at) or "",
        due_at=iso(t.due_at),
        stopped_at=iso(t.stopped_at),
        breached_at=iso(t.breached_at),
        used_seconds=used,
        remaining_seconds=remaining,
        near_breach=t.near_breach,
    )


def sla_view(state: SlaState, at: datetime) -> SlaView:
    return SlaView(
        at=iso(at) or "", policy_id=state.policy_id, targets=[_target_view(t) for t in state.targets]
    )


class SlaReportRow(BaseModel):
    policy_id: str
    target: str
    met: int
    breached: int
    share_met: Decimal  # met / (met + breached), 4 places


class SlaReport(BaseModel):
    """`GET /service/reports/sla`: the tickets created from `from_date` to `to_date` (local
    dates in `zone`, both included), their targets decided by `at`, per policy and target."""

    from_date: str
    to_date: str
    zone: str
    at: str
    tickets: int  # tickets created in the period (read)
    without_policy: int  # of which no policy matches
    truncated: bool  # more tickets than the report reads (the first ones counted)
    rows: list[SlaReportRow]


class SlaReportQuery(BaseModel):
    """`GET /service/reports/sla?from=YYYY-MM-DD&to=YYYY-MM-DD` (dates in the store's zone)."""

    from_: str = Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$", description="First day (local)")
    to: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Last day (local), included")
