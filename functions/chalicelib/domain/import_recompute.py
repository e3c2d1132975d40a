"""After a history import: the workspace's scores, then every touched customer's
memberships, once (domain/batch_import.py).

The import's profiles carry `imp`, which the CRM stream's consumer skips, so none of them
has memberships yet, and the nightly scoring's walk (the lifecycle member lists) cannot
list them. So the scoring runs first (`ScoringService.rescore`), with the touched
profiles counted beside the walk's customers: the RFM edges, store rhythm and model are
computed from the whole history and saved, and the memberships of the customers the walk
lists are re-applied where they move. Then each touched customer's memberships are
evaluated once, under those scores, with every segment of the workspace (quietly: an
imported profile publishes no segment event). Memberships first and scores after would
write most of them twice: every customer's RFM group moves when the edges appear.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.loyalty.ports import ImportPoints
from chalicelib.domain.ports import MembershipApplier, ProfilePages, Rescorer

PAGE = 100


class WorkspaceRecompute:
    def __init__(
        self,
        membership: MembershipApplier,
        profiles: ProfilePages,
        scoring: Rescorer | None = None,
        points: ImportPoints | None = None,
    ) -> None:
        self.membership = membership
        self.profiles = profiles
        self.scoring = scoring
        self.points = points  # the workspace's import policy for points (domain/loyalty/history.py)

    def recompute(self, workspace_id: str, customer_ids: Sequence[str], now: datetime) -> dict[str, Any]:
        ids = list(dict.fromkeys(customer_ids))
        scores = (
            self.scoring.rescore(workspace_id, now, self._live(workspace_id, ids)) if self.scoring else {}
        )
        written = 0
        for start in range(0, len(ids), PAGE):
            page = ids[start : start + PAGE]
            live = self.profiles.load_many(workspace_id, page)
            for cid in page:  # absent: merged away since (its memberships go)
                written += self.membership.apply(workspace_id, cid, live.get(cid), now).written
        result = {"customers": len(ids), "memberships_written": written, "scores": scores}
        if self.points is not None:
            result["points"] = self.points.apply(workspace_id, ids, now)
        return result

    def _live(self, workspace_id: str, ids: list[str]) -> Iterator[CustomerProfile]:
        for start in range(0, len(ids), PAGE):
            yield from self.profiles.load_many(workspace_id, ids[start : start + PAGE]).values()
