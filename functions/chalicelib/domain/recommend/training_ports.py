"""The daily training's ports and its cursor (docs/data-model.md#recommendations).

adapters/recommend_train_store.py implements `TrainingStore` (`RECTRAIN` / `<ws>` and the
gathered baskets `W#<ws>#RECG`) and `ProductCategories` (the catalogue's partitions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# a gathered row: [customer id, [[placed at (epoch s), [product ids]], ...]]
Row = list[Any]


@dataclass(frozen=True)
class TrainCursor:
    """One workspace's training for one UTC day (or an on-demand run, labelled with its time)."""

    workspace_id: str
    day: str
    phase: str = "gather"  # gather | train | done
    position: str = ""  # the customer walk's position (walk.Position.dumps)
    items: int = 0  # row items written (their numbering)
    profiles_read: int = 0
    baskets: int = 0  # baskets gathered (a customer listed twice counts twice here)
    result: dict[str, int] | None = None  # the done run's figures
    version: int = 0  # every change is conditioned on the version read


class TrainingStore(Protocol):
    def cursors(self) -> dict[str, TrainCursor]:
        """Every workspace's cursor, read consistently."""
        ...

    def start(self, workspace_id: str, day: str) -> TrainCursor | None:
        """A new run for the day; None when another invocation started it."""
        ...

    def advance(self, cursor: TrainCursor, **changes: Any) -> TrainCursor | None:
        """Commit `changes` (TrainCursor fields) at the version read; None when another
        invocation moved the cursor meanwhile."""
        ...

    def put_rows(self, workspace_id: str, day: str, first_item: int, rows: list[Row]) -> int:
        """Store a page's rows from item number `first_item` on (the same numbers when a page
        is redone: the same items); returns the number of items written."""
        ...

    def rows(self, workspace_id: str, day: str) -> list[Row]:
        """Every row stored for the run, in item order."""
        ...


class ProductCategories(Protocol):
    def categories(self, workspace_id: str) -> dict[str, str]:
        """Each catalogue product's category (its first category, else its type), by product id."""
        ...
