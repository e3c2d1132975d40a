"""A workspace's pipeline settings: its ordered stages (each a probability and won/lost
flags), the stale rule, targets per owner and period, and the rules that open
opportunities by themselves (docs/sales.md). One versioned item per workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2]|Q[1-4])$")
DEFAULT_STALE_DAYS = 14


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Strict):
    name: str = Field(min_length=1, max_length=40, description="lower case, digits, `_` or `-`")
    probability: Decimal = Field(ge=0, le=1, description="the chance an opportunity here is won, 0 to 1")
    won: bool = False
    lost: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a stage's name is lower case letters, digits, `_` or `-`")
        return value

    @model_validator(mode="after")
    def _flags(self) -> Stage:
        if self.won and self.lost:
            raise ValueError("a stage is won or lost, not both")
        if (self.won and self.probability != 1) or (self.lost and self.probability != 0):
            raise ValueError("a won stage's probability is 1, a lost one's 0")
        return self

    @property
    def outcome(self) -> str:
        return "won" if self.won else "lost" if self.lost else "open"


DEFAULT_STAGES = (
    Stage(name="new", probability=Decimal("0.10")),
    Stage(name="qualified", probability=Decimal("0.25")),
    Stage(name="proposal", probability=Decimal("0.50")),
    Stage(name="negotiation", probability=Decimal("0.75")),
    Stage(name="won", probability=Decimal("1"), won=True),
    Stage(name="lost", probability=Decimal("0"), lost=True),
)


class StagesIn(_Strict):
    """`PUT /pipeline/stages`: the ordered stages (the first is where a lead starts: it is
    open) and the days without an event after which an open opportunity is stale."""

    stages: list[Stage] = Field(min_length=2, max_length=20)
    stale_days: int = Field(default=DEFAULT_STALE_DAYS, ge=0, le=3650, description="0: never stale")

    @model_validator(mode="after")
    def _valid(self) -> StagesIn:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names are unique")
        if self.stages[0].won or self.stages[0].lost:
            raise ValueError("the first stage is open")
        if not any(s.won for s in self.stages):
            raise ValueError("one stage at least is won")
        return self


class Target(_Strict):
    owner: str = Field(min_length=1, max_length=100)
    period: str = Field(description="`YYYY-MM` (a month) or `YYYY-Qn` (a quarter)")
    amount: Decimal = Field(ge=0, description="won value aimed at, in the workspace currency")

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        period_bounds(value)
        return value


class TargetsIn(_Strict):
    """`PUT /pipeline/targets`: the targets, replaced whole (one per owner and period)."""

    targets: list[Target] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> TargetsIn:
        keys = [(t.owner, t.period) for t in self.targets]
        if len(set(keys)) != len(keys):
            raise ValueError("one target per owner and period")
        return self


class Rule(_Strict):
    """`checkout_abandoned`: a checkout not completed whose total is at least `min_value`
    (workspace currency); `segment_entered`: a customer entering `segment`. Either opens an
    opportunity owned by `owner` in the first stage, worth `value` (or the checkout's total)."""

    id: str = Field(min_length=1, max_length=40)
    trigger: Literal["checkout_abandoned", "segment_entered"]
    min_value: Decimal | None = Field(default=None, ge=0)
    segment: str | None = Field(default=None, min_length=1, max_length=64)
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    value: Decimal | None = Field(default=None, ge=0)
    title: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a rule's id is lower case letters, digits, `_` or `-`")
        return value

    @model_validator(mode="after")
    def _needs(self) -> Rule:
        if self.trigger == "checkout_abandoned" and self.min_value is None:
            raise ValueError("a checkout_abandoned rule needs min_value")
        if (self.trigger == "segment_entered") != (self.segment is not None):
            raise ValueError("segment is required for segment_entered, and only there")
        return self


class RulesIn(_Strict):
    """`PUT /pipeline/rules`: the rules, replaced whole."""

    rules: list[Rule] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique(self) -> RulesIn:
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids are unique")
        return self


@dataclass(frozen=True)
class SalesSettings:
    """What the workspace set (the defaults until it sets anything); `version` None: never
    written."""

    stages: tuple[Stage, ...] = DEFAULT_STAGES
    stale_days: int = DEFAULT_STALE_DAYS
    targets: tuple[Target, ...] = ()
    rules: tuple[Rule, ...] = ()
    version: int | None = None

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def first(self) -> Stage:
        return self.stages[0]


def period_bounds(period: str) -> tuple[date, date]:
    """The first day of a period and the first day after it."""
    found = _PERIOD.match(period)
    if not found:
        raise ValueError("a period is YYYY-MM or YYYY-Qn")
    year, part = int(found.group(1)), found.group(2)
    first_month = (int(part[1]) - 1) * 3 + 1 if part.startswith("Q") else int(part)
    months = 3 if part.startswith("Q") else 1
    start = date(year, first_month, 1)
    end_month = first_month + months
    end = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def period_of(at: datetime, quarter: bool = False) -> str:
    """The month (or quarter) `at` falls in, as a period."""
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}" if quarter else f"{at.year}-{at.month:02d}"
