"""An in-memory CampaignStore that behaves as DynamoCampaigns does (the contract suite
tests/integration/test_contract_campaignstore.py runs both): conditional transitions, phase
changes and cursor moves, the active list, parked, dropped and held batches."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from chalicelib.domain.messaging.abtest import Decision
from chalicelib.domain.messaging.campaign_model import Campaign, CampaignBatch, Recipient
from chalicelib.domain.timemath import iso


class FakeCampaignStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Campaign] = {}
        self.active_keys: set[str] = set()
        self.parked_batches: dict[tuple[str, str], dict[str, CampaignBatch]] = {}
        self.dropped: set[tuple[str, str, str]] = set()
        self.held: dict[str, CampaignBatch] = {}

    def create(self, campaign: Campaign) -> None:
        key = (campaign.workspace_id, campaign.id)
        if key in self.items:
            raise ValueError(f"campaign {campaign.id} exists")  # the adapter's conditional put
        self.items[key] = dataclasses.replace(
            campaign, variants=list(campaign.variants), carry=list(campaign.carry)
        )

    def get(self, workspace_id: str, campaign_id: str) -> Campaign | None:
        campaign = self.items.get((workspace_id, campaign_id))
        return None if campaign is None else dataclasses.replace(campaign, carry=list(campaign.carry))

    def all(self, workspace_id: str) -> list[Campaign]:
        return [dataclasses.replace(self.items[k]) for k in sorted(self.items) if k[0] == workspace_id]

    def page(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        after = [c for c in self.all(workspace_id) if cursor is None or c.id > cursor]
        return after[:limit], (after[limit - 1].id if len(after) > limit else None)

    def transition(self, workspace_id: str, campaign_id: str, allowed: tuple[str, ...], status: str) -> bool:
        campaign = self.items.get((workspace_id, campaign_id))
        if campaign is None or campaign.status not in allowed:
            return False
        campaign.status = status  # type: ignore[assignment]
        if status in ("scheduled", "sending"):
            self.active_keys.add(f"{workspace_id}#{campaign_id}")
        return True

    def set_phase(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        new_phase: str,
        *,
        decision: Decision | None = None,
        decide_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> bool:
        campaign = self.items.get((workspace_id, campaign_id))
        if campaign is None or campaign.phase != phase or campaign.status != "sending":
            return False
        campaign.phase, campaign.cursor = new_phase, None
        if decision is not None:
            campaign.decision = decision
            if decision.winner is not None:
                campaign.winner = decision.winner
        if decide_at is not None:
            campaign.decide_at = decide_at
        if finished_at is not None:
            campaign.finished_at = finished_at
        return True

    def advance(
        self,
        workspace_id: str,
        campaign_id: str,
        phase: str,
        cursor: str | None,
        new_cursor: str | None,
        enqueued: int,
        skipped: int,
        carry: list[Recipient],
    ) -> bool:
        campaign = self.items.get((workspace_id, campaign_id))
        if (
            campaign is None
            or campaign.status != "sending"
            or campaign.phase != phase
            or campaign.cursor != cursor
        ):
            return False
        campaign.cursor, campaign.carry = new_cursor, list(carry)
        campaign.enqueued += enqueued
        campaign.skipped += skipped
        return True

    def add(
        self, workspace_id: str, campaign_id: str, *, duplicates: int = 0, failed: int = 0, cancelled: int = 0
    ) -> None:
        if not (duplicates or failed or cancelled):
            return  # no request at all, as the adapter
        campaign = self.items.get((workspace_id, campaign_id))
        if campaign is None:
            raise ValueError(f"campaign {campaign_id} not found")  # the adapter's must_exist
        campaign.duplicates += duplicates
        campaign.failed += failed
        campaign.cancelled += cancelled

    def active(self) -> list[tuple[str, str]]:
        found = []
        for key in sorted(self.active_keys):
            workspace_id, _, campaign_id = key.partition("#")
            found.append((workspace_id, campaign_id))
        return found

    def deactivate(self, workspace_id: str, campaign_id: str) -> None:
        self.active_keys.discard(f"{workspace_id}#{campaign_id}")

    def park(self, workspace_id: str, campaign_id: str, batch: CampaignBatch) -> None:
        self.parked_batches.setdefault((workspace_id, campaign_id), {})[batch.batch_id] = batch

    def parked(self, workspace_id: str, campaign_id: str) -> list[CampaignBatch]:
        batches = self.parked_batches.get((workspace_id, campaign_id), {})
        return [batches[b] for b in sorted(batches)]

    def unpark(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        return self.parked_batches.get((workspace_id, campaign_id), {}).pop(batch_id, None) is not None

    def drop_once(self, workspace_id: str, campaign_id: str, batch_id: str) -> bool:
        key = (workspace_id, campaign_id, batch_id)
        if key in self.dropped:
            return False
        self.dropped.add(key)
        return True

    def hold(self, due: datetime, batch: CampaignBatch) -> None:
        self.held[f"{iso(due)}#{batch.workspace_id}#{batch.campaign_id}#{batch.batch_id}"] = batch

    def due(self, now: datetime, limit: int) -> list[tuple[str, CampaignBatch]]:
        until = f"{iso(now)}#~"
        return [(k, self.held[k]) for k in sorted(self.held) if k <= until][:limit]

    def release(self, due_key: str) -> None:
        self.held.pop(due_key, None)
