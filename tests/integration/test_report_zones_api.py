"""The CSAT report and the sales pipeline read days, months and quarters in the store's time
zone (the workspace's `default_timezone`) on the stage (moto, the Admin API): a survey sent
and a deal won at 23:30 on 31 March in Los Angeles (06:30 UTC on 1 April) are March's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

from chalicelib.domain.messaging import sending
from chalicelib.domain.service.csat import SurveyFact
from patron.harness import Harness, Workspace
from tests.integration.test_consent import jane
from tests.integration.test_sales_api import call

__all__ = ["jane"]
LA = "America/Los_Angeles"
LATE = datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo(LA)).astimezone(UTC)


def in_zone(stage: Harness, ws: Workspace, zone: str) -> None:
    settings = stage.container.workspaces.settings(ws.workspace_id)
    stage.container.workspaces.set_sending(ws.workspace_id, sending.changes(settings, None, None, None, zone))


def test_the_csat_report_counts_a_late_survey_in_the_stores_month(stage, ws):
    # Given a workspace in Los Angeles and a survey delivered at 23:30 local on 31 March
    in_zone(stage, ws, LA)
    stage.container.csat_store.fact_sent(SurveyFact(ws.workspace_id, "tk_1", 1, LATE, "ana", "complaint", 5))
    # When March and April are reported by month, then 1 April alone
    status, by_month = call(
        stage, ws, "get", "/service/reports/csat?from=2026-03-01&to=2026-04-30&by=period&period=month"
    )
    april_first = call(stage, ws, "get", "/service/reports/csat?from=2026-04-01&to=2026-04-01")[1]
    # Then the survey is March's (read from the UTC day partition of 1 April), not 1 April's
    assert status == 200, by_month
    assert [(g["group"], g["sent"]) for g in by_month["groups"]] == [("2026-03", 1)]
    assert by_month["zone"] == LA and april_first["total"]["sent"] == 0


def test_the_pipeline_counts_a_late_win_in_the_stores_month_and_quarter(stage, ws, jane):
    # Given a workspace in Los Angeles and ana's deal won at 23:30 local on 31 March
    in_zone(stage, ws, LA)
    with time_machine.travel(LATE, tick=False):
        deal = {"customer_id": jane["cid"], "title": "Café chain", "value": "2000", "owner": "ana"}
        status, made = call(stage, ws, "post", "/opportunities", deal)
        assert status == 201, made
        assert call(stage, ws, "patch", f"/opportunities/{made['id']}", {"stage": "won"})[0] == 200
        # When the pipeline is read now without a period, and for Q1 and April
        current = call(stage, ws, "get", "/pipeline")[1]
    q1 = call(stage, ws, "get", "/pipeline?period=2026-Q1")[1]
    april = call(stage, ws, "get", "/pipeline?period=2026-04")[1]
    # Then the current period is March there, and the win is March's and Q1's, not April's
    assert (current["period"], current["zone"]) == ("2026-03", LA)
    assert [(o["owner"], o["won_count"]) for o in current["owners"]] == [("ana", 1)]
    assert [o["won_count"] for o in q1["owners"]] == [1]
    assert [o["won_count"] for o in april["owners"]] == []
