"""In-memory SLA stores (chalicelib.domain.service.sla_ports, sla_settings): items kept as
the adapter maps them (adapters/sla_store.py), beside a FakeTicketStore's partitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.sla_store import (
    ALERTS,
    SETTINGS_SK,
    alert_of,
    marker_item,
    settings_item,
    settings_of,
    settings_pk,
)
from chalicelib.adapters.ticket_store import HEAD, event_item, head_item, queue_pk, ticket_pk
from chalicelib.domain.service.model import Ticket, TicketEvent, TicketStatus
from chalicelib.domain.service.sla_ports import Recorded, SlaAlert
from chalicelib.domain.service.sla_settings import SlaSettingsIn, StoredSettings
from chalicelib.domain.timemath import iso
from tests.fakes_tickets import FakeTicketStore


class FakeSlaSettingsStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def read(self, workspace_id: str) -> StoredSettings | None:
        item = self.items.get(settings_pk(workspace_id))
        return None if item is None else settings_of(item)

    def write(self, workspace_id: str, settings: SlaSettingsIn, expected: int, by: str) -> bool:
        found = self.items.get(settings_pk(workspace_id))
        if (found is None and expected != 0) or (found is not None and int(found["v"]) != expected):
            return False
        item = settings_item(workspace_id, settings, expected + 1, by)
        assert item["sk"] == SETTINGS_SK
        self.items[item["pk"]] = item
        return True


class FakeSlaAlertLog:
    """Markers in the FakeTicketStore's ticket partitions, written with the event and head."""

    def __init__(self, tickets: FakeTicketStore) -> None:
        self.tickets = tickets

    def record(
        self, before: Ticket, event: TicketEvent, after: Ticket, alert: SlaAlert, claim_until: datetime
    ) -> Recorded:
        partition = self.tickets.items[ticket_pk(after.workspace_id, after.id)]
        if ALERTS + alert.key in partition:
            return "exists"
        head = partition.get(HEAD)
        if head is None or int(head["seq"]) != before.seq:
            return "conflict"
        for item in (
            marker_item(alert, after.seq, claim_until),
            event_item(after.workspace_id, after.id, after.seq, event),
            head_item(after),
        ):
            partition[item["sk"]] = item
        return "recorded"

    def _markers(self, alert: SlaAlert) -> dict[str, Any]:
        return self.tickets.items[ticket_pk(alert.workspace_id, alert.ticket_id)][ALERTS + alert.key]

    def unpublished(self, workspace_id: str, ticket_id: str, now: datetime) -> list[SlaAlert]:
        partition = self.tickets.items.get(ticket_pk(workspace_id, ticket_id)) or {}
        return [
            alert_of(workspace_id, ticket_id, partition[sk])
            for sk in sorted(partition)
            if sk.startswith(ALERTS) and "pub" not in partition[sk] and partition[sk]["cl"] < iso(now)
        ]

    def claim(self, alert: SlaAlert, now: datetime, until: datetime) -> bool:
        marker = self._markers(alert)
        if "pub" in marker or not marker["cl"] < iso(now):
            return False
        marker["cl"] = iso(until)
        return True

    def published(self, alert: SlaAlert, at: datetime) -> None:
        self._markers(alert)["pub"] = iso(at)


class FakeTicketsCreated:
    def __init__(self, tickets: FakeTicketStore) -> None:
        self.tickets = tickets

    def created_between(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[list[str], bool]:
        low, high = iso(start) or "", iso(end) or ""
        found = sorted(
            (sk, item["tid"])
            for status in TicketStatus
            for sk, item in (self.tickets.items.get(queue_pk(workspace_id, status)) or {}).items()
            if low <= sk <= high
        )
        return [tid for _sk, tid in found[:limit]], len(found) > limit


class FakePublisher:
    """The ServiceAlerts topic: what was published, in order (a failure on demand)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.fail = False

    def publish(self, alert: SlaAlert) -> None:
        if self.fail:
            raise RuntimeError("the topic refused it")
        self.messages.append(alert.message())
