"""Segment definitions per workspace, and evaluation for one customer on read.

Definitions are parsed and validated before they are stored, so a stored segment always
evaluates. Evaluating for one customer happens on read, with the current time, so it is
exact for time-based conditions too; the membership index that lists a segment's members
and sizes is the next step (see docs/segments.md).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib.domain import backfill, predict, profile_facts, scoring, segment_eval, segments, timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.loyalty.ports import LoyaltyFactsReader
from chalicelib.domain.models import now_utc
from chalicelib.domain.ports import ProfileReader, SegmentStore, SweepStore, WorkspaceReader
from chalicelib.domain.segment_values import SegmentDefinition
from chalicelib.domain.service.facts import TicketSummaries
from chalicelib.domain.workspace_settings import WorkspaceSettings

MAX_SEGMENTS = 200
_NAME = re.compile(r"^[\w .,'&()-]{1,80}$")


class SegmentView(BaseModel):
    segment_id: str
    name: str
    definition: str
    time_based: bool
    fields: list[str]
    created_at: str


class Membership(BaseModel):
    segment_id: str
    name: str
    member: bool
    next_check: str | None


class CustomerSegments(BaseModel):
    customer_id: str
    evaluated_at: str
    lifecycle: str
    lifecycle_next_change: str | None
    scores: dict[str, Any] | None  # model scores (None until the workspace has a model)
    segments: list[Membership]


def _view(segment: SegmentDefinition) -> SegmentView:
    tree = segments.parse(segment.definition)
    return SegmentView(
        segment_id=segment.segment_id,
        name=segment.name,
        definition=segment.definition,
        time_based=segments.is_time_based(tree),
        fields=sorted(segments.fields_used(tree)),
        created_at=segment.created_at,
    )


class SegmentService:
    def __init__(
        self,
        store: SegmentStore,
        profiles: ProfileReader,
        workspaces: WorkspaceReader,
        sweeps: SweepStore | None = None,
        loyalty: LoyaltyFactsReader | None = None,
        tickets: TicketSummaries | None = None,
    ) -> None:
        self.loyalty = loyalty
        self.tickets = tickets  # the customer's ticket facts (domain/service/facts.py)
        self.store = store
        self.profiles = profiles
        self.workspaces = workspaces
        self.sweeps = sweeps  # backfills of new segments (chalicelib.domain.backfill)

    def facts(
        self,
        workspace_id: str,
        profile: CustomerProfile,
        at: datetime,
        settings: WorkspaceSettings | None = None,
        with_loyalty: bool = False,
    ) -> tuple[segment_eval.Facts, scoring.Stage]:
        """A profile's segment facts now: RFM scores, lifecycle stage and model scores, and
        with `with_loyalty` the facts kept beside the profile: its points and tier, and its
        ticket facts over its id and merged ids (one more read each).

        `settings` overrides the stored workspace settings (the nightly job compares the
        answers under yesterday's and today's edges and models)."""
        facts, stage = self._facts(workspace_id, profile, at, settings)
        if with_loyalty and self.loyalty is not None:
            facts = segment_eval.with_loyalty(
                facts, self.loyalty.loyalty_facts(workspace_id, profile.customer_id, at)
            )
        if with_loyalty and self.tickets is not None:
            s = self.tickets.summary(workspace_id, profile.customer_id, profile.merged_ids or [], at)
            facts = segment_eval.with_tickets(
                facts, s.open_tickets, s.open_complaints, s.last_csat, s.last_ticket_at, s.complaints
            )
        return facts, stage

    def uses_tickets(self, definitions: list[SegmentDefinition]) -> bool:
        return any(segment_eval.uses_tickets(segments.parse(d.definition)) for d in definitions)

    def uses_loyalty(self, definitions: list[SegmentDefinition]) -> bool:
        return any(segment_eval.uses_loyalty(segments.parse(d.definition)) for d in definitions)

    def _facts(
        self,
        workspace_id: str,
        profile: CustomerProfile,
        at: datetime,
        settings: WorkspaceSettings | None,
    ) -> tuple[segment_eval.Facts, scoring.Stage]:
        settings = settings or self.workspaces.settings(workspace_id)
        edges = settings.rfm_edges if settings else None
        rhythm = settings.rhythm_days if settings else None
        rfm_scores, stage = profile_facts.score_profile(profile, edges, rhythm, at)
        params = settings.model if settings else None
        summary = predict.summary(profile, at) if params else None
        if params is None or summary is None:
            return profile_facts.profile_facts(profile, rfm_scores, stage), stage
        model, s = params, summary
        return (
            profile_facts.profile_facts(
                profile,
                rfm_scores,
                stage,
                model=predict.values(model, s),
                projection=lambda days: predict.values(model, s, days),
            ),
            stage,
        )

    def create(self, workspace_id: str, name: str, definition: str) -> SegmentView:
        name = name.strip()
        if not _NAME.match(name):
            raise BadRequest("name must be 1-80 letters, digits, spaces or .,'&()-", {"field": "name"})
        tree = segments.parse(definition)  # raises a 400 that points at the token
        if len(self.store.list_segments(workspace_id)) >= MAX_SEGMENTS:
            raise BadRequest(f"a workspace holds at most {MAX_SEGMENTS} segments")
        segment_id = "seg_" + secrets.token_hex(6)
        segment = SegmentDefinition(
            workspace_id=workspace_id,
            segment_id=segment_id,
            name=name,
            definition=segments.to_text(tree),
            created_at=timemath.iso(now_utc()) or "",
        )
        self.store.put_segment(segment)
        if self.sweeps is not None:
            self.sweeps.add(workspace_id, segment_id, timemath.iso(now_utc() + backfill.START_DELAY) or "")
        return _view(segment)

    def backfill_status(self, workspace_id: str, segment_id: str) -> dict[str, Any]:
        sweep = self.sweeps.get(workspace_id, segment_id) if self.sweeps is not None else None
        if sweep is None:
            return {"state": "complete"}
        return {"state": "running" if sweep.cursor else "queued", "processed": sweep.processed}

    def definitions(self, workspace_id: str) -> list[SegmentDefinition]:
        """The stored definitions (the store may cache them for a few seconds)."""
        return self.store.list_segments(workspace_id)

    def list(self, workspace_id: str) -> list[SegmentView]:
        return [_view(i) for i in self.store.list_segments(workspace_id)]

    def get(self, workspace_id: str, segment_id: str) -> SegmentView:
        segment = self.store.get_segment(workspace_id, segment_id)
        if segment is None:
            raise NotFound("segment not found")
        return _view(segment)

    def delete(self, workspace_id: str, segment_id: str) -> None:
        if not self.store.delete_segment(workspace_id, segment_id):
            raise NotFound("segment not found")
        if self.sweeps is not None:
            self.sweeps.finish(workspace_id, segment_id)

    def for_customer(
        self, workspace_id: str, customer_id: str, now: datetime | None = None
    ) -> CustomerSegments:
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        at = now or now_utc()
        settings = self.workspaces.settings(workspace_id)
        definitions = self.store.list_segments(workspace_id)
        facts, stage = self.facts(workspace_id, profile, at, settings, self.uses_loyalty(definitions))
        results = []
        for definition in definitions:
            verdict = segment_eval.evaluate(segments.parse(definition.definition), facts, at)
            results.append(
                Membership(
                    segment_id=definition.segment_id,
                    name=definition.name,
                    member=verdict.member,
                    next_check=timemath.iso(verdict.next_check),
                )
            )
        return CustomerSegments(
            customer_id=profile.customer_id,
            evaluated_at=timemath.iso(at) or "",
            lifecycle=stage.stage,
            lifecycle_next_change=timemath.iso(stage.next_change),
            scores=predict.view(settings.model if settings else None, profile, at),
            segments=results,
        )
