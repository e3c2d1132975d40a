"""CRM-table profile images as the CRM stream's flow triggers see them: one mapping from the
stored profile item (short attributes, docs/data-model.md) to a domain ProfileImage."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.profile_images import ProfileChange, ProfileImage
from chalicelib.domain.timemath import parse_iso


def profile_image(item: dict[str, Any] | None) -> ProfileImage | None:
    """The profile a CRM-table item holds (None: another kind, or none)."""
    if item is None or item.get("t") != "profile":
        return None
    return ProfileImage(
        workspace_id=str(item["ws"]),
        customer_id=str(item["cid"]),
        orders=int(item.get("n") or 0),
        first_order_at=parse_iso(item.get("first")),
        member=bool(item.get("m")),
        birthday=str(item["bd"]) if item.get("bd") else None,
        item=item,
    )


def profile_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> ProfileChange:
    return ProfileChange(before=profile_image(old), after=profile_image(new))
