"""The scheduled SLA check (every 5 minutes, handlers/jobs.py): each workspace's open, pending
and on-hold tickets, read from their queue partitions (no scan), their SLA computed from the
log; each new near breach or breach becomes an `sla_alert` event on the ticket and a message
on the ServiceAlerts topic, only while the workspace's calendar is open (outside business
hours nothing is published; the alert goes out at the next opening).

Exactly once per (ticket, target, level, due at): the alert's marker is written with the
event in the ticket's transaction before anything is published; a rerun or a concurrent
run finds it and publishes nothing. A marker whose publish failed (counted `unpublished`,
the run goes on) is published by a later run once its claim lapsed. A change that moves
`due_at` (a priority raised) is a new alert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import NotFound
from chalicelib.domain.loyalty.ports import TierReader
from chalicelib.domain.service.model import EventKind, Ticket, TicketEvent, TicketStatus, apply
from chalicelib.domain.service.ports import TicketStore
from chalicelib.domain.service.sla import SlaPolicies, SlaState
from chalicelib.domain.service.sla_ops import ticket_sla
from chalicelib.domain.service.sla_ports import AlertPublisher, Level, SlaAlert, SlaAlertLog
from chalicelib.domain.service.sla_settings import SlaSettingsService
from chalicelib.domain.timemath import iso, parse_iso

CHECKED = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)
BY = "patron:sla"  # the `by` of the check's events
PAGE = 100
ATTEMPTS = 3  # a ticket changed meanwhile: read again
CLAIM = timedelta(minutes=2)  # a run's hold on an alert it is publishing
MIN_TIME_LEFT = 10.0  # seconds: a run stops and the next one (5 minutes on) does the rest


def _round_second(at: datetime) -> datetime:
    """Due instants to the second (a key must not move with a microsecond of arithmetic)."""
    return (at + timedelta(microseconds=500_000)).replace(microsecond=0)


def alerts_of(state: SlaState, workspace_id: str, ticket_id: str) -> list[SlaAlert]:
    """The alerts a ticket's state calls for (`SlaState.alerts`, with their due instants)."""
    found: list[SlaAlert] = []
    if state.policy_id is None:
        return found
    wanted = set(state.alerts())
    for t in state.targets:
        for name, level in ((t.target, "breach"), (t.target, "near_breach")):
            if (name, level) not in wanted or t.due_at is None:
                continue
            if level == "breach" and t.status != "breached":
                continue
            if level == "near_breach" and not t.near_breach:
                continue
            lvl: Level = "breach" if level == "breach" else "near"
            found.append(
                SlaAlert(workspace_id, ticket_id, t.target, lvl, _round_second(t.due_at), state.policy_id)
            )
    return found


def _recorded_keys(events: list[TicketEvent]) -> set[str]:
    keys = set()
    for e in events:
        if e.kind == EventKind.SLA_ALERT:
            due = parse_iso(str(e.data.get("due_at") or ""))
            keys.add(f"{e.data.get('target')}#{e.data.get('level')}#{iso(due)}")
    return keys


class SlaCheck:
    def __init__(
        self,
        settings: SlaSettingsService,
        store: TicketStore,
        alerts: SlaAlertLog,
        publisher: AlertPublisher,
        workspace_ids: Callable[[], list[str]],
        tiers: TierReader | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.alerts = alerts
        self.publisher = publisher
        self.workspace_ids = workspace_ids
        self.tiers = tiers

    def run(self, now: datetime, time_left: Callable[[], float] = lambda: 60.0) -> dict[str, Any]:
        """One pass over every workspace: counts of what it did (no personal data)."""
        result: dict[str, Any] = {
            "workspaces": 0,
            "closed": 0,  # outside the workspace's business hours: nothing published
            "tickets": 0,
            "alerts": 0,  # recorded and published by this run
            "republished": 0,  # recorded by an earlier run whose publish failed
            "already": 0,  # recorded by another run (or an earlier one)
            "unpublished": 0,  # recorded, the topic refused it: a later run publishes it
            "pending": False,  # out of time: the next run does the rest
        }
        for workspace_id in self.workspace_ids():
            if time_left() < MIN_TIME_LEFT:
                result["pending"] = True
                break
            try:
                policies, calendar = self.settings.policies(workspace_id)
            except NotFound:
                continue
            result["workspaces"] += 1
            if not calendar.is_open(now):
                result["closed"] += 1
                continue
            for status in CHECKED:
                cursor: str | None = None
                while True:
                    tickets, cursor = self.store.queue(workspace_id, status, PAGE, cursor)
                    for ticket in tickets:
                        result["tickets"] += 1
                        self._check(workspace_id, ticket.id, policies, now, result)
                    if cursor is None:
                        break
        return result

    def _check(
        self, workspace_id: str, ticket_id: str, policies: SlaPolicies, now: datetime, result: dict[str, Any]
    ) -> None:
        for _ in range(ATTEMPTS):
            found = self.store.load(workspace_id, ticket_id)
            if found is None:
                return
            ticket, events = found
            if ticket.status not in CHECKED or ticket.created_at > now:
                return
            known = _recorded_keys(events)
            if known:
                self._republish(workspace_id, ticket_id, now, result)
            state = ticket_sla(ticket, events, policies, now, self.tiers)
            fresh = [a for a in alerts_of(state, workspace_id, ticket_id) if a.key not in known]
            if self._record(ticket, fresh, now, result):
                return

    def _record(self, ticket: Ticket, fresh: list[SlaAlert], now: datetime, result: dict[str, Any]) -> bool:
        """Record and publish each alert in turn; False when the ticket moved (read again)."""
        for alert in fresh:
            data = {
                "target": alert.target,
                "level": alert.level,
                "policy_id": alert.policy_id,
                "due_at": iso(alert.due_at),
            }
            event = TicketEvent(EventKind.SLA_ALERT, max(now, ticket.updated_at), BY, data)
            after = apply(ticket, event)
            outcome = self.alerts.record(ticket, event, after, alert, now + CLAIM)
            if outcome == "conflict":
                return False
            if outcome == "exists":
                result["already"] += 1
                continue
            ticket = after
            if self._publish(alert, now, result):
                result["alerts"] += 1
        return True

    def _republish(self, workspace_id: str, ticket_id: str, now: datetime, result: dict[str, Any]) -> None:
        for alert in self.alerts.unpublished(workspace_id, ticket_id, now):
            if self.alerts.claim(alert, now, now + CLAIM) and self._publish(alert, now, result):
                result["republished"] += 1

    def _publish(self, alert: SlaAlert, now: datetime, result: dict[str, Any]) -> bool:
        """Publish a recorded alert; a refusal is counted and left to a later run (the
        marker stays unpublished), and the run goes on with the other tickets."""
        try:
            self.publisher.publish(alert)
        except Exception:  # noqa: BLE001 - any failure of the topic: the marker keeps it for later
            result["unpublished"] += 1
            return False
        self.alerts.published(alert, now)
        return True
