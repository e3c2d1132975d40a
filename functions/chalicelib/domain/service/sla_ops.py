"""SLA operations on the stored tickets: a ticket's SLA state as of a request (re-evaluated
on every read, nothing stored) and the report of the SLAs met per policy and target over the
tickets created in a period (docs/service.md, "SLA operations")."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.loyalty.ports import TierReader
from chalicelib.domain.service.model import Ticket, TicketEvent
from chalicelib.domain.service.ports import TicketStore
from chalicelib.domain.service.sla import (
    SHARE,
    SlaPolicies,
    SlaState,
    TicketLog,
    facts_at,
    sla_report,
    sla_state,
)
from chalicelib.domain.service.sla_ports import TicketsCreated
from chalicelib.domain.service.sla_settings import SlaSettingsService
from chalicelib.domain.service.sla_views import SlaReport, SlaReportRow, sla_view
from chalicelib.domain.service.views import TicketDetail, ticket_detail
from chalicelib.domain.timemath import iso

MAX_DAYS = 92  # a report's longest period
MAX_TICKETS = 2000  # tickets a report reads at most (`truncated` beyond)


def uses_tiers(policies: SlaPolicies) -> bool:
    return any(p.filter.tiers for p in policies.policies)


def ticket_sla(
    ticket: Ticket,
    events: list[TicketEvent],
    policies: SlaPolicies,
    now: datetime,
    tiers: TierReader | None = None,
) -> SlaState:
    """The ticket's state as of `now` (its customer's tier read only when a policy filters
    on tiers)."""
    tier = None
    if tiers is not None and uses_tiers(policies):
        tier = tiers.tier_of(ticket.workspace_id, ticket.customer_id)
    return sla_state(events, policies, now, tier)


def local_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"`{field}` is a date, YYYY-MM-DD", [{"field": field, "error": "invalid"}]) from None


class SlaOperations:
    def __init__(
        self,
        settings: SlaSettingsService,
        store: TicketStore,
        created: TicketsCreated,
        tiers: TierReader | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.created = created
        self.tiers = tiers

    def show(self, workspace_id: str, ticket_id: str, now: datetime) -> TicketDetail:
        """The ticket with its events and its `sla` as of `now`."""
        found = self.store.load(workspace_id, ticket_id)
        if found is None:
            raise NotFound("no such ticket")
        ticket, events = found
        policies, _calendar = self.settings.policies(workspace_id)
        at = max(now, ticket.created_at)  # a clock behind the ticket's creation: as of its creation
        state = ticket_sla(ticket, events, policies, at, self.tiers)
        return ticket_detail(ticket, events).model_copy(update={"sla": sla_view(state, at)})

    def report(self, workspace_id: str, first: date, last: date, now: datetime) -> SlaReport:
        """The targets met and breached, per policy and target, of the tickets created from
        `first` to `last` (local dates in the workspace calendar's zone, both included), as
        decided by `now`."""
        if last < first:
            raise BadRequest("`to` is on or after `from`", [{"field": "to", "error": "before_from"}])
        if (last - first).days + 1 > MAX_DAYS:
            raise BadRequest(
                f"a report covers at most {MAX_DAYS} days", [{"field": "to", "error": "too_long"}]
            )
        policies, calendar = self.settings.policies(workspace_id)
        zone = ZoneInfo(calendar.zone)
        try:
            start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
            end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        except OverflowError:  # year 1 or 9999 at the edge of what a datetime holds
            raise BadRequest(
                "the period is out of range", [{"field": "to", "error": "out_of_range"}]
            ) from None
        ids, truncated = self.created.created_between(workspace_id, start, end, MAX_TICKETS)
        logs: list[TicketLog] = []
        without = 0
        for ticket_id in ids:
            found = self.store.load(workspace_id, ticket_id)
            if found is None:
                continue
            ticket, events = found
            if ticket.created_at > now:
                continue
            tier = None
            if self.tiers is not None and uses_tiers(policies):
                tier = self.tiers.tier_of(workspace_id, ticket.customer_id)
            if policies.choose(facts_at(events, now, tier)) is None:
                without += 1
            logs.append(TicketLog(events, tier))
        totals: dict[tuple[str, str], list[int]] = {}
        for row in sla_report(logs, policies, now, period="month"):
            counted = totals.setdefault((row.policy_id, row.target), [0, 0])
            counted[0] += row.met
            counted[1] += row.breached
        rows = [
            SlaReportRow(
                policy_id=policy_id,
                target=target,
                met=met,
                breached=breached,
                share_met=_share(met, breached),
            )
            for (policy_id, target), (met, breached) in sorted(totals.items())
        ]
        return SlaReport(
            from_date=first.isoformat(),
            to_date=last.isoformat(),
            zone=calendar.zone,
            at=iso(now) or "",
            tickets=len(logs),
            without_policy=without,
            truncated=truncated,
            rows=rows,
        )


def _share(met: int, breached: int) -> Decimal:
    return (Decimal(met) / Decimal(met + breached)).quantize(SHARE, rounding=ROUND_HALF_UP)
