"""The ingest pipeline: a notification the provider refuses for now is held, not failed, so
the profiles behind it on the shard do not wait; the minute job sends it later."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.order_items import ingest_change, order_image
from chalicelib.domain.ingest_images import OrderImage
from chalicelib.domain.messaging.model import Decision, Throttled
from chalicelib.domain.models import Platform
from chalicelib.domain.pipeline import IngestPipeline
from tests.unit.fakes import RecordingEffects, new_service, order_item

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Provider(RecordingEffects):
    """Notifications whose provider throttles while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def on_order_change(self, change: Any, now: Any) -> list[Any]:
        super().on_order_change(change, now)
        if self.down:
            raise Throttled("Maximum sending rate exceeded")
        return [Decision("sent", provider_id="ses-1")]


class Held:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], datetime] = {}

    def hold(self, workspace_id: str, item_key: str, at: datetime) -> None:
        self.items[(workspace_id, item_key)] = at

    def held(self, limit: int) -> list[tuple[str, str]]:
        return sorted(self.items)[:limit]

    def release(self, workspace_id: str, item_key: str) -> None:
        del self.items[(workspace_id, item_key)]


class Orders:
    def __init__(self, *items: dict[str, Any]) -> None:
        self.items = {i["pk"]: i for i in items}

    def order_images(self, keys: list[str]) -> list[OrderImage]:
        return [order_image(self.items[k]) for k in keys if k in self.items]


def pipeline(order: dict[str, Any]) -> tuple[IngestPipeline, Any, Provider, Held]:
    profiles, store = new_service()
    provider, held = Provider(), Held()
    return IngestPipeline(profiles, provider, provider, provider, held, Orders(order)), store, provider, held


def test_a_throttled_notification_is_held_and_the_record_goes_through():
    # Given SES throttling
    order = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    ingest, store, provider, held = pipeline(order)
    # When a new order comes down the stream
    outcome = ingest.apply(ingest_change(None, order), NOW)
    # Then the profile is written, and the notification is held instead of failing the record
    assert outcome.profile.outcome == "applied" and store.profile()["n"] == 1
    assert outcome.held and outcome.decisions == []
    assert held.items == {(order["ws"], order["pk"]): NOW}
    # and the flow triggers and attribution still ran
    assert [kind for kind, _, _ in provider.calls] == ["notifications", "triggers", "attribution"]


def test_the_minute_job_sends_what_was_held_then_lets_it_go():
    order = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    ingest, _, provider, held = pipeline(order)
    ingest.apply(ingest_change(None, order), NOW)
    # When the job runs while SES still throttles, the order stays held
    assert ingest.retry_held(NOW) == {"sent": 0, "released": 0, "still_held": 1, "errors": []}
    assert held.items
    # When it runs once SES takes mail again, the notification goes from the order as it is now
    provider.down = False
    assert ingest.retry_held(NOW) == {"sent": 1, "released": 1, "still_held": 0, "errors": []}
    assert held.items == {}
    assert provider.calls[-1] == ("notifications", "order", None)


def test_a_failure_that_is_not_a_refusal_for_now_still_fails_the_record():
    order = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    ingest, _, provider, held = pipeline(order)

    def broken(*args: Any) -> list[Any]:
        raise RuntimeError("template missing")

    provider.on_order_change = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        ingest.apply(ingest_change(None, order), NOW)
    assert held.items == {}


def test_a_held_order_whose_send_fails_otherwise_stays_held_and_is_reported_by_its_key():
    order = order_item(Platform.SHOPIFY, "orders/create", "shopify/orders_create.json")
    ingest, _, provider, held = pipeline(order)
    ingest.apply(ingest_change(None, order), NOW)

    def rejected(*args: Any) -> list[Any]:
        raise RuntimeError("message rejected")

    provider.on_order_change = rejected  # type: ignore[method-assign]
    result = ingest.retry_held(NOW)
    assert result["errors"] == [{"item": order["pk"], "error": "RuntimeError"}]
    assert result["released"] == 0 and list(held.items) == [(order["ws"], order["pk"])]
