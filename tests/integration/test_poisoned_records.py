"""Input that cannot poison: items stored before webhooks checked dates (year 9999, epoch
0) are handled like any other, and one item no code can read (a date past year 9999,
written into the table by hand) is skipped and reported by the backfill, the nightly
scores, the hourly recheck and the redrive, which all complete with everyone else."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.adapters.codec import to_item
from chalicelib.domain import timemath
from chalicelib.domain.models import Platform
from chalicelib.handlers import jobs
from patron import operations
from patron.poller import LambdaContext
from tests.conftest import event_bytes, load_event
from tests.integration.test_backfill_and_models import all_members, immediate_backfill, seed_profiles
from tests.integration.test_membership import create_segment
from tests.unit.fakes import order_item

__all__ = ["immediate_backfill"]  # the fixture, for pytest

UNREADABLE = "10000-01-01T00:00:00.000000Z"  # no datetime holds it: every read of it raises
SCHEDULED = "eventbridge/scheduled_event.json"


def put_stored_order(stage, ws, email: str, order_id: str, created_at: str) -> None:
    """Write, behind the webhook's back, a generic order placed at `created_at`: an order
    stored before webhooks checked dates."""
    body = load_event("generic/order.json")
    body.update(id=order_id, customer={"email": email}, line_items=[])
    item = order_item(
        Platform.GENERIC,
        "order",
        body,
        workspace_id=ws.workspace_id,
        source_id=ws.sources["generic"]["source_id"],
    )
    item["ca"] = created_at
    stage.client("dynamodb").put_item(TableName=stage.info.ingest_table, Item=to_item(item))


def poison(stage, workspace_id: str, customer_id: str) -> None:
    """Overwrite a profile's last order time with one no code can read."""
    stage.client("dynamodb").update_item(
        TableName=stage.info.crm_table,
        Key={"pk": {"S": f"W#{workspace_id}#P#{customer_id}"}, "sk": {"S": "P"}},
        UpdateExpression="SET #l = :bad",
        ExpressionAttributeNames={"#l": "last"},
        ExpressionAttributeValues={":bad": {"S": UNREADABLE}},
    )


def profile_of(stage, ws, email: str) -> dict[str, Any]:
    (customer,) = json.loads(stage.get(ws, f"/customers?email={email}").body)["customers"]
    return customer


def assert_reported(result: dict[str, Any], customer_id: str) -> None:
    """One failure, named by its ids, with the reason and no personal data."""
    assert result["failed"] == 1
    (failure,) = result["failures"]
    assert customer_id in json.dumps(failure)
    assert failure["reason"].startswith("ValueError")
    assert "@" not in json.dumps(result)


def test_orders_stored_in_year_9999_and_at_the_epoch_are_handled_like_any_other(stage, ws):
    # Given a segment, and two orders stored before webhooks checked dates
    segment_id = create_segment(stage, ws, "Buyers", "orders_count >= 1")
    put_stored_order(stage, ws, "future@example.com", "F-1", "9999-12-31T09:59:59.000000Z")
    put_stored_order(stage, ws, "epoch@example.com", "E-1", "1970-01-01T00:00:00.000000Z")
    # When the streams process them
    stage.drain()
    # Then nothing failed, and both customers are in the segment
    assert stage.failures == []
    future, epoch = profile_of(stage, ws, "future@example.com"), profile_of(stage, ws, "epoch@example.com")
    assert all_members(stage, ws, segment_id) == {future["customer_id"], epoch["customer_id"]}
    # And the epoch order is the customer's first and last order (it used to leave them empty)
    assert epoch["orders_count"] == 1
    assert epoch["first_order_at"] == epoch["last_order_at"] == "1970-01-01T00:00:00.000000Z"
    # And the year-9999 customer's segments answer (it was a 500): a new customer
    response = stage.get(ws, f"/customers/{future['customer_id']}/segments")
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["lifecycle"] == "new"


def test_the_backfill_skips_a_poisoned_profile_and_finishes_with_the_others(stage, immediate_backfill):
    # Given 30 customers, one of whose profiles holds a date no code can read
    ws = stage.create_workspace("Poisoned backfill")
    profiles = seed_profiles(stage, ws, 30, seed=3)
    bad = sorted(profiles)[5]
    poison(stage, ws.workspace_id, bad)
    expected = {cid for cid, item in profiles.items() if int(item["n"]) >= 2 and cid != bad}
    # When a segment is created and the minute job runs
    segment_id = create_segment(stage, ws, "Repeat buyers", "orders_count >= 2")
    result = jobs.segment_backfill(load_event(SCHEDULED), LambdaContext("backfill"))
    # Then the sweep finished, every other customer was evaluated, and the bad one reported
    assert result["sweeps_finished"] == 1
    assert result["customers_evaluated"] == 30
    assert_reported(result, bad)
    assert json.loads(stage.get(ws, f"/segments/{segment_id}").body)["backfill"]["state"] == "complete"
    assert all_members(stage, ws, segment_id) - {bad} == expected


