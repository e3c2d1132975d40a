"""What failed, listed page by page with a total: the stream records given up on (the
stream-failure queue, with why each failed) and the quarantine (`patron dlq list`,
`patron quarantine list`). Nothing here prints personal data: records are named by their
item keys (workspace, source and order ids, pseudonymous customer ids) and reasons carry
no addresses."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.failures import table_of


def failure_messages(sqs: Any, queue_url: str, visibility: int = 30) -> list[dict[str, Any]]:
    """Every message on the queue, without consuming any: each is received with a
    visibility timeout so the walk reaches the next ones (receiving with 0 hands back the
    same few again and again), then made visible again at once. Oldest first."""
    depth = int(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    found: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    try:
        while len(found) < depth:
            received = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=1,  # long polling asks every server: an empty answer means none left
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not received:
                break
            for message in received:
                handles.append(message["ReceiptHandle"])
                found.setdefault(
                    message["MessageId"],
                    {
                        "message_id": message["MessageId"],
                        "sent": int(message.get("Attributes", {}).get("SentTimestamp", 0)),
                        **json.loads(message["Body"]),
                    },
                )
    finally:
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ],
            )
    return sorted(found.values(), key=lambda m: (m["sent"], m["message_id"]))


def batch_records(streams: Any, info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The stream records a failure message's batch names (`DDBStreamBatchInfo`), read
    back from the stream, in order (24 h retention: raises once the stream trimmed them)."""
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in response["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return
            yield record
        if not response["Records"]:
            return
        iterator = response.get("NextShardIterator")


def _stream_records(streams: Any, info: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(sequence number, item key) of the records a failure message names; None once the
    stream no longer has them."""
    try:
        found: list[tuple[str, str]] = []
        for record in batch_records(streams, info):
            keys = record["dynamodb"].get("Keys", {})
            key = "/".join(keys[name]["S"] for name in ("pk", "sk") if "S" in keys.get(name, {}))
            found.append((str(record["dynamodb"]["SequenceNumber"]), key))
        return found
    except Exception:  # noqa: BLE001 - trimmed, expired shard, no such stream: use what was recorded
        return None


def _records_of(container: Any, streams: Any, message: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per record of a failed batch, with why it failed when the consumer recorded it."""
    info = message["DDBStreamBatchInfo"]
    table = table_of(info["streamArn"])
    recorded = {
        str(int(item["sk"])): item
        for item in container.stream_failures.between(
            table, info["startSequenceNumber"], info["endSequenceNumber"]
        )
    }
    in_stream = _stream_records(streams, info)
    keys = in_stream if in_stream is not None else [(s, str(r.get("k", ""))) for s, r in recorded.items()]
    rows = []
    for sequence, key in keys:
        failure = recorded.get(str(int(sequence)), {})
        rows.append(
            {
                "table": table,
                "item_key": key,
                "sequence_number": sequence,
                "reason": failure.get("reason") or "no failure of its own recorded: given up with its batch",
                "attempts": failure.get("n"),
                "failed_at": failure.get("at"),
                "condition": message.get("requestContext", {}).get("condition"),
                "message_id": message["message_id"],
            }
        )
    return rows


def dlq_page(
    container: Any, sqs: Any, streams: Any, queue_url: str, page: int = 1, limit: int = 50
) -> dict[str, Any]:
    """A page of the failed stream records (oldest batch first), the total, and the batches."""
    messages = failure_messages(sqs, queue_url)
    total = sum(int(m["DDBStreamBatchInfo"].get("batchSize", 1)) for m in messages)
    first, last = (page - 1) * limit, page * limit
    rows: list[dict[str, Any]] = []
    offset = 0
    for message in messages:
        size = int(message["DDBStreamBatchInfo"].get("batchSize", 1))
        if offset + size > first and offset < last:
            records = _records_of(container, streams, message)
            rows.extend(records[max(0, first - offset) : last - offset])
        offset += size
    return {
        "total": total,
        "batches": len(messages),
        "page": page,
        "pages": max(1, -(-total // limit)),
        "limit": limit,
        "records": rows,
    }


@dataclass(frozen=True)
class Cursor:
    workspace_id: str
    after: str

    def encode(self) -> str:
        raw = json.dumps({"ws": self.workspace_id, "after": self.after}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            return cls(str(value["ws"]), str(value["after"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a cursor this command printed") from exc


def quarantine_page(
    container: Any, workspaces: list[str], where: Any, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """A page of the quarantine of the workspaces (in order, each newest first), the total
    that matches, and the cursor of the next page (None: this was the last)."""
    total = sum(container.quarantine.count(ws, where) for ws in workspaces)
    start = Cursor.decode(cursor) if cursor else None
    ordered = sorted(workspaces)
    if start is not None:
        ordered = [ws for ws in ordered if ws >= start.workspace_id]
    entries: list[dict[str, Any]] = []
    next_cursor: str | None = None
    for ws in ordered:
        after = start.after if start is not None and ws == start.workspace_id else None
        found, more = container.quarantine.page(ws, limit - len(entries), after, where)
        entries.extend({"workspace_id": ws, **e} for e in found)
        if len(entries) == limit:
            if more is not None:
                next_cursor = Cursor(ws, more).encode()
            else:
                later = [w for w in ordered if w > ws]
                next_cursor = Cursor(later[0], "").encode() if later else None
            break
    return {"total": total, "shown": len(entries), "next_cursor": next_cursor, "quarantine": entries}
