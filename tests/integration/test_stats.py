"""Campaign and flow counters: added atomically in the CRM table."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.adapters.messaging import DynamoStats
from chalicelib.domain.messaging.stats import scope_of


def test_scope_of_message_keys():
    assert scope_of("camp:spring:b") == "camp#spring"
    assert scope_of("flow:abandoned:K1:1") == "flow#abandoned"
    assert scope_of("txn:W#ws#O#1:shipped") is None
    assert scope_of("camp:") is None


def test_counters_add_up_across_writers(stage, ws):
    # Given the stats of one campaign
    stats = DynamoStats(stage.container.crm)
    # When two writers add sends, opens and revenue
    stats.add(ws.workspace_id, "camp#spring", {"sent": 50, "opened": 0})
    stats.add(ws.workspace_id, "camp#spring", {"sent": 3, "opened": 2, "revenue": Decimal("19.90")})
    stats.add(ws.workspace_id, "flow#welcome", {"sent": 1})
    # Then each scope holds its own sums, zeros for the counters never touched
    spring = stats.get(ws.workspace_id, "camp#spring")
    assert spring["sent"] == 53 and spring["opened"] == 2 and spring["revenue"] == Decimal("19.90")
    assert spring["clicked"] == 0
    assert stats.get(ws.workspace_id, "flow#welcome")["sent"] == 1


def test_event_counts_spread_over_partitions_and_read_back_whole(stage, ws):
    from chalicelib.adapters.engagement import DynamoStatsReport
    from chalicelib.adapters.messaging import STATS_SHARDS, _stats_add, transact_once

    table = stage.container.crm
    stats = DynamoStats(table)
    # Given a campaign's batch counted once, and 64 of its SES events counted one by one
    stats.add(ws.workspace_id, "camp#big", {"sent": 64})
    for _ in range(64):
        assert transact_once(table, [_stats_add(table.table, ws.workspace_id, "camp#big", {"delivered": 1})])
    # Then the events did not all land in one partition
    used = [
        n
        for n in range(STATS_SHARDS)
        if table.get(f"W#{ws.workspace_id}#STATS#{n:02d}", "camp#big") is not None
    ]
    assert len(used) > 4
    # And every reader sums the base item and the shards
    assert stats.get(ws.workspace_id, "camp#big")["delivered"] == 64
    assert stats.get(ws.workspace_id, "camp#big")["sent"] == 64
    report = DynamoStatsReport(table).all(ws.workspace_id)
    assert report["camp#big"]["delivered"] == 64 and report["camp#big"]["sent"] == 64
