"""No marketing to a customer with an open complaint (docs/service.md): a flow's send is
dropped and counted as `open_complaint` (the complaint may be under an id merged into the
customer), transactional messages still go, the workspace may switch it off; and a flow's
step may branch on the ticket facts itself."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalicelib.adapters.profile_items import profile_of
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import OPEN_COMPLAINT, Channel, Outgoing, Purpose, policy_for
from chalicelib.domain.messaging.service import MessagingService
from chalicelib.domain.segment_service import SegmentService
from chalicelib.domain.service.facts import TicketFact, TicketFacts
from tests.fakes_tickets import FakeTicketFacts
from tests.unit.fakes import FakeWorkspaces
from tests.unit.test_flows import NOON, FakeCoupons, FakeFlowStore, FakeProfiles, ana, flow, start
from tests.unit.test_messaging import FakeChannels, FakeLedger, FakeLimits, FakeTemplates


class CountingStats:
    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def add(self, workspace_id: str, scope: str, counts: dict[str, int | Decimal]) -> None:
        self.counts.setdefault(scope, Counter()).update({k: int(v) for k, v in counts.items()})

    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal]:
        return dict(self.counts.get(scope, {}))


class Workspaces(FakeWorkspaces):
    hold = True

    def settings(self, workspace_id: str) -> Any:
        found = super().settings(workspace_id)
        return dataclasses.replace(found, no_marketing_on_open_complaint=self.hold) if found else None


def complaint(customer: str, open_: bool = True, seq: int = 1) -> TicketFact:
    return TicketFact("ws_1", customer, f"tk_{customer}", seq, open_, True, NOON - timedelta(days=2))


def world(**profile: Any) -> tuple[FlowService, FakeChannels, FakeTicketFacts, CountingStats, Workspaces]:
    facts_store, stats, channels = FakeTicketFacts(), CountingStats(), FakeChannels()
    facts = TicketFacts(facts_store)
    workspaces = Workspaces("ws_1")
    messaging = MessagingService(
        FakeLedger(), FakeLimits(), channels, FakeTemplates(), open_complaints=facts.with_open_complaints
    )
    profiles = FakeProfiles(ana(**profile))
    service = FlowService(
        FakeFlowStore(),
        messaging,
        profiles,
        SegmentService(None, profiles, workspaces, None, tickets=facts),
        workspaces,
        FakeTemplates(),
        FakeCoupons(),
        clock=lambda: NOON,
        stats=stats,
    )
    return service, channels, facts_store, stats, workspaces


def test_a_flow_send_to_a_customer_with_an_open_complaint_is_dropped_and_counted():
    # Given a flow, and Ana with an open complaint under an id since merged into hers
    service, channels, facts, stats, _ = world(mrg=["c_old"])
    facts.put(complaint("c_old"))
    service.apply("ws_1", flow())
    start(service)
    # When its send step falls due
    result = service.tick(NOON + timedelta(hours=1, minutes=5))
    # Then nothing is sent: dropped, and counted as open_complaint in the flow's stats
    assert channels.sent == []
    assert result["messages"] == {"dropped": 1}
    assert stats.counts["flow#nudge"] == Counter({"dropped": 1, "open_complaint": 1})


def test_once_the_complaint_is_solved_the_flow_sends():
    # Given Ana's complaint, solved (its later fact replaces the open one)
    service, channels, facts, stats, _ = world()
    facts.put(complaint("c_000a"))
    facts.put(complaint("c_000a", open_=False, seq=2))
    service.apply("ws_1", flow())
    start(service)
    # When the step falls due
    service.tick(NOON + timedelta(hours=1, minutes=5))
    # Then the message goes
    assert [m["to"] for m in channels.sent] == ["ana@example.com"]
    assert "open_complaint" not in stats.counts["flow#nudge"]


def test_the_workspace_may_switch_the_guardrail_off():
    # Given a workspace that turned the guardrail off, and Ana with an open complaint
    service, channels, facts, _, workspaces = world()
    workspaces.hold = False
    facts.put(complaint("c_000a"))
    service.apply("ws_1", flow())
    start(service)
    # When the step falls due, Then the message goes
    service.tick(NOON + timedelta(hours=1, minutes=5))
    assert len(channels.sent) == 1


def test_a_transactional_message_is_not_held():
    # Given Ana with an open complaint
    facts_store = FakeTicketFacts()
    facts_store.put(complaint("c_000a"))
    channels = FakeChannels()
    messaging = MessagingService(
        FakeLedger(),
        FakeLimits(),
        channels,
        FakeTemplates(),
        open_complaints=TicketFacts(facts_store).with_open_complaints,
    )
    profile = profile_of(ana())
    policy = policy_for(None)
    # When a transactional and a marketing email are sent to her (outside quiet hours)
    txn = Outgoing("ws_1", "c_000a", "txn:o1:shipped", Channel.EMAIL, Purpose.TRANSACTIONAL, "tpl_1")
    ad = Outgoing("ws_1", "c_000a", "camp:spring", Channel.EMAIL, Purpose.MARKETING, "tpl_1")
    sent = messaging.send(txn, profile, policy, NOON)
    held = messaging.send(ad, profile, policy, NOON)
    bulk = messaging.send_bulk([ad], {"c_000a": profile}, policy, NOON)
    # Then the transactional one goes and the marketing one is dropped, one by one and in bulk
    assert sent.status == "sent"
    assert (held.status, held.reason) == ("dropped", OPEN_COMPLAINT)
    assert [(d.status, d.reason) for d in bulk] == [("dropped", OPEN_COMPLAINT)]
    assert len(channels.sent) == 1


def test_a_flow_step_may_branch_on_the_ticket_facts():
    # Given the guardrail off, and a step sent only to customers who answered CSAT 4 or more
    service, channels, facts, _, workspaces = world()
    workspaces.hold = False
    service.apply(
        "ws_1",
        flow(steps=[{"send": {"template": "tpl_1", "when": "last_csat >= 4 AND open_tickets = 0"}}]),
    )
    answered = NOON - timedelta(days=1)
    facts.put(TicketFact("ws_1", "c_000a", "tk_1", 3, False, False, NOON - timedelta(days=3), 2, answered))
    start(service)
    # When the step falls due with a CSAT of 2, Then it is skipped
    service.tick(NOON + timedelta(minutes=5))
    assert channels.sent == []
    # When a later run finds a CSAT of 5
    facts.put(TicketFact("ws_1", "c_000a", "tk_1", 4, False, False, NOON - timedelta(days=3), 5, answered))
    start(service, key="k2")
    service.tick(NOON + timedelta(minutes=6))
    # Then it is sent
    assert len(channels.sent) == 1
