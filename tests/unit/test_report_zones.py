"""The CSAT report's days and periods and the sales pipeline's months and quarters are the
store's (the workspace's `default_timezone`), not UTC's: a survey sent or a deal won at
23:30 local time on the last day of a month lands in that month in Paris and in Los Angeles,
and a day of 23 hours (the spring change) holds 23 hours (docs/service.md, docs/sales.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.sales.views import OpportunityIn, OpportunityPatch
from chalicelib.domain.service.csat import SurveyFact
from chalicelib.domain.service.csat_service import CsatService
from chalicelib.domain.timezones import store_zone
from chalicelib.domain.workspace_settings import WorkspaceSettings
from tests.fakes_csat import FakeCsatStore, FakeSender
from tests.fakes_customer_edits import FakeCustomerEdits
from tests.fakes_sales import FakeSalesStore
from tests.fakes_tickets import FakeTicketStore
from tests.unit.test_sales import Customers, Orders

ZONES = ["Europe/Paris", "America/Los_Angeles"]


class ZonedWorkspaces:
    def __init__(self, zone: str | None) -> None:
        self.zone = zone

    def settings(self, workspace_id: str) -> WorkspaceSettings | None:
        extra = {"default_timezone": self.zone} if self.zone else {}
        return WorkspaceSettings("ws_a", "EUR", "salt", rates={"USD": Decimal("0.9")}, **extra)

    def adopt_currency(self, workspace_id: str, currency: str) -> WorkspaceSettings:
        raise NotImplementedError


def local(zone: str, text: str) -> datetime:
    """A wall-clock reading in `zone` as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def csat_desk(zone: str | None, *sent: datetime) -> CsatService:
    store = FakeCsatStore()
    for n, at in enumerate(sent):
        store.fact_sent(SurveyFact("ws_a", f"tk_{n}", 1, at, "ana", "complaint", 5 - n % 2))
    workspaces = ZonedWorkspaces(zone)
    return CsatService(FakeTicketStore(), store, FakeCustomerEdits(), workspaces, FakeSender("sent"), None)


@pytest.mark.parametrize("zone", ZONES)
def test_a_survey_sent_at_2330_on_the_last_day_of_a_month_counts_in_that_month(zone):
    # Given surveys sent at 23:30 local on 31 March and at 00:30 local on 1 April
    march, april = local(zone, "2026-03-31 23:30"), local(zone, "2026-04-01 00:30")
    desk = csat_desk(zone, march, april)
    # When the report is read by month over March and April, then for March alone
    by_month = desk.report("ws_a", date(2026, 3, 1), date(2026, 4, 30), "period", "month")
    only_march = desk.report("ws_a", date(2026, 3, 1), date(2026, 3, 31), "agent")
    # Then one survey in each month, in the store's zone, and March's report holds one
    assert [(g.group, g.sent) for g in by_month.groups] == [("2026-03", 1), ("2026-04", 1)]
    assert by_month.zone == zone and only_march.total.sent == 1
    # And by day the survey is on the 31st, though in UTC it is not always
    by_day = desk.report("ws_a", date(2026, 3, 31), date(2026, 4, 1), "period", "day")
    assert [g.group for g in by_day.groups] == ["2026-03-31", "2026-04-01"]


def test_the_zone_moves_a_survey_across_a_month_that_utc_would_not():
    # Given a survey sent at 23:30 in Los Angeles on 31 March (06:30 UTC on 1 April)
    at = local("America/Los_Angeles", "2026-03-31 23:30")
    assert at.date() == date(2026, 4, 1)
    # When the same facts are reported for a workspace without a zone, and one in Los Angeles
    utc = csat_desk(None, at).report("ws_a", date(2026, 3, 1), date(2026, 4, 30), "period", "month")
    la = csat_desk("America/Los_Angeles", at).report(
        "ws_a", date(2026, 3, 1), date(2026, 4, 30), "period", "month"
    )
    # Then UTC's month is April, the store's March
    assert ([g.group for g in utc.groups], utc.zone) == (["2026-04"], "UTC")
    assert [g.group for g in la.groups] == ["2026-03"]


def test_a_spring_forward_day_in_paris_holds_its_23_hours():
    # Given surveys at 00:30 and 23:30 on 29 March 2026 in Paris (23 hours that day) and at
    # 00:30 the next day
    zone = "Europe/Paris"
    sent = [local(zone, "2026-03-29 00:30"), local(zone, "2026-03-29 23:30"), local(zone, "2026-03-30 00:30")]
    assert sent[1] - sent[0] == timedelta(hours=22)
    # When 29 March is reported
    day = csat_desk(zone, *sent).report("ws_a", date(2026, 3, 29), date(2026, 3, 29), "period", "week")
    # Then its two surveys, in the week from Monday 23 March; not the next day's
    assert [(g.group, g.sent) for g in day.groups] == [("2026-03-23", 2)]


def test_an_unknown_or_missing_zone_reads_utc():
    assert str(store_zone(None)) == "UTC" and str(store_zone("Mars/Olympus")) == "UTC"
    assert str(store_zone("Europe/Paris")) == "Europe/Paris"


# -- the sales pipeline ----------------------------------------------------------------
def sales_for(zone: str | None):  # type: ignore[no-untyped-def]
    from chalicelib.domain.sales.service import SalesService

    store = FakeSalesStore()
    return SalesService(store, store, Customers(), Orders(), ZonedWorkspaces(zone), FakeTicketStore())


def won_at(sales, at: datetime, value: str) -> None:  # type: ignore[no-untyped-def]
    body = OpportunityIn.model_validate(
        {"customer_id": "c_1", "title": "Wholesale", "value": value, "owner": "ana"}
    )
    made = sales.create("ws_a", body, "key:abc", at - timedelta(days=3))
    sales.update("ws_a", made.id, OpportunityPatch(stage="won"), "key:abc", at)


@pytest.mark.parametrize("zone", ZONES)
def test_a_deal_won_at_2330_on_the_last_day_of_a_quarter_counts_in_that_quarter(zone):
    # Given a deal won at 23:30 local on 31 March and one at 00:30 local on 1 April
    sales = sales_for(zone)
    won_at(sales, local(zone, "2026-03-31 23:30"), "100")
    won_at(sales, local(zone, "2026-04-01 00:30"), "40")
    # When March, Q1 and April are read
    march = sales.pipeline("ws_a", "2026-03", local(zone, "2026-04-02 12:00"))
    q1 = sales.pipeline("ws_a", "2026-Q1", local(zone, "2026-04-02 12:00"))
    april = sales.pipeline("ws_a", "2026-04", local(zone, "2026-04-02 12:00"))
    # Then the first is March's and Q1's, the second April's, in the store's zone
    assert [(o.won, o.won_count) for o in march.owners] == [("100.00", 1)] and march.zone == zone
    assert [o.won for o in q1.owners] == ["100.00"]
    assert [o.won for o in april.owners] == ["40.00"]


def test_the_default_period_is_the_month_now_falls_in_in_the_stores_zone():
    # Given 23:30 on 31 March in Los Angeles (already April in UTC)
    now = local("America/Los_Angeles", "2026-03-31 23:30")
    # When the pipeline is read without a period, in Los Angeles and in a workspace without a zone
    # Then Los Angeles reads March, UTC April
    assert sales_for("America/Los_Angeles").pipeline("ws_a", None, now).period == "2026-03"
    assert sales_for(None).pipeline("ws_a", None, now).period == "2026-04"
