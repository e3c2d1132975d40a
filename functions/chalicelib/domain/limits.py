"""Per-workspace request limits on the admin API: a fixed one-minute window per workspace.

One conditional `ADD` per request (`W#<ws>#RATE` / `<minute>`): over the limit, the
request is refused with 429 and `Retry-After` (the seconds left in the minute). Webhooks
are not limited here: a storefront retries what it is refused, and their size is capped
(413) instead.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.errors import TooManyRequests
from chalicelib.domain.ports import WindowCounter


class RequestLimits:
    def __init__(self, counter: WindowCounter, per_minute: int) -> None:
        self.counter = counter
        self.per_minute = per_minute

    def check(self, workspace_id: str, now: datetime) -> None:
        window = f"{now:%Y-%m-%dT%H:%M}"
        expires = int(now.timestamp()) - now.second + 120
        if not self.counter.take(workspace_id, window, self.per_minute, expires):
            raise TooManyRequests(
                f"over this workspace's limit of {self.per_minute} API requests a minute",
                retry_after=60 - now.second,
            )
