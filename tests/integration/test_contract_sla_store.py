"""The SLA stores' contract (service.sla_settings.SlaSettingsStore, service.sla_ports.
SlaAlertLog and TicketsCreated): one suite on the fakes (tests/fakes_sla.py) and on the
DynamoDB adapters (adapters/sla_store.py) on moto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.sla_store import (
    DynamoSlaAlertLog,
    DynamoSlaSettingsStore,
    DynamoTicketsCreated,
)
from chalicelib.adapters.ticket_store import DynamoTicketStore
from chalicelib.domain.service.model import EventKind, Ticket, TicketEvent, apply, reduce
from chalicelib.domain.service.sla_ports import SlaAlert
from tests.contract import moto_stage
from tests.fakes_sla import FakeSlaAlertLog, FakeSlaSettingsStore, FakeTicketsCreated
from tests.fakes_tickets import FakeTicketStore
from tests.unit.sla_world import settings_fixture

__all__ = ["moto_stage"]
WS = "ws_a"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass
class Stores:
    tickets: Any
    settings: Any
    alerts: Any
    created: Any


@pytest.fixture(params=["fake", "dynamodb"])
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "fake":
        tickets = FakeTicketStore()
        return Stores(tickets, FakeSlaSettingsStore(), FakeSlaAlertLog(tickets), FakeTicketsCreated(tickets))
    crm = request.getfixturevalue("moto_stage").crm
    return Stores(
        DynamoTicketStore(crm), DynamoSlaSettingsStore(crm), DynamoSlaAlertLog(crm), DynamoTicketsCreated(crm)
    )


def open_ticket(stores: Stores, ticket_id: str, at: datetime = T0) -> Ticket:
    data = {"subject": "Parcel", "kind": "order_issue", "priority": "urgent", "customer_id": "c_1"}
    event = TicketEvent(EventKind.CREATED, at, "key:abc", data)
    ticket = reduce(WS, ticket_id, [event])
    stores.tickets.create(ticket, event)
    return ticket


def alert_event(ticket: Ticket, alert: SlaAlert, at: datetime) -> tuple[TicketEvent, Ticket]:
    data = {"target": alert.target, "level": alert.level, "policy_id": alert.policy_id, "due_at": "x"}
    event = TicketEvent(EventKind.SLA_ALERT, at, "patron:sla", data)
    return event, apply(ticket, event)


def test_settings_are_written_once_per_version(stores):
    # Given no settings stored
    assert stores.settings.read(WS) is None
    # When they are written at 0, then again at 0, then at 1
    first = stores.settings.write(WS, settings_fixture(), 0, "key:abc")
    stale = stores.settings.write(WS, settings_fixture(), 0, "key:abc")
    second = stores.settings.write(WS, settings_fixture(), 1, "cli")
    # Then the stale write wrote nothing and they read back at version 2, as written
    assert (first, stale, second) == (True, False, True)
    found = stores.settings.read(WS)
    assert found.version == 2 and found.settings == settings_fixture()
    assert stores.settings.write(WS, settings_fixture(), 5, "cli") is False


def test_an_alert_is_recorded_once_with_its_event(stores):
    # Given an open ticket and a breach alert
    ticket = open_ticket(stores, "tk_1")
    alert = SlaAlert(WS, "tk_1", "first_reply", "breach", T0 + timedelta(hours=1), "urgent")
    event, after = alert_event(ticket, alert, T0 + timedelta(hours=2))
    # When it is recorded, then recorded again from a fresh read
    assert stores.alerts.record(ticket, event, after, alert, T0 + timedelta(hours=2, minutes=2)) == "recorded"
    fresh, _ = stores.tickets.load(WS, "tk_1")
    again_event, again_after = alert_event(fresh, alert, T0 + timedelta(hours=2, minutes=5))
    second = stores.alerts.record(fresh, again_event, again_after, alert, T0 + timedelta(hours=3))
    # Then the second finds the marker; the ticket holds one sla_alert event, its head at seq 2
    assert second == "exists"
    head, events = stores.tickets.load(WS, "tk_1")
    assert head.seq == 2 and [e.kind for e in events] == [EventKind.CREATED, EventKind.SLA_ALERT]


def test_an_alert_over_a_moved_head_is_a_conflict_and_writes_nothing(stores):
    # Given a ticket whose head moved after it was read
    ticket = open_ticket(stores, "tk_2")
    note = TicketEvent(EventKind.INTERNAL_NOTE, T0 + timedelta(minutes=1), "key:abc", {"body": "hm"})
    assert stores.tickets.append(ticket, note, apply(ticket, note))
    alert = SlaAlert(WS, "tk_2", "first_reply", "near", T0 + timedelta(hours=1), "urgent")
    event, after = alert_event(ticket, alert, T0 + timedelta(minutes=50))
    # When the alert is recorded over the old head
    outcome = stores.alerts.record(ticket, event, after, alert, T0 + timedelta(minutes=52))
    # Then a conflict: no marker, no event
    assert outcome == "conflict"
    assert stores.alerts.unpublished(WS, "tk_2", T0 + timedelta(days=1)) == []
    assert [e.kind for e in stores.tickets.load(WS, "tk_2")[1]] == [
        EventKind.CREATED,
        EventKind.INTERNAL_NOTE,
    ]


def test_an_unpublished_alert_is_claimed_once_after_its_claim_lapses(stores):
    # Given an alert recorded, claimed until 10:02, never published
    ticket = open_ticket(stores, "tk_3")
    alert = SlaAlert(WS, "tk_3", "resolution", "breach", T0 + timedelta(minutes=30), "urgent")
    event, after = alert_event(ticket, alert, T0 + timedelta(hours=1))
    stores.alerts.record(ticket, event, after, alert, T0 + timedelta(hours=1, minutes=2))
    # Then before 10:02 it is not listed; after, it is, and one claim wins
    assert stores.alerts.unpublished(WS, "tk_3", T0 + timedelta(hours=1, minutes=1)) == []
    later = T0 + timedelta(hours=1, minutes=5)
    assert stores.alerts.unpublished(WS, "tk_3", later) == [alert]
    assert stores.alerts.claim(alert, later, later + timedelta(minutes=2)) is True
    assert stores.alerts.claim(alert, later, later + timedelta(minutes=2)) is False
    # And once published it is never listed again
    stores.alerts.published(alert, later)
    assert stores.alerts.unpublished(WS, "tk_3", later + timedelta(hours=1)) == []
    assert stores.alerts.claim(alert, later + timedelta(hours=1), later + timedelta(hours=2)) is False


def test_tickets_created_in_a_period_in_any_status_oldest_first(stores):
    # Given tickets created at 09:00, 10:00 (then solved), 11:00 and 12:00
    for hour, tid in ((9, "tk_a"), (10, "tk_b"), (11, "tk_c"), (12, "tk_d")):
        open_ticket(stores, tid, T0.replace(hour=hour))
    head, _ = stores.tickets.load(WS, "tk_b")
    solved = TicketEvent(
        EventKind.STATUS_CHANGED, T0.replace(hour=13), "key:abc", {"from": "open", "to": "solved"}
    )
    stores.tickets.append(head, solved, apply(head, solved))
    # When the tickets created from 10:00 (included) to 12:00 (excluded) are asked for
    found = stores.created.created_between(WS, T0.replace(hour=10), T0.replace(hour=12), 10)
    # Then the solved one and the open one, and with a limit of 1, the first and `truncated`
    assert found == (["tk_b", "tk_c"], False)
    assert stores.created.created_between(WS, T0, T0.replace(hour=13), 1) == (["tk_a"], True)
