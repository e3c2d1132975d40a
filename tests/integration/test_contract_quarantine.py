"""Quarantine contract: DynamoQuarantinePages on moto and the fake (tests/fakes_ports.py) keep
signed bodies that could not be parsed, list them newest first a page at a time, filter
them, and record what a replay did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chalicelib.adapters.quarantine import DynamoQuarantinePages, QuarantineFilter
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_ports import FakeQuarantine

__all__ = ["moto_stage"]


def _dynamo(stage: MotoStage) -> DynamoQuarantinePages:
    return DynamoQuarantinePages(stage.crm)


quarantine = port_fixture(FakeQuarantine, _dynamo)
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ERRORS = [{"field": "line_items.0.quantity", "error": "not a number"}]


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def keep(quarantine, clock, n: int, source: str = "src_1", errors=ERRORS) -> list[str]:
    """Keep n bodies, a minute apart; their ids, oldest first."""
    ids = []
    for i in range(n):
        ids.append(
            quarantine.put(
                "ws_a", source, "shopify", {"x-shopify-topic": "orders/create"}, b'{"n": %d}' % i, errors
            )
        )
        clock.shift(timedelta(minutes=1))
    return ids


def test_a_kept_body_is_read_back_whole_and_open(quarantine, clock):
    # When a signed body that could not be parsed is kept
    (qid,) = keep(quarantine, clock, 1)
    # Then it reads back with its body, kept headers, errors and time, open
    entry = quarantine.get("ws_a", qid)
    assert entry is not None
    assert entry["body"] == b'{"n": 0}'
    assert entry["headers"] == {"x-shopify-topic": "orders/create"}
    assert entry["errors"] == ERRORS
    assert (entry["state"], entry["platform"], entry["source_id"]) == ("open", "shopify", "src_1")
    assert entry["received_at"] == "2026-11-27T12:00:00.000000Z"
    assert quarantine.count_open("ws_a") == 1
    # and another workspace sees nothing of it
    assert quarantine.get("ws_b", qid) is None and quarantine.count_open("ws_b") == 0


def test_a_replay_records_its_outcome_and_closes_the_entry(quarantine, clock):
    # Given two kept bodies
    replayed, failed = keep(quarantine, clock, 2)
    # When one is replayed and the other still fails
    quarantine.mark("ws_a", replayed, "replayed", "stored")
    quarantine.mark("ws_a", failed, "failed", "still invalid: quantity")
    # Then each shows its state and why, and neither is open
    assert {k: quarantine.get("ws_a", replayed)[k] for k in ("state", "detail")} == {
        "state": "replayed",
        "detail": "stored",
    }
    assert quarantine.get("ws_a", failed)["state"] == "failed"
    assert quarantine.count_open("ws_a") == 0


def test_the_list_is_newest_first_a_page_at_a_time(quarantine, clock):
    # Given five kept bodies
    ids = keep(quarantine, clock, 5)
    # When they are listed two at a time
    pages, cursor = [], None
    while True:
        page, cursor = quarantine.page("ws_a", limit=2, after=cursor)
        pages.append([e["quarantine_id"] for e in page])
        if cursor is None:
            break
    # Then the pages hold them all, newest first, and the total counts them
    assert [q for p in pages for q in p] == list(reversed(ids))
    assert [len(p) for p in pages][:2] == [2, 2]
    assert quarantine.count("ws_a") == 5


def test_the_list_filters_by_source_reason_and_time(quarantine, clock):
    # Given bodies from two sources, with different errors, a minute apart
    a = keep(quarantine, clock, 2, "src_1")
    b = keep(quarantine, clock, 2, "src_2", [{"field": "email", "error": "invalid"}])
    # When they are listed by source, by a piece of their errors, and by time
    by_source, _ = quarantine.page("ws_a", where=QuarantineFilter(source_id="src_2"))
    by_reason, _ = quarantine.page("ws_a", where=QuarantineFilter(reason="quantity"))
    window = QuarantineFilter(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    by_time, _ = quarantine.page("ws_a", where=window)
    # Then each gives what matches, newest first, and the counts agree
    assert [e["quarantine_id"] for e in by_source] == list(reversed(b))
    assert [e["quarantine_id"] for e in by_reason] == list(reversed(a))
    assert [e["quarantine_id"] for e in by_time] == [b[0], a[1]]
    assert quarantine.count("ws_a", QuarantineFilter(source_id="src_2")) == 2
    assert quarantine.count("ws_a", window) == 2
