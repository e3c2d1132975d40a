"""Sales stores contract (sales.ports.OpportunityStore, SalesSettingsStore): DynamoSalesStore on
moto and the fake (tests/fakes_sales.py) keep opportunities, their logs, guards, wait marks and
settings alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.adapters.sales_store import DynamoSalesStore
from chalicelib.domain.errors import Conflict
from chalicelib.domain.sales.model import OpportunityEvent, OpportunityEventKind, apply, reduce
from chalicelib.domain.sales.settings import DEFAULT_STAGES, Rule, SalesSettings, Target
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_sales import FakeSalesStore

__all__ = ["moto_stage"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _dynamo(stage: MotoStage) -> DynamoSalesStore:
    return DynamoSalesStore(stage.crm)


store = port_fixture(FakeSalesStore, _dynamo)


def created(oid: str, customer: str = "c_1", at: datetime = T0, **data: object):  # type: ignore[no-untyped-def]
    values = {"customer_id": customer, "title": "Bulk", "stage": "new", "outcome": "open", "value": "10.50"}
    event = OpportunityEvent(OpportunityEventKind.CREATED, at, "key:abc", values | {"currency": "EUR"} | data)
    return reduce("ws_a", oid, [event]), event


def test_an_opportunity_loads_with_its_log_and_lists_newest_first(store):
    # Given two opportunities, one from a ticket with a close date
    first, e1 = created("op_1")
    second, e2 = created("op_2", ticket_id="tk_1", source="ticket", expected_close="2026-04-01", owner="ana")
    # When both are created and read
    assert store.create(first, e1) and store.create(second, e2, guard="ticket:tk_1")
    # Then each loads as written, the list is newest first, the guard names the second
    assert store.load("ws_a", "op_2") == (second, [e2])
    assert [o.id for o in store.all("ws_a")] == ["op_2", "op_1"]
    assert store.guarded("ws_a", "ticket:tk_1") == "op_2" and store.guarded("ws_a", "ticket:tk_9") is None
    assert store.load("ws_a", "op_none") is None and store.all("ws_b") == []


def test_a_guard_opens_one_opportunity_per_source(store):
    first, e1 = created("op_1")
    other, e2 = created("op_2")
    assert store.create(first, e1, guard="rule:big:checkout:k1")
    # When a second opportunity claims the same checkout
    assert store.create(other, e2, guard="rule:big:checkout:k1") is False
    # Then nothing of it was written
    assert store.load("ws_a", "op_2") is None and [o.id for o in store.all("ws_a")] == ["op_1"]


def test_an_append_writes_its_events_only_from_the_seq_it_read_and_moves_marks(store):
    # Given an opportunity a segment rule opened
    o, e = created("op_1", source="rule:vip")
    store.create(o, e, guard="rule:vip:customer:c_1")
    at = T0 + timedelta(days=1)
    note = OpportunityEvent(OpportunityEventKind.NOTED, at, "key:a", {"body": "hi"})
    won = OpportunityEvent(
        OpportunityEventKind.STAGE_CHANGED, at, "key:a", {"from": "new", "to": "won", "outcome": "won"}
    )
    after = apply(apply(o, note), won)
    # When two events are appended at once (the guard released, the wait marked), then a stale writer
    assert store.append(o, [note, won], after, release="rule:vip:customer:c_1", wait=True)
    late = OpportunityEvent(OpportunityEventKind.NOTED, at, "key:b", {"body": "late"})
    assert store.append(o, [late], apply(o, late)) is False
    # Then the log holds both, the head is their reduction, the guard is gone and the customer waits
    head, events = store.load("ws_a", "op_1")
    assert events == [e, note, won] and head == after == reduce("ws_a", "op_1", events)
    assert store.guarded("ws_a", "rule:vip:customer:c_1") is None
    assert store.waiting("ws_a", "c_1") == ["op_1"] and store.waiting("ws_a", "c_10") == []
    # And linking the order deletes the mark
    link = OpportunityEvent(
        OpportunityEventKind.ORDER_LINKED,
        at,
        "patron",
        {"order_id": "shop.1", "actual_value": "9", "difference": "-1.50"},
    )
    assert store.append(after, [link], apply(after, link), wait=False)
    assert store.waiting("ws_a", "c_1") == []
    assert store.load("ws_a", "op_1")[0].difference == Decimal("-1.50")


def test_settings_default_then_are_written_over_the_version_read(store):
    # Given a workspace that set nothing: the defaults, never written
    s = store.sales_settings("ws_a")
    assert (s.stages, s.stale_days, s.version) == (DEFAULT_STAGES, 14, None)
    # When targets and rules are saved, then saved again from the stale read
    chosen = replace(
        s,
        stale_days=7,
        targets=(Target(owner="ana", period="2026-Q1", amount=Decimal("1000")),),
        rules=(Rule(id="big", trigger="checkout_abandoned", min_value=Decimal("500"), owner="bob"),),
    )
    store.save_sales_settings("ws_a", chosen)
    with pytest.raises(Conflict):
        store.save_sales_settings("ws_a", chosen)
    # Then they read back, version 0
    assert store.sales_settings("ws_a", fresh=True) == replace(chosen, version=0)
    assert store.sales_settings("ws_b") == SalesSettings()
