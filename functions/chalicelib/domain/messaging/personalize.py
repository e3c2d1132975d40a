"""Template values every marketing message can take from the profile itself."""

from __future__ import annotations

from typing import Any


def last_product(profile: dict[str, Any]) -> str | None:
    """The first title of the customer's latest order (kept on the profile as `lpt`)."""
    names = (profile.get("lpt") or {}).get("n") or []
    return str(names[0]) if names else None


def profile_values(profile: dict[str, Any], store_name: str) -> dict[str, Any]:
    values = {
        "first_name": profile.get("fn"),
        "last_name": profile.get("ln"),
        "store_name": store_name,
        "last_product": last_product(profile),
    }
    return {k: v for k, v in values.items() if v}
