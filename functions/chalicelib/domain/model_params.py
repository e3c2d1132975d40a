"""The fitted BG/NBD + Gamma-Gamma parameters a workspace keeps: a value type (a leaf).

The nightly job fits them (chalicelib.analytics.btyd) and chalicelib.domain.predict scores
customers with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ModelParams:
    """What the nightly fit stores on the workspace item."""

    method: str  # "bgnbd+gamma_gamma" or "heuristic"
    reason: str
    customers: int
    repeat_buyers: int
    fitted_at: str
    r: float = 0.0
    alpha: float = 0.0
    a: float = 0.0
    b: float = 0.0
    p: float = 0.0
    q: float = 0.0
    v: float = 0.0
    # the store-level figures the heuristic falls back on (per day, per order)
    store_rate: float = 0.0
    store_gap: float = 1.0
    store_value: float = 0.0

    @property
    def fitted(self) -> bool:
        return self.method == "bgnbd+gamma_gamma"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ModelParams:
        known = cls.__dataclass_fields__
        kwargs: dict[str, Any] = {}
        for key, raw in value.items():
            if key not in known:
                continue
            kind = known[key].type
            kwargs[key] = int(raw) if kind == "int" else float(raw) if kind == "float" else str(raw)
        return cls(**kwargs)

    def same_as(self, other: ModelParams | None, digits: int = 4) -> bool:
        """Equal to `digits` significant digits (what is worth a write and a re-evaluation)."""
        if other is None or other.method != self.method:
            return False
        for name in ("r", "alpha", "a", "b", "p", "q", "v", "store_rate", "store_gap", "store_value"):
            if _sig(getattr(self, name), digits) != _sig(getattr(other, name), digits):
                return False
        return True


def _sig(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")
