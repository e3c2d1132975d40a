"""The person index: `W#<ws>#PX#<customer id>` / `<kind>#<ref>`, what holds a person outside
their profile's own partitions, listed for an erasure (docs/data-model.md, "Erasure: one
person, everywhere")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalicelib.domain.erasure_values import HeldBy, Holding
from chalicelib.domain.models import now_utc

INDEX = "PX"


def index_pk(workspace_id: str, person_id: str) -> str:
    return f"W#{workspace_id}#{INDEX}#{person_id}"


# The sort-key prefix of each kind of holding the domain lists (docs/data-model.md)
HOLDING_PREFIX = {HeldBy.CHECKOUT: "K", HeldBy.AUDIENCE_EXPORT: "XP", HeldBy.DATA_EXPORT: "DR"}


def holding_refs(holdings: Iterable[Holding]) -> list[tuple[str, str]]:
    """(customer id, `<kind>#<ref>`) of each holding."""
    return [(h.customer_id, f"{HOLDING_PREFIX[h.held_by]}#{h.ref}") for h in holdings]


def index_items(
    workspace_id: str, refs: Iterable[tuple[str, str]], ttl_days: int | None = None
) -> list[dict[str, Any]]:
    """Person-index items: `refs` are (customer id, `<kind>#<ref>`)."""
    ttl = int((now_utc() + timedelta(days=ttl_days)).timestamp()) if ttl_days else None
    return [
        {"pk": index_pk(workspace_id, pid), "sk": ref, "t": "pindex"} | ({"ttl": ttl} if ttl else {})
        for pid, ref in dict.fromkeys(refs)
    ]
