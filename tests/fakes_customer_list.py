"""An in-memory CustomerIndex (domain/customer_list.py): the search indexes over the
profiles it is given, and the tier states."""

from __future__ import annotations

import json

from chalicelib.domain.customer_list import SearchKind, bad_cursor, search_keys
from chalicelib.domain.customer_profile import CustomerProfile


class FakeCustomerIndex:
    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], CustomerProfile] = {}
        self.tiers: dict[tuple[str, str], str] = {}

    def given_profile(self, profile: CustomerProfile) -> None:
        self.profiles[(profile.workspace_id, profile.customer_id)] = profile

    def given_tier(self, workspace_id: str, customer_id: str, tier: str) -> None:
        self.tiers[(workspace_id, customer_id)] = tier

    def prefix(
        self, workspace_id: str, kind: SearchKind, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        entries = sorted(
            (value, cid)
            for (ws, cid), profile in self.profiles.items()
            if ws == workspace_id and (value := search_keys(profile).get(kind)) and value.startswith(prefix)
        )
        if cursor:
            try:
                after = tuple(json.loads(cursor))
            except ValueError as exc:
                raise bad_cursor() from exc
            entries = [e for e in entries if e > after]
        page = entries[:limit]
        more = json.dumps(list(page[-1])) if len(entries) > limit else None
        return [cid for _, cid in page], more

    def in_tier(
        self, workspace_id: str, tier: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        ids = sorted(cid for (ws, cid), t in self.tiers.items() if ws == workspace_id and t == tier)
        if cursor:
            ids = [cid for cid in ids if "C#" + cid > cursor]
        return ids[:limit], ("C#" + ids[limit - 1] if len(ids) > limit else None)
