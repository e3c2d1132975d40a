"""Operator actions shared by the CLI, the local stack and the tests."""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.adapters.profile_items import profile_of
from chalicelib.adapters.retry import send_message_batch
from chalicelib.container import Container
from chalicelib.domain.errors import InvalidPayload, NotFound
from chalicelib.domain.failures import Skipped, reason
from chalicelib.domain.ingest import IngestResult
from chalicelib.domain.models import Source


def source_by_id(container: Container, workspace_id: str, source_id: str) -> Source:
    source = container.workspaces.source(workspace_id, source_id)
    if source is None:
        raise NotFound(f"source {source_id} not found in workspace {workspace_id}")
    return source


def replay_quarantined(
    container: Container, workspace_id: str, quarantine_id: str, body: bytes | None = None
) -> IngestResult:
    """Send a quarantined delivery through ingest again, optionally with a corrected body."""
    entry: dict[str, Any] | None = container.quarantine.get(workspace_id, quarantine_id)
    if entry is None:
        raise NotFound(f"quarantine entry {quarantine_id} not found")
    source = source_by_id(container, workspace_id, entry["source_id"])
    raw = body if body is not None else entry["body"]
    try:
        result = container.ingest.replay(source, entry["headers"], raw)
    except InvalidPayload as exc:
        fields = ", ".join(e.get("field", "?") for e in exc.details or [])
        container.quarantine.mark(workspace_id, quarantine_id, "failed", f"still invalid: {fields}")
        raise
    container.quarantine.mark(workspace_id, quarantine_id, "replayed", result.status)
    return result


def stream_failures(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on the stream failure queue, left on it (patron/failures.py)."""
    from patron.failures import failure_messages

    return failure_messages(sqs, queue_url)


def _keys_in_batch(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Keys of the records a failure message names, read back from the stream (24 h retention)."""
    from patron.failures import batch_records

    return [record["dynamodb"]["Keys"] for record in batch_records(streams, info)]


def _current(container: Container, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item as it is now (a redrive applies current state, not the lost records)."""
    from chalicelib.adapters.codec import from_item

    response = container.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
    return from_item(response.get("Item"))


def _redrive_ingest(container: Container, key: dict[str, Any]) -> None:
    """An ingest-table record: the order item's current state, as if first seen, through the
    same pipeline as the stream (profile, notifications, flow runs, attribution). The
    profile write is versioned and every message is claimed by its key, so what was done
    already is not done again."""
    from chalicelib.adapters.order_items import ingest_change
    from chalicelib.domain.models import now_utc

    current = _current(container, container.settings.ingest_table, key)
    container.ingest_pipeline.apply(ingest_change(None, current), now_utc())


def _redrive_crm(container: Container, key: dict[str, Any]) -> None:
    """A CRM-table record: bring that customer's memberships up to date with the profile
    item as it is now (a pointer or a deleted item: the customer left every segment)."""
    pk, sk = key["pk"]["S"], key["sk"]["S"]
    parts = pk.split("#")
    if sk != "P" or len(parts) != 4 or parts[2] != "P":
        return  # not a profile: the segment processor ignores it too
    workspace_id, customer_id = parts[1], parts[3]
    item = _current(container, container.settings.crm_table, key)
    profile = profile_of(item) if item and item.get("t") == "profile" else None
    container.membership.apply(workspace_id, customer_id, profile)


def redrive_stream_failures(container: Container, sqs: Any, streams: Any, queue_url: str) -> dict[str, Any]:
    """Apply the current state of every item a failed stream batch touched, then drop the message.

    Every stream consumer's failures land on one queue; the batch's stream ARN says which
    table (each table's stream has one consumer). An
    ingest item is the source of truth for its profile, and a profile for its
    memberships, and both updates are versioned or write only differences; so applying
    the current state is exactly what the lost records would have done. A record that
    fails again, whatever the error, is reported (its key and why, no personal data) and
    stays on the queue; the redrive goes on with the others.
    """
    crm_stream = f":table/{container.settings.crm_table}/stream/"
    counts = {"messages": 0, "records": 0, "applied": 0}
    skipped = Skipped()
    seen: set[str] = set()
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        received = response.get("Messages", [])
        messages = [m for m in received if m["MessageId"] not in seen]
        for message in received:
            if message["MessageId"] in seen:  # kept for a later redrive: visible again
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        if not messages:
            return counts | skipped.report()
        for message in messages:
            seen.add(message["MessageId"])
            counts["messages"] += 1
            body = json.loads(message["Body"])
            info = body["DDBStreamBatchInfo"]
            redrive = _redrive_crm if crm_stream in info["streamArn"] else _redrive_ingest
            ok = True
            table = "crm" if redrive is _redrive_crm else "ingest"
            for key in _keys_in_batch(streams, info):
                counts["records"] += 1
                try:
                    redrive(container, key)
                except Exception as exc:  # noqa: BLE001 - reported and kept; the others go on
                    ok = False
                    skipped.add(exc, table=table, key=_key_text(key))
                    print(f"still failing: {table} {_key_text(key)}: {reason(exc)}", file=sys.stderr)
                    continue
                counts["applied"] += 1
            if ok:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:  # visible again for the next redrive, once the cause is fixed
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )


def _key_text(key: dict[str, Any]) -> str:
    """A table key as text (`pk|sk`): workspace, source and platform ids, no personal data."""
    return "|".join(str(next(iter(key[k].values()))) for k in ("pk", "sk") if k in key)


def redrive_queue(
    sqs: Any, dead_letter_url: str, target_url: str, max_messages: int = 10_000
) -> dict[str, int]:
    """Move what a queue's dead-letter queue holds back onto the queue, bodies unchanged.

    Each message is deleted from the dead-letter queue only after it was sent again, so a
    crash in between leaves it in both: the consumer handles it twice, and the message
    ledger (campaign batches) or the claim (SES events) makes the second time a no-op."""
    moved = 0
    while moved < max_messages:
        response = sqs.receive_message(
            QueueUrl=dead_letter_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        # entries SQS answers as Failed are sent again; raises before any is deleted if not
        send_message_batch(
            sqs, target_url, [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        )
        sqs.delete_message_batch(
            QueueUrl=dead_letter_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        moved += len(messages)
    return {"moved": moved}


def queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
