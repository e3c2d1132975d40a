"""The campaign item, its A/B decision and a batch's body are mapped in adapters/campaigns.py:
a stored item reads back as a Campaign and writes back attribute for attribute, so the
stored layout is the one campaigns have always had."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.adapters.campaigns import (
    batch_from_body,
    batch_to_body,
    campaign_from_item,
    campaign_to_item,
    decision_from_item,
    decision_to_item,
)
from chalicelib.domain.messaging.abtest import MIN_SAMPLE, Sample, decide
from chalicelib.domain.messaging.campaign_model import Campaign, CampaignBatch, CampaignVariant

# A campaign item as DynamoDB returns it (integral numbers as int) after an A/B decision.
DECIDED = {
    "id": "cmp0123456789ab",
    "ws": "ws_1",
    "name": "Spring",
    "seg": "seg_vip",
    "ch": "email",
    "vars": [{"id": "a", "tpl": "spring_a"}, {"id": "b", "tpl": "spring_b"}],
    "ts": Decimal("0.2"),
    "wm": "clicks",
    "dah": 4,
    "mss": 100,
    "sat": "2026-11-20T15:15:30.000000Z",
    "oc": "defer",
    "st": "sending",
    "ph": "rest",
    "enq": 120,
    "skip": 7,
    "dup": 1,
    "fail": 2,
    "canc": 3,
    "ca": "2026-11-20T14:00:00.000000Z",
    "cur": "m#0042",
    "carry": [{"c": "c1", "v": "a"}, {"c": "c2", "v": "b"}],
    "win": "b",
    "abd": {
        "out": "winner",
        "rule": "p < 0.05",
        "n": {"a": {"sent": 1000, "clicked": 30}, "b": {"sent": 1000, "clicked": 70}},
        "lead": "b",
        "win": "b",
        "p": Decimal("0.0000123"),
    },
    "dec": "2026-11-20T19:15:30.000000Z",
    "fin": "2026-11-21T10:00:00.000000Z",
}


def test_a_stored_campaign_reads_as_a_campaign_and_writes_back_the_same_item():
    # Given a stored campaign with every attribute set
    # When it is read as a Campaign and written back
    campaign = campaign_from_item(DECIDED)
    # Then the domain sees typed fields, and the item is the same attribute for attribute
    assert campaign.status == "sending" and campaign.phase == "rest" and campaign.winner == "b"
    assert campaign.carry == [("c1", "a"), ("c2", "b")] and campaign.cursor == "m#0042"
    assert campaign.send_at == datetime(2026, 11, 20, 15, 15, 30, tzinfo=UTC)
    assert campaign.decision is not None and campaign.decision.outcome == "winner"
    assert campaign.decide_after_hours == Decimal(4) and campaign.min_sample == 100
    assert campaign_to_item(campaign) == DECIDED


def test_a_new_campaign_is_the_item_create_has_always_written():
    # Given a draft as CampaignService.create builds it (no test share, no send time)
    campaign = Campaign(
        id="cmp0123456789ab",
        workspace_id="ws_1",
        name="Spring",
        segment_id="account:guest",
        channel="sms",
        variants=[CampaignVariant("a", "spring")],
        winner_metric="clicks",
        decide_after_hours=Decimal("4"),
        min_sample_per_variant=100,
        over_cap="drop",
        created_at=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
    )
    # When it is mapped to its item
    item = campaign_to_item(campaign)
    # Then it has the attributes a draft always had, and none of the later ones
    assert item == {
        "id": "cmp0123456789ab",
        "ws": "ws_1",
        "name": "Spring",
        "seg": "account:guest",
        "ch": "sms",
        "vars": [{"id": "a", "tpl": "spring"}],
        "wm": "clicks",
        "dah": Decimal("4"),
        "mss": 100,
        "oc": "drop",
        "st": "draft",
        "ph": "all",
        "enq": 0,
        "skip": 0,
        "dup": 0,
        "fail": 0,
        "canc": 0,
        "ca": "2026-11-24T15:00:00.000000Z",
    }
    assert campaign_to_item(campaign_from_item(item)) == item


def test_a_campaign_stored_before_min_sample_keeps_no_mss():
    # Given an item without `mss` (older campaigns)
    item = {k: v for k, v in DECIDED.items() if k not in ("mss", "abd", "win")}
    # When it is read and written back
    campaign = campaign_from_item(item)
    # Then the default sample applies, and no `mss` is written
    assert campaign.min_sample == MIN_SAMPLE and campaign.min_sample_per_variant is None
    assert campaign_to_item(campaign) == item


def test_a_decision_and_a_batch_body_round_trip():
    # Given a decision with a revenue metric, and a batch
    decision = decide(
        "revenue",
        {
            "a": Sample(sent=1000, clicked=0, orders=30, revenue=Decimal("300.50")),
            "b": Sample(sent=1000, clicked=0, orders=70, revenue=Decimal("900.25")),
        },
    )
    batch = CampaignBatch("ws_1", "cmp1", "b1", [("c1", "a"), ("c2", "b")])
    # When each is mapped to what is stored or queued, and back
    stored = decision_to_item(decision)
    body = batch_to_body(batch)
    # Then the stored decision reads back the same, and the body is the queue's JSON
    assert decision_to_item(decision_from_item(stored)) == stored
    assert decision_from_item(stored).winner == decision.winner
    assert json.dumps(body, separators=(",", ":")) == (
        '{"ws":"ws_1","camp":"cmp1","b":"b1","to":[{"c":"c1","v":"a"},{"c":"c2","v":"b"}]}'
    )
    assert batch_from_body(json.loads(json.dumps(body))) == batch


def test_a_campaigns_featured_product_reads_back_and_writes_back_the_same():
    # Given a stored campaign with a featured product (no picture)
    item = DECIDED | {"prd": {"r": "src_1.42", "t": "Stoneware Mug", "u": "https://demo.example/mug"}}
    # When it is read as a Campaign and written back
    campaign = campaign_from_item(item)
    # Then the domain sees the product and its template values, and the item is the same
    assert campaign.product is not None and campaign.product.ref == "src_1.42"
    assert campaign.product.values() == {
        "product.title": "Stoneware Mug",
        "product.url": "https://demo.example/mug",
    }
    assert campaign_to_item(campaign) == item
