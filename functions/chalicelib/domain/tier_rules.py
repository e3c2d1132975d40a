"""A workspace's tier rules (the `tiers` block of its settings; docs/loyalty.md#tiers): a
value type the settings hold, outside the loyalty package so the settings import no more
of it (chalicelib.domain.loyalty.tiers moves customers between them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

MEASURES = ("net_spend", "points_earned")
WINDOWS = ("trailing", "calendar_year", "lifetime")
MAX_TIERS = 10
MAX_NAME = 32


@dataclass(frozen=True)
class Tier:
    name: str
    enter: Decimal  # the qualifying value to enter the tier
    keep: Decimal  # the value to keep it (<= enter)
    multiplier: Decimal = Decimal(1)  # of the workspace's points_per_unit (the one source)
    free_shipping: bool = False
    discount_percent: Decimal = Decimal(0)

    def benefits(self) -> dict[str, Any]:
        return {
            "points_multiplier": str(self.multiplier),
            "free_shipping": self.free_shipping,
            "discount_percent": str(self.discount_percent),
        }


@dataclass(frozen=True)
class TierRules:
    """A workspace's tiers (`tiers` in its settings), lowest first; none: no tiers."""

    tiers: tuple[Tier, ...] = ()
    measure: str = "net_spend"
    window: str = "trailing"
    window_days: int = 365
    grace_days: int = 30

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.measure not in MEASURES:
            found.append(f"measure is one of {', '.join(MEASURES)}")
        if self.window not in WINDOWS:
            found.append(f"window is one of {', '.join(WINDOWS)}")
        if not 1 <= self.window_days <= 3660:
            found.append("window_days is between 1 and 3660")
        if not 0 <= self.grace_days <= 366:
            found.append("grace_days is between 0 and 366")
        if len(self.tiers) > MAX_TIERS:
            found.append(f"at most {MAX_TIERS} tiers")
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            found.append("tier names are unique")
        last = Decimal(0)
        for t in self.tiers:
            if not (0 < len(t.name) <= MAX_NAME and t.name.replace("_", "").replace("-", "").isalnum()):
                found.append(f"{t.name!r}: a name is 1 to {MAX_NAME} letters, digits, - or _")
            if not (t.enter.is_finite() and t.keep.is_finite()) or t.keep < 0 or t.keep > t.enter:
                found.append(f"{t.name}: 0 <= keep <= enter")
            elif t.enter <= last:
                found.append(f"{t.name}: enter thresholds rise strictly, from above 0")
            else:
                last = t.enter
            if not (t.multiplier.is_finite() and 0 < t.multiplier <= 100):
                found.append(f"{t.name}: multiplier is above 0 and at most 100")
            if not (t.discount_percent.is_finite() and 0 <= t.discount_percent <= 100):
                found.append(f"{t.name}: discount_percent is between 0 and 100")
        return found

    def rank(self, name: str | None) -> int:
        """0 for no tier, 1 for the lowest; a tier these rules no longer name ranks 0."""
        for i, t in enumerate(self.tiers):
            if t.name == name:
                return i + 1
        return 0

    def tier(self, name: str | None) -> Tier | None:
        rank = self.rank(name)
        return self.tiers[rank - 1] if rank else None

    def entered(self, value: Decimal) -> str | None:
        """The highest tier whose enter threshold `value` reaches."""
        found = None
        for t in self.tiers:
            if value >= t.enter:
                found = t.name
        return found

    def kept_below(self, rank: int, value: Decimal) -> str | None:
        """The highest tier under `rank` whose keep threshold `value` meets."""
        found = None
        for t in self.tiers[: max(rank - 1, 0)]:
            if value >= t.keep:
                found = t.name
        return found

    def multipliers(self) -> dict[str, Decimal]:
        return {t.name: t.multiplier for t in self.tiers}

    def since(self, at: datetime) -> datetime | None:
        """The earliest moment an entry still counts at `at` (None: lifetime)."""
        if self.window == "trailing":
            return at - timedelta(days=self.window_days)
        if self.window == "calendar_year":
            return datetime(at.astimezone(UTC).year, 1, 1, tzinfo=UTC)
        return None
