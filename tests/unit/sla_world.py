"""A Paris boutique's service desk in memory (events/service/sla_settings.json: weekdays
09:00-12:30 and 14:00-18:00, Christmas Day closed) for the SLA operations' unit tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.service.model import EventKind, Ticket, TicketEvent, apply, reduce
from chalicelib.domain.service.sla_check import SlaCheck
from chalicelib.domain.service.sla_ops import SlaOperations
from chalicelib.domain.service.sla_settings import SlaSettingsIn, SlaSettingsService
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.fakes_sla import FakePublisher, FakeSlaAlertLog, FakeSlaSettingsStore, FakeTicketsCreated
from tests.fakes_tickets import FakeTicketStore

WS = "ws_paris"
PARIS = ZoneInfo("Europe/Paris")
FIXTURE = Path(__file__).resolve().parents[2] / "events" / "service" / "sla_settings.json"


def paris(text: str) -> datetime:
    """A Paris wall-clock reading ("2026-12-07 14:00") as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def settings_fixture() -> SlaSettingsIn:
    return SlaSettingsIn.model_validate(json.loads(FIXTURE.read_text()))


class FakeWorkspaces:
    def __init__(self, zone: str = "Europe/Paris") -> None:
        self.zone = zone

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        if not workspace_id.startswith("ws_"):
            return None
        return WorkspaceSettings(
            workspace_id=workspace_id, currency="EUR", id_salt="s", default_timezone=self.zone
        )

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        raise NotImplementedError


class World:
    def __init__(self, settings: SlaSettingsIn | None = None) -> None:
        self.tickets = FakeTicketStore()
        self.settings_store = FakeSlaSettingsStore()
        self.settings = SlaSettingsService(self.settings_store, FakeWorkspaces())
        if settings is not None:
            assert self.settings_store.write(WS, settings, 0, "test")
        self.alert_log = FakeSlaAlertLog(self.tickets)
        self.topic = FakePublisher()
        self.check = SlaCheck(self.settings, self.tickets, self.alert_log, self.topic, lambda: [WS])
        self.ops = SlaOperations(self.settings, self.tickets, FakeTicketsCreated(self.tickets))
        self.count = 0

    def open_ticket(self, at: datetime, priority: str = "normal", kind: str = "order_issue") -> str:
        self.count += 1
        ticket_id = f"tk_{at.strftime('%Y%m%d%H%M')}_{self.count}"
        data = {
            "subject": "Parcel",
            "kind": kind,
            "priority": priority,
            "channel": "email",
            "customer_id": "c_1",
        }
        event = TicketEvent(EventKind.CREATED, at, "key:abc", data)
        self.tickets.create(reduce(WS, ticket_id, [event]), event)
        return ticket_id

    def change(self, ticket_id: str, kind: EventKind, at: datetime, by: str = "key:abc", **data: Any) -> None:
        found = self.tickets.load(WS, ticket_id)
        assert found is not None
        ticket: Ticket = found[0]
        event = TicketEvent(kind, at, by, data)
        assert self.tickets.append(ticket, event, apply(ticket, event))

    def alert_events(self, ticket_id: str) -> list[dict[str, Any]]:
        found = self.tickets.load(WS, ticket_id)
        assert found is not None
        return [dict(e.data) for e in found[1] if e.kind == EventKind.SLA_ALERT]

    def published(self) -> list[tuple[str, str, str]]:
        """(target, level, due at) of each message on the topic, in order."""
        return [(m["target"], m["level"], m["due_at"]) for m in self.topic.messages]
