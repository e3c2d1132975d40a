"""The report's `rfm_grid` and `lifecycle_funnel`: the customers as they stand now, scored
the way the segments score them (`profile_facts.score_profile`: the workspace's stored RFM
edges and store rhythm), so each cell and step names a segment whose members it counts
(docs/analytics.md#rfm-grid). Built from the profiles the report already walks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.analytics_views import (
    FunnelStep,
    LifecycleFunnel,
    LifecycleStage,
    RfmCell,
    RfmGrid,
)
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.money import round_money
from chalicelib.domain.profile_facts import score_profile
from chalicelib.domain.scoring import RfmEdges
from chalicelib.domain.segments import LIFECYCLE_STAGES

FUNNEL = (
    ("customers", "orders_count >= 0"),
    ("buyers", "orders_count >= 1"),
    ("repeat_buyers", "orders_count >= 2"),
    ("active_repeat_buyers", "orders_count >= 2 AND lifecycle = 'active'"),
)


def cell_definition(r: int, f: int) -> str:
    return f"r_score = {r} AND f_score = {f}"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class Standing:
    """Adds up the profiles it is given (`add`), then answers the grid and the funnel."""

    def __init__(
        self, at: datetime, edges: RfmEdges | None, rhythm_days: float | None, currency: str | None
    ) -> None:
        self.at, self.edges, self.rhythm_days, self.currency = at, edges, rhythm_days, currency
        self.cells: Counter[tuple[int, int]] = Counter()
        self.revenue: dict[tuple[int, int], Decimal] = {}
        self.stages: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()

    def add(self, profile: CustomerProfile) -> None:
        scores, stage = score_profile(profile, self.edges, self.rhythm_days, self.at)
        self.stages[stage.stage] += 1
        orders = profile.orders_count
        reached = [True, orders >= 1, orders >= 2, orders >= 2 and stage.stage == "active"]
        for (name, _), done in zip(FUNNEL, reached, strict=True):
            self.steps[name] += done
        if scores is not None:
            cell = (scores.r, scores.f)
            self.cells[cell] += 1
            self.revenue[cell] = self.revenue.get(cell, Decimal(0)) + (profile.figures.net or Decimal(0))

    def rfm_grid(self) -> RfmGrid:
        scored = sum(self.cells.values())
        cells = [
            RfmCell(
                r_score=r,
                f_score=f,
                customers=self.cells[(r, f)],
                revenue=round_money(self.revenue.get((r, f), Decimal(0)), self.currency),
                share=_ratio(self.cells[(r, f)], scored) or 0.0,
                definition=cell_definition(r, f),
            )
            for r in range(5, 0, -1)
            for f in range(1, 6)
        ]
        return RfmGrid(
            as_of=self.at,
            scored=self.edges is not None,
            customers=scored,
            cells=cells if self.edges is not None else [],
        )

    def funnel(self) -> LifecycleFunnel:
        total = sum(self.stages.values())
        stages = [
            LifecycleStage(
                stage=name,
                customers=self.stages[name],
                share=_ratio(self.stages[name], total),
                segment=f"lifecycle:{name}",
            )
            for name in LIFECYCLE_STAGES
        ]
        steps = []
        before: int | None = None
        for name, definition in FUNNEL:
            count = self.steps[name]
            steps.append(
                FunnelStep(
                    step=name,
                    customers=count,
                    conversion=_ratio(count, before) if before is not None else None,
                    of_customers=_ratio(count, self.steps[FUNNEL[0][0]]),
                    definition=definition,
                )
            )
            before = count
        return LifecycleFunnel(as_of=self.at, stages=stages, steps=steps)
