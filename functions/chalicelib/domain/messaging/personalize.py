"""Template values every marketing message can take from the profile itself."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile


def profile_values(profile: CustomerProfile, store_name: str) -> dict[str, Any]:
    values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "store_name": store_name,
        "last_product": profile.last_product,
    }
    return {k: v for k, v in values.items() if v}
