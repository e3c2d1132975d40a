"""Property: any permutation, duplication and delay of a store's deliveries gives the same
profiles as the in-order delivery.

Driven through the real ingest path in process: signed webhooks into IngestService (the
real parsers), the fake ingest store (tests/fakes_ports.py, held to DynamoIngestStore by
tests/integration/test_contract_ingest_store.py) whose writes make stream records, and
those records through IngestPipeline and ProfileService into the fake profile store.
tests/integration/test_ingest_properties_moto.py runs a few schedules on moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings

from chalicelib.adapters.order_items import ingest_change
from chalicelib.domain.ingest import IngestService, shop_key
from chalicelib.domain.models import Platform, Source
from chalicelib.domain.pipeline import IngestPipeline
from chalicelib.domain.profiles import ProfileService
from patron.storefront import headers_for
from tests.fakes_ports import FakeIngestStore, FakeQuarantine, FakeSecretStore, FakeWorkspaceDirectory
from tests.ingest_schedule import (
    BASE,
    RECEIVED,
    SECRETS,
    SHOPS,
    WS,
    Delivery,
    Schedule,
    Stream,
    draw_schedule,
    profile_views,
)
from tests.unit.fakes import REGISTRIES, FakeProfileStore, RecordingEffects

PROPERTY = settings(
    max_examples=150,
    derandomize=True,  # the same examples on every run: no seed, no example database
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Stage:
    """One workspace with a Shopify, a WooCommerce and a generic source, in memory."""

    def __init__(self) -> None:
        self.directory = FakeWorkspaceDirectory()
        self.directory.create_workspace(WS, "Demo Brand", "USD", rates={"EUR": Decimal("1.10")})
        self.secrets = FakeSecretStore()
        for n, (platform, shop) in enumerate(SHOPS.items()):
            ref = self.secrets.create(f"{platform}-secret", SECRETS[platform], {})
            self.directory.add_source(
                Source(
                    workspace_id=WS,
                    source_id=f"src_{n}",
                    platform=Platform(platform),
                    shop_domain=shop_key(shop),
                    secret_ref=ref,
                )
            )
        self.store = FakeIngestStore()
        self.ingest = IngestService(self.directory, self.secrets, self.store, FakeQuarantine(), REGISTRIES)
        self.profiles = FakeProfileStore()
        pipeline = IngestPipeline(ProfileService(self.profiles, self.directory), *[RecordingEffects()] * 3)
        self.stream = Stream(
            self.store.stream, lambda old, new: pipeline.apply(ingest_change(old, new), RECEIVED)
        )

    def deliver(self, delivery: Delivery) -> str:
        body = delivery.body
        headers = headers_for(
            delivery.platform, SHOPS[delivery.platform], delivery.topic, SECRETS[delivery.platform], body,
            delivery.delivery_id,
        )  # fmt: skip
        if delivery.triggered_at is not None:
            headers["X-Shopify-Triggered-At"] = delivery.triggered_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lowered = {k.lower(): v for k, v in headers.items()}
        return self.ingest.receive(Platform(delivery.platform), lowered, body).status

    def run(self, schedule: Schedule) -> list[str]:
        statuses = []
        for delivery, steps in zip(schedule.deliveries, schedule.stream, strict=True):
            statuses.append(self.deliver(delivery))
            for item, retry in steps:
                self.stream.step(item, retry)
        self.stream.drain()
        return statuses

    def views(self) -> dict[frozenset[str], dict[str, Any]]:
        return profile_views(self.profiles.items)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    # The webhook stamps its receipt time, and dates are checked against it: a fixed clock
    with time_machine.travel(RECEIVED, tick=False):
        yield


def in_order() -> Stage:
    stage = Stage()
    stage.run(Schedule(list(BASE), [[] for _ in BASE]))  # each record handled as it is written
    return stage


def test_in_order_delivery_makes_the_profiles_the_fixtures_describe():
    # Given the store's history delivered in order
    stage = in_order()
    views = stage.views()
    # Then Jane (Shopify and the generic POS), Lena (WooCommerce) and the guest Tobias are
    # three profiles, and Sam's abandoned checkout makes none
    assert len(views) == 3
    jane = next(v for k, v in views.items() if "email:jane.doe@example.com" in k)
    lena = next(v for k, v in views.items() if "email:lena.hofer@example.org" in k)
    # Jane's Shopify order was cancelled (it counts for nothing); her POS order counts, refunded
    assert jane["n"] == 1 and len(jane["orders"]) == 2
    assert jane["srcs"] == {"src_0", "src_2"}
    # Lena's shipped order was deleted; her first order counts with its refund, in USD
    assert lena["n"] == 1 and len(lena["orders"]) == 2
    assert lena["refd"] == Decimal("11.00") and lena["unconv"] is None


@PROPERTY
@given(schedule=draw_schedule())
def test_any_permutation_duplication_and_delay_gives_the_in_order_profiles(schedule: Schedule):
    # Given the profiles the in-order delivery makes
    expected = in_order().views()
    # When the same deliveries arrive in another order, some twice, and the stream takes
    # its records late, interleaved across items, some of them twice
    stage = Stage()
    statuses = stage.run(schedule)
    # Then every delivery is answered, and the profiles are the same: identities, merges
    # (which identities share a profile), fields, order entries and totals
    assert set(statuses) <= {"stored", "duplicate", "stale"}
    assert stage.views() == expected


@pytest.mark.parametrize("late", [False, True], ids=["in-order", "stream-late"])
def test_a_profile_begins_at_its_earliest_record_whatever_order_they_are_processed_in(late: bool):
    # Given Jane's Shopify order (made 20 Nov) and her POS customer record (made 21 Nov)
    order, customer = BASE[2], next(d for d in BASE if d.fixture == "generic/customer.json")
    # When both are delivered, and the stream handles them as they come, or late: the
    # customer record first (shrunk from the property above)
    stage = Stage()
    stage.run(Schedule([order, customer], [[] if late else [(0, None)]] * 2))
    # Then the profile began when the order was made (`created_at`, `customer_days`)
    (view,) = stage.views().values()
    assert view["ca"] == "2026-11-20T15:15:30.000000Z"