def test_the_nightly_job_scores_the_others_and_reports_the_poisoned_profile(stage):
    # Given 30 customers, one of whose profiles holds a date no code can read
    ws = stage.create_workspace("Poisoned nightly")
    profiles = seed_profiles(stage, ws, 30, seed=4)
    bad = sorted(profiles)[7]
    poison(stage, ws.workspace_id, bad)
    # When the nightly job runs
    result = jobs.nightly_scores(load_event(SCHEDULED), LambdaContext("nightly", timeout_ms=900_000))
    # Then the workspace is scored from the others, and the bad one is reported
    assert result["profiles_read"] == 30
    assert result["workspaces_updated"] == 1
    assert_reported(result, bad)
    settings = stage.container.workspaces.settings(ws.workspace_id)
    assert settings.rfm_edges is not None and settings.rhythm_days is not None


def test_the_hourly_recheck_skips_a_poisoned_profile_and_rechecks_the_others(stage):
    # Given customers whose segments are due a recheck, one of them poisoned
    ws = stage.create_workspace("Poisoned recheck")
    profiles = seed_profiles(stage, ws, 40, seed=5)
    store = stage.container.membership.store
    due = {cid: timemath.parse_iso(store.get_record(ws.workspace_id, cid).next_check) for cid in profiles}
    due = {cid: at for cid, at in due.items() if at is not None}
    # the poisoned one is due after at least one other within the recheck's first look-back
    bad, at = next(
        (cid, at)
        for cid, at in sorted(due.items(), key=lambda kv: kv[1])
        if any(cid != other and at - timedelta(days=5) <= t <= at for other, t in due.items())
    )
    poison(stage, ws.workspace_id, bad)
    # When the recheck runs just after it was due
    result = stage.container.membership.recheck(at + timedelta(seconds=1))
    # Then the others due were rechecked, the bad one reported, and the run completed
    assert result["rechecked"] >= 2
    assert result["changed"] == result["rechecked"] - 1
    assert_reported(result, bad)
    assert store.recheck_watermark() == timemath.iso(at + timedelta(seconds=1))


def test_the_redrive_applies_the_good_records_and_reports_the_poisoned_one(stage, ws, monkeypatch):
    from chalicelib.domain.errors import Conflict

    # Given a segment, and a segment processor that is down while three profiles change:
    # Jane's order, an order stored in year 9999, and a profile holding an unreadable date
    segment_id = create_segment(stage, ws, "Buyers", "orders_count >= 1")
    membership = stage.container.membership

    def down(*args, **kwargs):
        raise Conflict("membership store unavailable")

    monkeypatch.setattr(membership, "apply", down)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    put_stored_order(stage, ws, "future@example.com", "F-1", "9999-12-31T09:59:59.000000Z")
    put_stored_order(stage, ws, "poisoned@example.com", "P-1", "2026-11-21T16:02:00.000000Z")
    stage.drain()
    bad = profile_of(stage, ws, "poisoned@example.com")["customer_id"]
    poison(stage, ws.workspace_id, bad)
    stage.drain()
    sqs, streams = stage.client("sqs"), stage.client("dynamodbstreams")
    queue = stage.info.stream_failure_queue_url
    assert operations.stream_failures(sqs, queue) != []
    # When the processor is back and the queue is redriven
    monkeypatch.undo()
    counts = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    # Then the good records are applied, and the poisoned one is reported and kept
    assert counts["applied"] >= 2
    assert_reported(counts, bad)
    jane = profile_of(stage, ws, "jane.doe@example.com")["customer_id"]
    future = profile_of(stage, ws, "future@example.com")["customer_id"]
    assert {jane, future} <= all_members(stage, ws, segment_id)
    kept = operations.stream_failures(sqs, queue)  # the batches that hold the poisoned record
    assert kept and all(k["DDBStreamBatchInfo"]["streamArn"] == stage.info.crm_stream_arn for k in kept)
