"""What a profile write creates besides the profile: identity pointers and merge records.

Value types only (a leaf module); the adapters lay them out as items
(docs/data-model.md, "Profiles").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityPointer:
    """An identity's own customer id leading to the profile that holds the identity (a
    second email, say, that no index finds)."""

    customer_id: str
    into: str
    kind: str  # the identity's kind: email, phone or ext


@dataclass(frozen=True)
class MergeRecord:
    """Two profiles found to be one person: `merged` was folded `into` the other."""

    into: str
    merged: str
    reason: str
    at: str  # ISO UTC text
    orders_moved: int
