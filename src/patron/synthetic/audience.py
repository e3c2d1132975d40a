"""A campaign's audience: profile attributes of synthetic customers (a first name, a time
zone, an email consent, most with an address), for the campaign benchmark and tests."""

from __future__ import annotations

from typing import Any


def customer(n: int, tz: str = "UTC", consent: str = "subscribed", email: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {"cid": f"c_{n:07d}", "fn": f"Ana{n}", "tz": tz, "ce": {"s": consent}}
    if email:
        item["e"] = f"customer{n}@example.com"
    return item
