"""The rules that open opportunities by themselves, on the events flows already start on
(domain/messaging/triggers.py), and the won opportunities' orders:

- the ingest stream: a checkout not completed whose total (in the workspace currency) is at
  least a `checkout_abandoned` rule's `min_value` opens one, once per checkout and rule; a
  new order links the customer's won opportunities awaiting their first order;
- segment membership events: a customer entering a `segment_entered` rule's segment opens
  one, once per customer and rule while it is open.

A workspace that set no pipeline settings costs nothing here: its settings are read through
the store's cache, and without rules and without won opportunities waiting there is no
other read. Every effect is keyed (a guard item, an append conditioned on `seq`), so the
at-least-once streams open and link each once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.errors import PatronError
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.ingest_images import CheckoutImage, IngestChange, OrderImage
from chalicelib.domain.ports import IngestTriggers, ProfileReader, WorkspaceReader
from chalicelib.domain.sales.forecast import in_currency
from chalicelib.domain.sales.ports import SalesSettingsStore
from chalicelib.domain.sales.service import SalesService

log = logging.getLogger(__name__)


class IngestFanOut:
    """The ingest pipeline's triggers: the flows' first, then the pipeline's (their runs)."""

    def __init__(self, *triggers: IngestTriggers) -> None:
        self.triggers = triggers

    def on_ingest_change(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> list[str]:
        return [
            run for t in self.triggers for run in t.on_ingest_change(change, now, customer_id=customer_id)
        ]


class SalesTriggers:
    """The pipeline's rules and won orders, on the ingest changes and segment events the
    flows start on (wired beside the flow triggers: container/__init__.py)."""

    def __init__(
        self,
        sales: SalesService,
        settings: SalesSettingsStore,
        workspaces: WorkspaceReader,
        profiles: ProfileReader,
    ) -> None:
        self.sales = sales
        self.settings = settings
        self.workspaces = workspaces
        self.profiles = profiles

    def on_ingest_change(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> list[str]:
        runs: list[str] = []  # opens no flow run
        after = change.order or change.checkout
        if after is None or after.redacted or getattr(after, "imported", False):
            return runs
        settings = self.settings.sales_settings(after.workspace_id)
        if settings.version is None:
            return runs  # no pipeline in this workspace
        if isinstance(after, OrderImage):
            if change.order_before is None and customer_id is not None:
                self.sales.on_order(after.workspace_id, customer_id, now)
            return runs
        if isinstance(after, CheckoutImage) and after.completed_at is None:
            self._checkout(after, [r for r in settings.rules if r.trigger == "checkout_abandoned"], now)
        return runs

    def _checkout(self, checkout: CheckoutImage, rules: list[Any], now: datetime) -> None:
        if not rules or checkout.total is None:
            return
        ws = self.workspaces.settings(checkout.workspace_id)
        if ws is None or not ws.currency:
            return
        total = in_currency(checkout.total, (checkout.currency or ws.currency).upper(), ws.currency, ws.rates)
        due = [r for r in rules if total is not None and total >= r.min_value]
        if not due:
            return
        keys = identity_keys(checkout.person.email, checkout.person.phone, checkout.person.ext)
        if not keys:
            return
        found = self.profiles.find_profiles(checkout.workspace_id, ws.id_salt, keys)
        # a guest: the id their profile will have (as the flows name them)
        customer_id = found[0].customer_id if found else customer_id_for(ws.id_salt, keys[0])
        at = checkout.created_at or now
        for rule in due:
            self._open(
                checkout.workspace_id, rule, customer_id, f"checkout:{checkout.checkout_id}", total, at
            )

    def _open(
        self, workspace_id: str, rule: Any, customer_id: str, key: str, value: Any, at: datetime
    ) -> None:
        """A rule the settings let go wrong (a stage or currency missing) is logged and
        skipped: it must not hold back the stream behind it. AWS failures still raise (the
        record is retried; every effect is keyed)."""
        try:
            made = self.sales.open_from_rule(workspace_id, rule, customer_id, key, value, at)
        except PatronError as exc:
            log.warning("a pipeline rule opened nothing", extra={"rule": rule.id, "error": exc.message})
            return
        if made:
            log.info("opportunity opened by a rule", extra={"rule": rule.id, "opportunity": made})

    # -- segment events (an EventSink of MembershipService) -----------------------------
    def publish(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("type") != "segment.entered":
                continue
            at = timemath.parse_iso(event.get("at"))
            workspace_id = event["workspace_id"]
            if at is None:
                continue
            settings = self.settings.sales_settings(workspace_id)
            for rule in settings.rules:
                if rule.trigger == "segment_entered" and rule.segment == event["segment_id"]:
                    customer_id = event["customer_id"]
                    self._open(workspace_id, rule, customer_id, f"customer:{customer_id}", None, at)
