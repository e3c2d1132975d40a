"""What starts and ends flow runs: changes the streams already carry.

- the ingest stream (`ingest_stream`, after the profile is updated): a checkout starts `checkout.started`
  runs, its completion ends them; a new order starts `order.placed` runs and ends the
  customer's runs that exit on `ordered`;
- the CRM stream (`profile_stream`): a profile's first order (`order.first`), becoming a
  member (`member.joined`), a birthday learned (`birthday`);
- segment membership events (published before each membership change is saved):
  `segment.entered`, and `segment.exited` for runs that exit on it.

Every trigger is safe to repeat: runs are keyed by flow and trigger key, so the at-least-
once streams enroll each customer once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import timemath
from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.identity import customer_id_for, identity_keys
from chalicelib.domain.ingest_images import CheckoutImage, IngestChange, OrderImage
from chalicelib.domain.messaging.flow_definition import TriggerEvent, birthday_event
from chalicelib.domain.messaging.flows import FlowService
from chalicelib.domain.messaging.model import RunContext
from chalicelib.domain.messaging.ports import ProfileReader, WorkspaceReader
from chalicelib.domain.models import Person
from chalicelib.domain.profile_images import ProfileChange, ProfileImage


class FlowTriggers:
    def __init__(self, flows: FlowService, workspaces: WorkspaceReader, profiles: ProfileReader) -> None:
        self.flows = flows
        self.workspaces = workspaces
        self.profiles = profiles

    # -- the ingest stream ----------------------------------------------------------
    def on_ingest_change(
        self, change: IngestChange, now: datetime, customer_id: str | None = None
    ) -> list[str]:
        """`customer_id`: the profile the same record just updated, when it did (an order);
        otherwise (a checkout, a guest) the customer is looked up here."""
        after = change.order or change.checkout  # customers and privacy requests start nothing
        if after is None or after.redacted:
            return []
        workspace_id = after.workspace_id
        if not self.flows.has_flows(workspace_id):
            return []  # no flows in this workspace: nothing to resolve
        if isinstance(after, OrderImage) and change.order_before is not None:
            return []  # a later state of an order already seen
        if customer_id is None or not isinstance(after, OrderImage):
            customer_id = self._customer(workspace_id, after.person)
        if customer_id is None:
            return []
        if isinstance(after, CheckoutImage):
            return self._checkout(workspace_id, customer_id, after, now)
        placed = after.snapshot.created_at or now
        ended = self.flows.on_exit_event(workspace_id, customer_id, "ordered", placed)
        context = RunContext(
            "order",
            products=list(after.line_names) or None,
            order_number=after.number or after.order_id,
            product=(after.snapshot.source_id, after.first_product) if after.first_product else None,
            source_id=after.snapshot.source_id,
            product_ids=after.product_ids,
        )
        started = self.flows.trigger(
            TriggerEvent("order.placed", workspace_id, customer_id, str(after.order_id), placed, context)
        )
        return ended + started

    def _checkout(
        self, workspace_id: str, customer_id: str, checkout: CheckoutImage, now: datetime
    ) -> list[str]:
        key = checkout.checkout_id
        if checkout.completed_at is not None:
            return self.flows.on_exit_event(
                workspace_id, customer_id, "checkout.completed", checkout.completed_at, key=key
            )
        context = RunContext(
            "checkout",
            products=list(checkout.titles) or None,
            checkout_url=checkout.recovery_url,
            total=checkout.total,
            currency=checkout.currency,
            # a guest has no profile yet: the run keeps what sending needs
            guest=dict(checkout.contact),
            product=(checkout.source_id, checkout.first_product)
            if checkout.source_id and checkout.first_product
            else None,
            source_id=checkout.source_id,
            product_ids=checkout.product_ids,
        )
        started_at = checkout.created_at or now
        return self.flows.trigger(
            TriggerEvent("checkout.started", workspace_id, customer_id, key, started_at, context)
        )

    def _customer(self, workspace_id: str, person: Person) -> str | None:
        settings = self.workspaces.settings(workspace_id)
        keys = identity_keys(person.email, person.phone, person.ext)
        if settings is None or not keys:
            return None
        found = self.profiles.find_profiles(workspace_id, settings.id_salt, keys)
        if found:
            return found[0].customer_id
        return customer_id_for(settings.id_salt, keys[0])

    # -- the CRM stream -------------------------------------------------------------
    def on_profile_change(self, change: ProfileChange, now: datetime) -> list[str]:
        new = change.after
        if new is None or (new.profile is not None and new.profile.imported):
            return []  # a history import's write starts no flow (docs/import.md)
        before = change.before or ProfileImage(new.workspace_id, new.customer_id)
        workspace_id, customer_id = new.workspace_id, new.customer_id
        if not self.flows.has_flows(workspace_id):
            return []
        started: list[str] = []
        if new.orders > 0 and before.orders == 0:
            first = new.first_order_at or now
            started += self.flows.trigger(
                TriggerEvent("order.first", workspace_id, customer_id, "first", first)
            )
        if new.member and not before.member:
            started += self.flows.trigger(
                TriggerEvent("member.joined", workspace_id, customer_id, "member", now)
            )
        if new.birthday and new.birthday != before.birthday:
            settings = self.workspaces.settings(workspace_id)
            profile = new.profile or CustomerProfile(workspace_id, customer_id, birthday=new.birthday)
            started += self.flows.trigger(birthday_event(workspace_id, customer_id, profile, now, settings))
        return started

    # -- segment events (an EventSink of MembershipService) ---------------------------
    def publish(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            at = timemath.parse_iso(event.get("at"))
            if at is None:
                continue
            workspace_id, customer_id, segment = (
                event["workspace_id"],
                event["customer_id"],
                event["segment_id"],
            )
            if not self.flows.has_flows(workspace_id):
                continue
            if event["type"] == "segment.entered":
                self.flows.trigger(
                    TriggerEvent(
                        "segment.entered",
                        workspace_id,
                        customer_id,
                        f"{segment}#{at:%Y-%m-%d}",
                        at,
                        segment=segment,
                    )
                )
            elif event["type"] == "segment.exited":
                self.flows.on_exit_event(workspace_id, customer_id, "segment.exited", at, key=segment)


class FanOutSink:
    """Membership events to several sinks (the stage's queue, the flow triggers)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = [s for s in sinks if s is not None]

    def publish(self, events: list[dict[str, Any]]) -> None:
        for sink in self.sinks:
            sink.publish(events)
