"""Attribution: an order placed within a few days after a click belongs to that message.

The ingest stream's consumer (`domain/pipeline.py`) calls `on_order` for every
change. When an order is first seen, the customer's last marketing click is read from
the engagement item (`lk`: message key, scope, A/B variant, time; the survivor's, when
the order's identity was merged away). If the order was created at or after the click
and within the workspace's window (5 days unless set with `patron workspace messaging
WS --attribution-days N`), the attribution is written once, `W#<ws>#ATTR` /
`<order pk>`, in the same transaction as `orders` 1 and `revenue` (the order total in
the workspace currency, converted as the profile pipeline converts it) added to the
clicked message's scope and its variant's scope. A replayed stream record, or a
redelivered webhook that changes the order, finds the attribution and adds nothing.

Last click wins; refunds and cancellations after the order do not take revenue back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.ingest_images import IngestChange, OrderImage
from chalicelib.domain.messaging.ports import AttributionStore, ClickReader, ProfileLookup, WorkspaceReader
from chalicelib.domain.messaging.stats import variant_scope

DEFAULT_WINDOW_DAYS = 5


def first_seen(before: OrderImage | None, order: OrderImage | None) -> bool:
    """The order itself arrives: a refund that came first left an item without history."""
    if order is None or not order.history:
        return False
    return not (before is not None and before.history)


class AttributionService:
    def __init__(
        self,
        workspaces: WorkspaceReader,
        clicks: ClickReader,
        store: AttributionStore,
        profiles: ProfileLookup | None = None,
    ) -> None:
        self.workspaces = workspaces
        self.clicks = clicks
        self.store = store
        self.profiles = profiles

    def on_order(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> dict[str, Any] | None:
        """The attribution recorded for this change (None: nothing to attribute).

        `customer_id`: the profile the same record just updated, when known; when it is the
        id the order's identity gives (no merge), there is no survivor to look up."""
        survivor = customer_id
        order = change.order
        if order is None or not first_seen(change.order_before, order):
            return None
        workspace_id = order.workspace_id
        settings = self.workspaces.settings(workspace_id)
        if settings is None:
            return None
        person = order.person
        keys = identity_keys(person.email, person.phone, person.ext)
        if not keys:
            return None
        customer_id = customer_id_for(settings.id_salt, keys[0])
        click = self.clicks.last_click(workspace_id, customer_id)
        if click is None and survivor is not None and survivor != customer_id:
            customer_id = survivor
            click = self.clicks.last_click(workspace_id, customer_id)
        elif click is None and survivor is None and self.profiles is not None:
            # a merged-away id points to the survivor, who got the mail
            profile = self.profiles.load(workspace_id, customer_id)
            if profile is not None and profile.customer_id != customer_id:
                customer_id = profile.customer_id
                click = self.clicks.last_click(workspace_id, customer_id)
        created = order.snapshot.created_at or timemath.parse_iso(order.history[0][1])
        clicked = timemath.parse_iso(click.at) if click else None
        if click is None or click.scope is None or created is None or clicked is None:
            return None
        window = timedelta(days=getattr(settings, "attribution_days", None) or DEFAULT_WINDOW_DAYS)
        if not clicked <= created <= clicked + window:
            return None
        revenue = settings.convert(order.total or Decimal(0), order.snapshot.currency)
        counts: dict[str, int | Decimal] = {"orders": 1}
        if revenue is not None:
            counts["revenue"] = revenue
        scopes = {click.scope: counts}
        if click.variant:
            scopes[variant_scope(click.scope, click.variant)] = counts
        attribution = {
            "cid": customer_id,
            "mk": click.key,
            "scope": click.scope,
            "v": click.variant,
            "clicked": click.at,
            "ordered": timemath.iso(created),
            "rev": revenue,
            "cur": settings.currency,
            "at": timemath.iso(now),
        }
        if not self.store.record(workspace_id, order.key, attribution, scopes):
            return None  # attributed before: a replay
        return attribution
