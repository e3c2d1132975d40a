"""What the CRM stream's flow triggers read of a profile change, as domain values.

The stream handler decodes each CRM-table image where it enters (adapters/profile_items.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.customer_profile import CustomerProfile


@dataclass(frozen=True)
class ProfileImage:
    """One stored version of a customer's profile."""

    workspace_id: str
    customer_id: str
    orders: int = 0  # orders counted
    first_order_at: datetime | None = None
    member: bool = False
    birthday: str | None = None  # as the storefront gave it (YYYY-MM-DD or --MM-DD)
    # the whole profile, for what reads more of it (its zone, for a birthday's local midnight)
    profile: CustomerProfile | None = None


@dataclass(frozen=True)
class ProfileChange:
    """A CRM-table change: the profile before and after (None: not a profile, e.g. a
    pointer it was merged into, or erased)."""

    before: ProfileImage | None = None
    after: ProfileImage | None = None

    @property
    def quiet(self) -> bool:
        """A profile a history import wrote (`imp`): the import's recompute keeps its
        memberships, and no flow starts from it (domain/batch_import.py)."""
        after = self.after
        return after is not None and after.profile is not None and after.profile.imported
