"""Stream records that failed all their retries are kept on the failure queue and redriven."""

from __future__ import annotations

from patron import operations
from tests.conftest import event_bytes
from tests.integration.conftest import put_order_of_unknown_workspace


def test_a_failed_record_is_redriven_once_its_cause_is_fixed(stage, ws):
    # Given an order for a workspace that does not exist yet, between two good orders
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    put_order_of_unknown_workspace(stage, "ws_late")
    stage.send(ws, "woocommerce", "order.created", event_bytes("woocommerce/order_guest_created.json"))
    stage.drain()
    sqs, streams = stage.client("sqs"), stage.client("dynamodbstreams")
    queue = stage.info.stream_failure_queue_url
    # Then the failure queue holds the batch info Lambda's on-failure destination sends
    (failure,) = operations.stream_failures(sqs, queue)
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stage.info.ingest_stream_arn
    # When redriven before the cause is fixed, it stays on the queue
    first = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    assert (first["applied"], first["failed"]) == (0, 1)
    # When the workspace is created (the fix) and the queue is redriven
    stage.container.workspaces.create_workspace("ws_late", "Late Brand", "USD", "0" * 64)
    second = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    # Then the order reached its profile and the queue is empty
    assert (second["messages"], second["applied"], second["failed"]) == (1, 1, 0)
    settings = stage.container.workspaces.settings("ws_late")
    (profile,) = stage.container.profile_store.find("ws_late", settings.id_salt, ["email:late@example.com"])
    assert profile["n"] == 1 and profile["spent"] == 25
    assert operations.stream_failures(sqs, queue) == []
    # and redriving again changes nothing
    assert operations.redrive_stream_failures(stage.container, sqs, streams, queue)["messages"] == 0


def test_a_failed_profile_stream_batch_is_redriven_into_memberships(stage, ws, monkeypatch):
    import json

    from chalicelib.domain.errors import Conflict
    from tests.integration.test_membership import create_segment

    # Given a segment, and a segment processor whose membership store keeps failing
    big = create_segment(stage, ws, "Over 100", "total_spent > 100")
    membership = stage.container.membership

    def down(*args, **kwargs):
        raise Conflict("membership store unavailable")

    monkeypatch.setattr(membership, "apply", down)
    # When Jane orders and the profile stream's retries are exhausted
    stage.send(ws, "shopify", "orders/create", event_bytes("shopify/orders_create.json"))
    stage.drain()
    sqs, streams = stage.client("sqs"), stage.client("dynamodbstreams")
    queue = stage.info.stream_failure_queue_url
    # Then the failure is on the queue, from the CRM table's stream, and Jane is in no segment
    (failure,) = operations.stream_failures(sqs, queue)
    assert failure["DDBStreamBatchInfo"]["streamArn"] == stage.info.crm_stream_arn
    assert json.loads(stage.get(ws, f"/segments/{big}").body)["size"] == 0
    # When the store is back and the queue is redriven
    monkeypatch.undo()
    counts = operations.redrive_stream_failures(stage.container, sqs, streams, queue)
    # Then Jane's memberships are what the stream would have made them, and the queue is empty
    assert counts["failed"] == 0 and counts["applied"] >= 1
    shown = json.loads(stage.get(ws, f"/segments/{big}").body)
    assert shown["size"] == 1
    assert operations.stream_failures(sqs, queue) == []
    # and a second redrive finds nothing
    assert operations.redrive_stream_failures(stage.container, sqs, streams, queue)["messages"] == 0
