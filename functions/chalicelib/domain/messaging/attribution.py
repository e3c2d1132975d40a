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
from chalicelib.domain.messaging.ports import AttributionStore as AttributionStore
from chalicelib.domain.messaging.ports import ClickReader as ClickReader
from chalicelib.domain.messaging.ports import ProfileLookup as ProfileLookup
from chalicelib.domain.messaging.ports import WorkspaceReader
from chalicelib.domain.messaging.stats import variant_scope

DEFAULT_WINDOW_DAYS = 5


def first_seen(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """The order itself arrives: a refund that came first left an item without history."""
    if not new or new.get("t") != "order" or not new.get("hist"):
        return False
    return not (old and old.get("t") == "order" and old.get("hist"))


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
        self,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        now: datetime,
        customer_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The attribution recorded for this change (None: nothing to attribute).

        `customer_id`: the profile the same record just updated, when known; when it is the
        id the order's identity gives (no merge), there is no survivor to look up."""
        survivor = customer_id
        if not first_seen(old, new):
            return None
        assert new is not None
        settings = self.workspaces.settings(new.get("ws", ""))
        if settings is None:
            return None
        person = new.get("p") or {}
        keys = identity_keys(person.get("e"), person.get("ph"), person.get("x"))
        if not keys:
            return None
        customer_id = customer_id_for(settings.id_salt, keys[0])
        click = self.clicks.last_click(new["ws"], customer_id)
        if click is None and survivor is not None and survivor != customer_id:
            customer_id = survivor
            click = self.clicks.last_click(new["ws"], customer_id)
        elif click is None and survivor is None and self.profiles is not None:
            # a merged-away id points to the survivor, who got the mail
            profile = self.profiles.get(new["ws"], customer_id)
            if profile and profile.get("cid") and profile["cid"] != customer_id:
                customer_id = str(profile["cid"])
                click = self.clicks.last_click(new["ws"], customer_id)
        created = timemath.parse_iso(new.get("ca")) or timemath.parse_iso(new["hist"][0][1])
        clicked = timemath.parse_iso(click.at) if click else None
        if click is None or click.scope is None or created is None or clicked is None:
            return None
        window = timedelta(days=getattr(settings, "attribution_days", None) or DEFAULT_WINDOW_DAYS)
        if not clicked <= created <= clicked + window:
            return None
        revenue = settings.convert(Decimal(str(new.get("tot") or 0)), new.get("cur"))
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
        if not self.store.record(new["ws"], new["pk"], attribution, scopes):
            return None  # attributed before: a replay
        return attribution
