"""Segment memberships kept fresh from the profile stream, and by time through the recheck job."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.domain import timemath
from tests.conftest import event_bytes, fresh_events

JANE = "jane.doe@example.com"


def create_segment(stage, ws, name: str, definition: str) -> str:
    response = stage.http.http.post(
        "/segments",
        body=json.dumps({"name": name, "definition": definition}),
        headers={"Authorization": f"Bearer {ws.api_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.body
    return str(json.loads(response.body)["segment_id"])


def events(stage) -> list[dict]:
    sqs = stage.client("sqs")
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=stage.info.segment_events_queue_url, MaxNumberOfMessages=10)
        messages = batch.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=stage.info.segment_events_queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def test_an_order_enters_segments_and_a_cancellation_exits_them(frozen_now, stage, ws):
    # Given a segment of customers who spent over 100
    big = create_segment(stage, ws, "Over 100", "total_spent > 100")
    created, cancelled = fresh_events(
        frozen_now, "shopify/orders_create.json", "shopify/orders_cancelled.json"
    )
    # When Jane orders for 122.00, minutes ago (a new customer)
    stage.send(ws, "shopify", "orders/create", created)
    stage.drain()
    (jane,) = json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"]
    # Then she is a member, counted, listed, and an event says she entered
    shown = json.loads(stage.get(ws, f"/segments/{big}").body)
    assert shown["size"] == 1 and shown["sample"] == [jane["customer_id"]]
    page = json.loads(stage.get(ws, f"/segments/{big}/members").body)
    assert page == {"customers": [jane["customer_id"]], "cursor": None}
    entered = {(e["type"], e["segment_id"]) for e in events(stage)}
    assert ("segment.entered", big) in entered and ("segment.entered", "lifecycle:new") in entered
    # and the built-in member-vs-guest segments hold her as a member (she has an account)
    assert ("segment.entered", "account:member") in entered
    assert json.loads(stage.get(ws, "/segments/account:member").body)["size"] == 1
    assert json.loads(stage.get(ws, "/segments/account:guest").body)["size"] == 0
    assert stage.get(ws, "/segments/account:nobody").status_code == 404
    # When the order is cancelled
    stage.send(ws, "shopify", "orders/cancelled", cancelled)
    stage.drain()
    # Then she left the segment (and the lifecycle moved back to prospect)
    assert json.loads(stage.get(ws, f"/segments/{big}").body)["size"] == 0
    assert json.loads(stage.get(ws, f"/segments/{big}/members").body)["customers"] == []
    left = {(e["type"], e["segment_id"]) for e in events(stage)}
    assert ("segment.exited", big) in left and ("segment.entered", "lifecycle:prospect") in left


def test_a_redelivered_profile_change_emits_nothing_twice(stage, ws):
    create_segment(stage, ws, "Over 100", "total_spent > 100")
    stage.profile_poller = stage.new_profile_poller(duplicate_deliveries=True)
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    emitted = events(stage)
    # one each for the segment, the lifecycle stage and the account kind
    assert len(emitted) == len({(e["type"], e["segment_id"]) for e in emitted}) == 3


def test_time_based_membership_flips_through_the_recheck_job_only(frozen_now, stage, ws):
    # Given a segment of customers who ordered within 30 days, and Jane's order of today
    recent = create_segment(stage, ws, "Recent", "last_order_days <= 30")
    (created,) = fresh_events(frozen_now, "shopify/orders_create.json")
    stage.send(ws, "shopify", "orders/create", created)
    stage.drain()
    (jane,) = json.loads(stage.get(ws, f"/customers?email={JANE}").body)["customers"]
    record = stage.container.membership.store.get_record(ws.workspace_id, jane["customer_id"])
    next_check = timemath.parse_iso(record.next_check)
    events(stage)
    # When the hourly job runs before that time, nothing is touched
    early = stage.container.membership.recheck(next_check - timedelta(days=2))
    early_day = (next_check - timedelta(days=2)).date()
    assert early["rechecked"] == 0 and early["changed"] == 0
    # When it runs once 31 days have passed since her order
    last = timemath.parse_iso(jane["last_order_at"])
    run_at = last + timedelta(days=31, hours=1)
    result = stage.container.membership.recheck(run_at)
    # Then exactly her record was read, and she left the segment; the run read every day's
    # buckets since the previous run (its watermark) up to its own day, 16 shards a day
    assert result["rechecked"] >= 1 and result["changed"] == 1
    assert result["bucket_queries"] == 16 * (run_at.date() - early_day).days + 16
    # And the next run starts where this one ended: one day's buckets
    assert stage.container.membership.recheck(last + timedelta(days=31, hours=2))["bucket_queries"] == 16
    assert json.loads(stage.get(ws, f"/segments/{recent}").body)["size"] == 0
    assert ("segment.exited", recent) in {(e["type"], e["segment_id"]) for e in events(stage)}
