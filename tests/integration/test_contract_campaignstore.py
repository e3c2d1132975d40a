"""CampaignStore's contract: one scenario suite run against the in-memory fake and against
DynamoCampaigns on moto, so the fake cannot drift from the adapter: conditional status,
phase and cursor changes, the active list, parked, dropped and held batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.adapters.campaigns import DynamoCampaigns
from chalicelib.domain.messaging.abtest import Sample, decide
from chalicelib.domain.messaging.campaign_model import Campaign, CampaignBatch, CampaignVariant
from chalicelib.domain.messaging.ports import CampaignStore
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.unit.fake_campaigns import FakeCampaignStore

__all__ = ["moto_stage"]

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoCampaigns:
    return DynamoCampaigns(stage.crm)


store = port_fixture(FakeCampaignStore, _dynamo)


def a_campaign(campaign_id: str = "cmp1", workspace_id: str = "ws_1", **changes: object) -> Campaign:
    fields: dict[str, object] = {
        "id": campaign_id,
        "workspace_id": workspace_id,
        "name": "Spring",
        "segment_id": "seg_vip",
        "channel": "email",
        "variants": [CampaignVariant("a", "spring_a"), CampaignVariant("b", "spring_b")],
        "winner_metric": "clicks",
        "decide_after_hours": Decimal("4"),
        "over_cap": "defer",
        "test_share": Decimal("0.2"),
        "min_sample_per_variant": 100,
        "phase": "test",
        "send_at": NOW + timedelta(hours=1),
        "created_at": NOW,
    }
    fields.update(changes)
    return Campaign(**fields)  # type: ignore[arg-type]


def sending(store: CampaignStore, campaign_id: str = "cmp1", **changes: object) -> Campaign:
    store.create(a_campaign(campaign_id, **changes))
    assert store.transition("ws_1", campaign_id, ("draft",), "sending")
    return a_campaign(campaign_id, status="sending", **changes)


def a_batch(batch_id: str, campaign_id: str = "cmp1") -> CampaignBatch:
    return CampaignBatch("ws_1", campaign_id, batch_id, [("c1", "a"), ("c2", "b")])


def test_a_campaign_reads_back_as_created_and_lists_by_workspace(store: CampaignStore):
    # Given campaigns in two workspaces
    campaign = a_campaign("cmp2")
    store.create(campaign)
    store.create(a_campaign("cmp1"))
    store.create(a_campaign("cmp9", workspace_id="ws_2"))
    # When one is read, and a workspace's are listed
    # Then it reads back whole, an unknown one is None, and each workspace lists its own
    assert store.get("ws_1", "cmp2") == campaign
    assert store.get("ws_1", "cmp9") is None and store.get("ws_2", "nope") is None
    assert [c.id for c in store.all("ws_1")] == ["cmp1", "cmp2"]
    assert store.all("ws_2") == [a_campaign("cmp9", workspace_id="ws_2")]
    assert store.all("ws_3") == []


def test_a_transition_holds_only_from_an_allowed_status_and_arms_the_dispatcher(store: CampaignStore):
    # Given two drafts, none active
    store.create(a_campaign("cmp1"))
    store.create(a_campaign("cmp2"))
    assert store.active() == []
    # When one is scheduled and the other cancelled
    assert store.transition("ws_1", "cmp1", ("draft",), "scheduled") is True
    assert store.transition("ws_1", "cmp2", ("draft", "scheduled"), "cancelled") is True
    # Then only the scheduled one is active; a transition from another status, or of an
    # unknown campaign, changes nothing
    assert store.active() == [("ws_1", "cmp1")]
    assert store.transition("ws_1", "cmp1", ("draft",), "sending") is False
    assert store.transition("ws_1", "nope", ("draft",), "sending") is False
    assert store.get("ws_1", "cmp1").status == "scheduled"  # type: ignore[union-attr]
    assert store.get("ws_1", "cmp2").status == "cancelled"  # type: ignore[union-attr]
    # When it is paused, Then it stays active until deactivated
    assert store.transition("ws_1", "cmp1", ("scheduled", "sending"), "paused") is True
    assert store.active() == [("ws_1", "cmp1")]
    store.deactivate("ws_1", "cmp1")
    assert store.active() == []


def test_the_cursor_moves_once_from_where_it_was_read(store: CampaignStore):
    # Given a sending campaign in its test phase, no page read yet
    expected = sending(store)
    # When a first page is enqueued, with two recipients carried to the next
    moved = store.advance("ws_1", "cmp1", "test", None, "m#050", 48, 2, [("c49", "a"), ("c50", "b")])
    # Then the cursor, the carry and the counters are saved
    assert moved is True
    assert store.get("ws_1", "cmp1") == Campaign(
        **{
            **expected.__dict__,
            "cursor": "m#050",
            "carry": [("c49", "a"), ("c50", "b")],
            "enqueued": 48,
            "skipped": 2,
        }
    )
    # When another run moves from the old cursor, or in another phase, Then nothing moves
    assert store.advance("ws_1", "cmp1", "test", None, "m#100", 50, 0, []) is False
    assert store.advance("ws_1", "cmp1", "rest", "m#050", "m#100", 50, 0, []) is False
    # When the last page is enqueued, Then the cursor and the carry are gone, the counters add up
    assert store.advance("ws_1", "cmp1", "test", "m#050", None, 50, 1, []) is True
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and campaign.cursor is None and campaign.carry == []
    assert (campaign.enqueued, campaign.skipped) == (98, 3)


def test_a_paused_campaign_moves_no_cursor(store: CampaignStore):
    # Given a paused campaign
    sending(store)
    assert store.transition("ws_1", "cmp1", ("sending",), "paused")
    # When a run tries to move its cursor or its phase, Then neither moves
    assert store.advance("ws_1", "cmp1", "test", None, "m#050", 50, 0, []) is False
    assert store.set_phase("ws_1", "cmp1", "test", "wait", decide_at=NOW) is False
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and (campaign.phase, campaign.cursor, campaign.enqueued) == ("test", None, 0)


def test_a_phase_changes_once_with_its_decision_and_drops_the_cursor(store: CampaignStore):
    # Given a sending campaign in the middle of its test phase
    sending(store)
    assert store.advance("ws_1", "cmp1", "test", None, "m#050", 50, 0, [("c9", "a")])
    decide_at = NOW + timedelta(hours=4)
    # When the test phase ends, Then the decision time is saved and the cursor dropped (the carry kept)
    assert store.set_phase("ws_1", "cmp1", "test", "wait", decide_at=decide_at) is True
    assert store.set_phase("ws_1", "cmp1", "test", "wait", decide_at=NOW) is False
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and (campaign.phase, campaign.cursor, campaign.decide_at) == (
        "wait",
        None,
        decide_at,
    )
    assert campaign.carry == [("c9", "a")]
    # When the A/B decision is made
    decision = decide("clicks", {"a": Sample(sent=1000, clicked=30), "b": Sample(sent=1000, clicked=70)})
    assert store.set_phase("ws_1", "cmp1", "wait", "rest", decision=decision) is True
    # Then the decision and its winner read back
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and campaign.phase == "rest" and campaign.winner == "b"
    assert campaign.decision is not None and campaign.decision.winner == "b"
    assert campaign.decision.p_value == pytest.approx(decision.p_value, rel=1e-5)
    assert campaign.decision.samples == decision.samples and campaign.decision.rule == decision.rule
    # When the audience is done, Then the finish time is saved
    assert store.set_phase("ws_1", "cmp1", "rest", "done", finished_at=NOW) is True
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and (campaign.phase, campaign.finished_at) == ("done", NOW)


def test_a_decision_without_a_winner_stores_none(store: CampaignStore):
    # Given a campaign waiting for its decision
    sending(store)
    assert store.set_phase("ws_1", "cmp1", "test", "wait", decide_at=NOW)
    # When the test is a tie
    decision = decide("clicks", {"a": Sample(sent=10, clicked=1), "b": Sample(sent=10, clicked=1)})
    assert decision.winner is None
    assert store.set_phase("ws_1", "cmp1", "wait", "rest", decision=decision) is True
    # Then there is a decision, and no winner
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and campaign.winner is None
    assert campaign.decision is not None and campaign.decision.reason == decision.reason


def test_counters_add_up(store: CampaignStore):
    # Given a campaign
    sending(store)
    # When duplicates, failures and cancelled recipients are counted, some twice
    store.add("ws_1", "cmp1", duplicates=2, failed=1)
    store.add("ws_1", "cmp1", duplicates=1)
    store.add("ws_1", "cmp1", cancelled=50)
    store.add("ws_1", "cmp1")
    # Then each counter holds its sum
    campaign = store.get("ws_1", "cmp1")
    assert campaign is not None and (campaign.duplicates, campaign.failed, campaign.cancelled) == (3, 1, 50)


def test_a_parked_batch_is_unparked_by_one_caller(store: CampaignStore):
    # Given two batches parked while the campaign is paused (one parked twice: a redelivery)
    store.park("ws_1", "cmp1", a_batch("b2"))
    store.park("ws_1", "cmp1", a_batch("b1"))
    store.park("ws_1", "cmp1", a_batch("b1"))
    # When they are read, Then each is there once, whole, and no other campaign's
    assert store.parked("ws_1", "cmp1") == [a_batch("b1"), a_batch("b2")]
    assert store.parked("ws_1", "cmp2") == []
    # When two callers unpark the same batch, Then one of them removed it
    assert store.unpark("ws_1", "cmp1", "b1") is True
    assert store.unpark("ws_1", "cmp1", "b1") is False
    assert store.parked("ws_1", "cmp1") == [a_batch("b2")]


def test_a_cancelled_campaigns_batch_is_dropped_once(store: CampaignStore):
    # When a batch is dropped, and dropped again on redelivery
    first = store.drop_once("ws_1", "cmp1", "b1")
    second = store.drop_once("ws_1", "cmp1", "b1")
    # Then only the first counts; the same batch id of another campaign is its own
    assert (first, second) == (True, False)
    assert store.drop_once("ws_1", "cmp2", "b1") is True


def test_held_batches_come_due_in_time_order_until_released(store: CampaignStore):
    # Given batches held until three different times
    store.hold(NOW + timedelta(hours=2), a_batch("b_late"))
    store.hold(NOW - timedelta(minutes=5), a_batch("b_first"))
    store.hold(NOW, a_batch("b_now", campaign_id="cmp2"))
    # When the due ones are read at NOW
    due = store.due(NOW, 10)
    # Then those due by NOW come, in time order, each with its key; the limit holds
    assert [b for _, b in due] == [a_batch("b_first"), a_batch("b_now", campaign_id="cmp2")]
    assert store.due(NOW, 1) == due[:1]
    # When the first is released, Then it does not come again; the later one comes when due
    store.release(due[0][0])
    assert [b.batch_id for _, b in store.due(NOW, 10)] == ["b_now"]
    assert [b.batch_id for _, b in store.due(NOW + timedelta(hours=3), 10)] == ["b_now", "b_late"]


def test_campaigns_page_by_id_with_a_cursor_only_when_more_follow(store: CampaignStore):
    # Given five campaigns in one workspace, created out of id order, and one in another
    for campaign_id in ("cmp3", "cmp1", "cmp5", "cmp2", "cmp4"):
        store.create(a_campaign(campaign_id))
    store.create(a_campaign("cmp0", workspace_id="ws_2"))
    # When the workspace's campaigns are read two at a time
    pages: list[list[str]] = []
    cursor = None
    while True:
        found, cursor = store.page("ws_1", 2, cursor)
        pages.append([c.id for c in found])
        if cursor is None:
            break
    # Then every campaign comes once, in id order, and the last page gives no cursor
    assert pages == [["cmp1", "cmp2"], ["cmp3", "cmp4"], ["cmp5"]]
    # And a page that holds exactly the rest gives no cursor either
    assert store.page("ws_1", 5, None)[1] is None
    assert [c.id for c in store.page("ws_1", 4, "cmp1")[0]] == ["cmp2", "cmp3", "cmp4", "cmp5"]
    assert store.page("ws_3", 10, None) == ([], None)
