"""After a history import: every touched customer's memberships, then the workspace's
scores, once (domain/batch_import.py).

The import's profiles carry `imp`, which the CRM stream's consumer skips, so none of them
has memberships yet: they are evaluated here, customer by customer, with every segment of
the workspace (quietly: an imported profile publishes no segment event). Only then can
the nightly scoring walk them (its walk reads the lifecycle member lists): its run for
the workspace is started now (`ScoringService.rescore`), which computes the RFM edges,
store rhythm and model from the whole history and re-applies the memberships those
scores move.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.ports import MembershipApplier, ProfilePages

PAGE = 100


class Rescorer(Protocol):
    def rescore(self, workspace_id: str, now: datetime) -> dict[str, Any]: ...


class WorkspaceRecompute:
    def __init__(
        self, membership: MembershipApplier, profiles: ProfilePages, scoring: Rescorer | None = None
    ) -> None:
        self.membership = membership
        self.profiles = profiles
        self.scoring = scoring

    def recompute(self, workspace_id: str, customer_ids: Sequence[str], now: datetime) -> dict[str, Any]:
        ids = list(dict.fromkeys(customer_ids))
        written = 0
        for start in range(0, len(ids), PAGE):
            page = ids[start : start + PAGE]
            live = self.profiles.load_many(workspace_id, page)
            for cid in page:  # absent: merged away since (its memberships go)
                written += self.membership.apply(workspace_id, cid, live.get(cid), now).written
        scores = self.scoring.rescore(workspace_id, now) if self.scoring is not None else {}
        return {"customers": len(ids), "memberships_written": written, "scores": scores}
