"""Message statistics per campaign and per flow: one counter item per scope.

A message key names its scope: `camp:<campaign>[:...]` counts for the campaign,
`flow:<flow>:...` for the flow; transactional keys (`txn:...`) count for neither.
Counters (all added atomically, never read-modify-write): `sent`, `delivered`, `opened`,
`clicked`, `bounced`, `complained`, `unsubscribed`, `deferred`, `dropped`, `orders`,
`revenue` (Decimal, in the workspace currency), `open_complaint` (of the dropped: held by the
open-complaint guardrail), `codes_unregistered` (a flow's messages
sent with a coupon its source's store was not asked to create: no Admin API credentials),
`codes_issued` and `codes_registered` (sent with a coupon; one the store created),
`codes_redeemed` and `coupon_revenue` (orders that used a flow's coupons, `coupons.py`).
"""

from __future__ import annotations

from decimal import Decimal

from chalicelib.domain.messaging.model import OPEN_COMPLAINT

COUNTERS = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "complained",
    "unsubscribed",
    "deferred",
    "dropped",
    "open_complaint",  # of the dropped: the customer had an open complaint (docs/service.md)
    "orders",
    "revenue",
    "codes_unregistered",  # flows: sent with a coupon its source's store does not know
    "codes_issued",  # flows: sent with a coupon
    "codes_registered",  # flows: sent with a coupon its source's store created
    "codes_redeemed",  # coupons an order used (taken back when it is cancelled or refunded)
    "coupon_revenue",  # those orders' net revenue (Decimal, workspace currency)
)


def counted(status: str, reason: str) -> list[str]:
    """The counters one decision adds to: its status, and `open_complaint` for a message the
    open-complaint guardrail dropped (messaging.model.OPEN_COMPLAINT)."""
    return [status, "open_complaint"] if reason == OPEN_COMPLAINT else [status]


def scope_of(key: str) -> str | None:
    """`camp#<id>` or `flow#<id>` for a marketing message key; None for anything else."""
    kind, _, rest = key.partition(":")
    name = rest.split(":", 1)[0]
    if kind in ("camp", "flow") and name:
        return f"{kind}#{name}"
    return None


def variant_scope(scope: str, variant: str) -> str:
    """The counters of one A/B variant of a campaign or flow: `<scope>#v#<variant>`."""
    return f"{scope}#v#{variant}"


class NoStats:
    """For callers that keep no statistics (and for tests that do not look at them)."""

    def add(self, workspace_id: str, scope: str, counts: dict[str, int | Decimal]) -> None:
        return None

    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal]:
        return {}
