"""What the profile and membership services answer: value types, imported by their ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ApplyResult:
    customer_id: str | None
    outcome: str  # applied | already_applied | no_identity | skipped | redacted | imported
    merged: list[str] = field(default_factory=list)


@dataclass
class MembershipChange:
    customer_id: str
    entered: list[str] = field(default_factory=list)
    exited: list[str] = field(default_factory=list)
    next_check: datetime | None = None
    written: bool = False
