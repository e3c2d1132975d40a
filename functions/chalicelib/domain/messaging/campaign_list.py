"""The campaigns listed page by page (`GET /campaigns`, `patron campaign list`): each with
its state and its statistics, in the stable order of campaign ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from chalicelib.domain.messaging.campaign_model import Campaign, Status, campaign_scope
from chalicelib.domain.messaging.ports import CampaignStore, Stats
from chalicelib.domain.messaging.stats import COUNTERS
from chalicelib.domain.timemath import iso

MOST = 100  # campaigns a page holds at most


class CampaignStats(BaseModel):
    """A campaign's counters (all variants): messages and what they brought."""

    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    deferred: int = 0
    dropped: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)  # workspace currency


class CampaignSummary(BaseModel):
    campaign_id: str
    name: str
    status: Status
    phase: str
    channel: Literal["email", "sms"]
    segment_id: str
    send_at: str | None
    created_at: str | None
    enqueued: int
    skipped: int
    winner: str | None
    stats: CampaignStats


class CampaignPage(BaseModel):
    campaigns: list[CampaignSummary]
    next_cursor: str | None


class CampaignList:
    def __init__(self, store: CampaignStore, stats: Stats) -> None:
        self.store = store
        self.stats = stats

    def page(self, workspace_id: str, limit: int, cursor: str | None) -> CampaignPage:
        """`limit` campaigns (1 to MOST) after `cursor` (a campaign id this gave), by id."""
        found, next_cursor = self.store.page(workspace_id, max(1, min(limit, MOST)), cursor)
        return CampaignPage(
            campaigns=[self._summary(workspace_id, c) for c in found], next_cursor=next_cursor
        )

    def _summary(self, workspace_id: str, c: Campaign) -> CampaignSummary:
        totals = self.stats.get(workspace_id, campaign_scope(c.id))
        counts = {k: totals.get(k, 0) for k in COUNTERS if k in CampaignStats.model_fields}
        return CampaignSummary(
            campaign_id=c.id,
            name=c.name,
            status=c.status,
            phase=c.phase,
            channel=c.channel,
            segment_id=c.segment_id,
            send_at=iso(c.send_at),
            created_at=iso(c.created_at),
            enqueued=c.enqueued,
            skipped=c.skipped,
            winner=c.winner,
            stats=CampaignStats.model_validate(counts),
        )
