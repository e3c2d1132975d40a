"""A merged person's ledgers, listed (docs/loyalty.md#merged-profiles-one-balance): `GET
/customers/{id}/points` pages the survivor's ledger then each merged id's, every entry once
and naming the id whose ledger holds it, whatever the page size (hypothesis); the profile's
timeline lists them all in time order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.ingest_images import IngestChange
from chalicelib.domain.loyalty.ledger import PointsService, entry_json
from chalicelib.domain.loyalty.merge import LedgerMerges
from chalicelib.domain.loyalty.summary import LoyaltySummaries
from tests.unit.fake_points import FakePointsLedger
from tests.unit.fake_tiers import FakeTierStore
from tests.unit.points_orders import PAID_AT, WS, Settings, on, order

X, Y, S = "c_gone", "c_also", "c_kept"
NOW = PAID_AT + timedelta(days=3)
TODAY = (PAID_AT + timedelta(days=60)).date()


class Profiles:
    """S's profile, with X and Y merged into it (any of the three ids loads it)."""

    def load(self, workspace_id: str, customer_id: str) -> Any:
        if customer_id not in (S, X, Y):
            return None
        return SimpleNamespace(customer_id=S, merged_ids=[X, Y], entry_partitions=lambda: [S, X, Y])


def person(orders: dict[str, int]) -> FakePointsLedger:
    """Orders earned by X, Y and S (`{cid: how many}`, a day apart), then X and Y merged into S."""
    ledger = FakePointsLedger()
    points = PointsService(ledger, Settings(on("1")))
    n = 0
    for cid, count in orders.items():
        for _ in range(count):
            n += 1
            image = order(f"{10 * n}.00", order_id=str(n)).order
            assert image is not None
            snapshot = replace(image.snapshot, created_at=PAID_AT + timedelta(days=n))
            points.on_order(IngestChange(after=replace(image, snapshot=snapshot)), NOW, cid)
    for gone in (X, Y):
        LedgerMerges(ledger).transfer(WS, gone, S, NOW)
    return ledger


def every_page(service: PointsService, cid: str, limit: int) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        page = service.page(WS, cid, TODAY, limit=limit, cursor=cursor)
        pages.append(page.entries)
        if page.cursor is None:
            return pages
        cursor = page.cursor


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(min_value=0, max_value=4),
    y=st.integers(min_value=0, max_value=4),
    s=st.integers(min_value=0, max_value=4),
    limit=st.integers(min_value=1, max_value=6),
)
def test_the_pages_list_every_entry_of_every_ledger_of_the_person_once(x, y, s, limit):
    # Given X, Y and S with some orders each, X and Y merged into S
    ledger = person({X: x, Y: y, S: s})
    service = PointsService(ledger, Settings(on("1")), profiles=Profiles())  # type: ignore[arg-type]
    # When the survivor's points are paged (and a merged-away id's)
    pages = every_page(service, S, limit)
    listed = [(e.customer_id, e.key) for page in pages for e in page]
    # Then every entry of the three ledgers is listed once, the survivor's first, no page over the limit
    stored = [(cid, key) for (ws, cid), entries in ledger.ledgers.items() for key in entries]
    assert sorted(listed, key=str) == sorted(stored, key=str) and len(listed) == len(set(listed))
    assert all(len(page) <= limit for page in pages)
    owners = [cid for cid, _ in listed]
    assert owners == sorted(owners, key=[S, X, Y].index)
    # And the listed points add up to the survivor's balance; a merged-away id reads the same
    assert sum(e.points for page in pages for e in page) == ledger.balance(WS, S).total
    assert [[(e.customer_id, e.key) for e in p] for p in every_page(service, X, limit)] == [
        [(e.customer_id, e.key) for e in p] for p in pages
    ]


def test_an_entry_names_the_ledger_it_came_from():
    # Given X's order merged into S
    ledger = person({X: 1})
    service = PointsService(ledger, Settings(on("1")), profiles=Profiles())  # type: ignore[arg-type]
    # When S's points are read, Then X's earning and transfer show with X's id
    listed = {(e["customer_id"], e["kind"]) for e in map(entry_json, service.page(WS, S, TODAY).entries)}
    assert listed == {(S, "transfer_in"), (X, "earn"), (X, "transfer_out")}


def test_a_cursor_naming_a_ledger_the_person_does_not_have_is_refused():
    # Given S with X and Y merged into it
    service = PointsService(person({X: 1}), Settings(on("1")), profiles=Profiles())  # type: ignore[arg-type]
    # When a cursor names a fourth ledger, Then it is refused (400), not read
    with pytest.raises(BadRequest):
        service.page(WS, S, TODAY, cursor="E#@3#")


def test_the_timeline_lists_the_merged_ledgers_entries_in_time_order_with_their_id():
    # Given X's two orders and S's one, a day apart each, X merged into S
    ledger = person({X: 2, S: 1})
    summaries = LoyaltySummaries(ledger, FakeTierStore(), Settings(on("1")))
    # When S's timeline is read with the profile's merged ids
    events = summaries.timeline(WS, S, [X, Y])
    # Then X's earnings are there, with X's id, every event newest first
    earned = [(e.customer_id, e.order_id) for e in events if e.type == "points_earned"]
    assert earned == [(S, "s1.3"), (X, "s1.2"), (X, "s1.1")]
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    assert sum(e.points or 0 for e in events) == ledger.balance(WS, S).total
