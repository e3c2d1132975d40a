"""A local stand-in for Lambda's DynamoDB stream event source mapping.

It reads the real DynamoDB Streams API (of the embedded AWS), builds the same
event Lambda would, invokes the handler, honours `batchItemFailures` by
retrying from the first failed record, splits a batch in halves when the function
fails as a whole (BisectBatchOnFunctionError), and after `max_retries` sends the failed
records to an on-failure destination, as the deployed mapping does. The batch size,
retries and bisection come from the mapping's settings in infra/wiring.json
(`from_wiring`), the same the regional stack gets. moto wipes a stream when a Lambda
mapping is attached to it, so locally this poller replaces the mapping.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from patron.stack import INFRA

log = logging.getLogger("patron.poller")

Handler = Callable[[dict[str, Any], Any], Any]
FailureSink = Callable[[list[dict[str, Any]], str], None]


WIRING = INFRA / "wiring.json"


@dataclass(frozen=True)
class MappingSettings:
    """An event source mapping's batch size, retries and bisection (infra/wiring.json)."""

    batch_size: int
    max_retries: int
    bisect: bool


def mapping_settings(function_name: str, wiring: Path = WIRING) -> MappingSettings:
    """The settings of `function_name`'s event source mapping in the wiring file (its
    resource is the function's name in CamelCase, as Chalice names it). Lambda's defaults
    where the wiring says nothing: retries -1 (until the record expires; here: none
    given up) and no bisection."""
    resource = "".join(part.capitalize() for part in function_name.split("_"))
    events = json.loads(wiring.read_text())["Resources"][resource]["Properties"]["Events"]
    (event,) = events.values()
    props = event["Properties"]
    retries = int(props.get("MaximumRetryAttempts", -1))
    return MappingSettings(
        batch_size=int(props["BatchSize"]),
        max_retries=retries if retries >= 0 else 10_000,
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
    )


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    timeout_ms: int = 60_000
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - (time.monotonic() - self.started) * 1000))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """Shape a GetRecords record the way Lambda delivers it."""
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": _jsonable(record["dynamodb"]),
        "eventSourceARN": stream_arn,
    }


def failure_message(
    records: list[dict[str, Any]],
    shard: str,
    stream_arn: str,
    function_name: str = "",
    invocations: int = 4,
) -> dict[str, Any]:
    """What Lambda's on-failure destination receives for a stream batch it gave up on."""
    sequences = sorted((r["dynamodb"]["SequenceNumber"] for r in records), key=int)
    return {
        "requestContext": {
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:patron-local-{function_name}",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "functionError": None},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": sequences[0],
            "endSequenceNumber": sequences[-1],
            "approximateArrivalOfFirstRecord": datetime.now(UTC).isoformat(),
            "approximateArrivalOfLastRecord": datetime.now(UTC).isoformat(),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


@dataclass
class PollerStats:
    records: int = 0
    invocations: int = 0
    retries: int = 0
    failed_to_destination: int = 0
    bisections: int = 0  # batches split in halves after a function error
    empty_polls: int = 0  # rounds that found nothing new: the stream is caught up


class _BatchPoller:
    """What the stream and queue pollers share: invoking the handler as Lambda does
    (a raised error fails the whole batch), draining, and running until stopped."""

    kind = "stream"  # in log lines
    drain_rounds = 1000
    handler: Handler
    function_name: str
    stats: PollerStats

    def poll_once(self) -> int:
        raise NotImplementedError

    @staticmethod
    def record_id(record: dict[str, Any]) -> str:
        raise NotImplementedError

    def _invoke(self, batch: list[dict[str, Any]]) -> set[str]:
        """The ids of the records the handler reported failed (all of them if it raised)."""
        return self._call(batch)[0]

    def _call(self, batch: list[dict[str, Any]]) -> tuple[set[str], bool]:
        """(failed record ids, whether the function itself failed: an error, not a report)."""
        self.stats.invocations += 1
        try:
            response = self.handler({"Records": batch}, LambdaContext(self.function_name)) or {}
        except Exception:  # noqa: BLE001 - a function error, as Lambda sees it: the whole batch failed
            # (Powertools raises when every record of a batch failed.)
            log.warning("%s handler failed the whole batch of %d records", self.kind, len(batch))
            return {self.record_id(r) for r in batch}, True
        return {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}, False

    def drain(self, max_rounds: int | None = None) -> int:
        """Poll until a round finds nothing (tests and the demo use this)."""
        total = 0
        for _ in range(max_rounds or self.drain_rounds):
            n = self.poll_once()
            total += n
            if n == 0:
                return total
        return total

    def run(self, stop: threading.Event, interval: float = 0.1) -> None:
        while not stop.is_set():
            try:
                n = self.poll_once()
            except Exception:
                log.exception("%s poll failed", self.kind)
                n = 0
            if n == 0:
                stop.wait(interval)


class StreamPoller(_BatchPoller):
    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        function_name: str = "ingest_stream",
        batch_size: int = 100,
        max_retries: int = 5,
        on_failure: FailureSink | None = None,
        region: str = "us-east-1",
        duplicate_deliveries: bool = False,
        bisect: bool = True,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.bisect = bisect
        self.on_failure = on_failure
        self.region = region
        self.duplicate_deliveries = duplicate_deliveries
        self.stats = PollerStats()
        self._iterators: dict[str, str | None] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_wiring(
        cls,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        function_name: str,
        wiring: Path = WIRING,
        **kwargs: Any,
    ) -> StreamPoller:
        """A poller with the function's mapping settings from the wiring file (`kwargs`
        override them: tests that need more retries say so)."""
        settings = mapping_settings(function_name, wiring)
        options: dict[str, Any] = {
            "batch_size": settings.batch_size,
            "max_retries": settings.max_retries,
            "bisect": settings.bisect,
        }
        return cls(streams, stream_arn, handler, function_name=function_name, **(options | kwargs))

    def _shards(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(s["ShardId"] for s in description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def poll_once(self) -> int:
        """Read every shard once and deliver what is there. Returns records handled."""
        with self._lock:
            handled = 0
            for shard in self._shards():
                if shard not in self._iterators:
                    self._iterators[shard] = self.streams.get_shard_iterator(
                        StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
                pending = self._pending.setdefault(shard, [])
                iterator = self._iterators[shard]
                if iterator and len(pending) < self.batch_size:
                    response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                    self._iterators[shard] = response.get("NextShardIterator")
                    pending.extend(
                        lambda_record(r, self.stream_arn, self.region) for r in response["Records"]
                    )
                while pending:
                    batch = pending[: self.batch_size]
                    handled += self._deliver(shard, batch)
            if handled == 0:
                self.stats.empty_polls += 1
            return handled

    @staticmethod
    def record_id(record: dict[str, Any]) -> str:
        return str(record["dynamodb"]["SequenceNumber"])

    def _deliver(self, shard: str, batch: list[dict[str, Any]]) -> int:
        """Deliver the batch at the head of the shard's pending records; returns how many
        records are done with (handled, or given to the on-failure destination)."""
        self._process(shard, batch, 0)
        del self._pending[shard][: len(batch)]
        self.stats.records += len(batch)
        return len(batch)

    def _process(self, shard: str, batch: list[dict[str, Any]], attempts: int) -> None:
        """As a mapping with ReportBatchItemFailures: a reported failure checkpoints before
        the first failed record and retries from there; a function error (the handler
        raised) splits the batch in halves, each delivered in order on its own, when
        bisection is on (a split is not a retry: a poison record is isolated however big
        the batch); after `max_retries` the failed records go to the destination and the
        rest carries on."""
        while batch:
            failed, errored = self._call(batch)
            if self.duplicate_deliveries and not failed:
                failed, errored = self._call(batch)  # at-least-once: the same batch again
            if not failed:
                return
            if errored and self.bisect and len(batch) > 1:
                self.stats.bisections += 1
                half = len(batch) // 2
                self._process(shard, batch[:half], attempts)
                self._process(shard, batch[half:], attempts)
                return
            # Lambda checkpoints before the first failure and retries from there.
            first = min(i for i, r in enumerate(batch) if self.record_id(r) in failed)
            batch = batch[first:]
            attempts += 1
            self.stats.retries += 1
            if attempts > self.max_retries:
                bad = [r for r in batch if self.record_id(r) in failed]
                log.warning(
                    "stream records sent to the on-failure destination after %d retries: %d (%s)",
                    self.max_retries,
                    len(bad),
                    ", ".join(self.record_id(r) for r in bad),  # sequence numbers; the reasons: dlq list
                )
                if self.on_failure is not None:
                    self.on_failure(bad, shard)
                self.stats.failed_to_destination += len(bad)
                # Like a mapping after its retries: skip what failed, keep the rest.
                batch = [r for r in batch if self.record_id(r) not in failed]
                attempts = 0


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """Shape a ReceiveMessage message the way Lambda delivers it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller(_BatchPoller):
    """A local stand-in for Lambda's SQS event source mapping (ReportBatchItemFailures).

    Receives up to `batch_size` messages, invokes the handler, deletes the messages that
    did not fail and makes the failed ones visible again at once (the queue's redrive
    policy moves a message to its dead-letter queue after its receives run out). With
    `duplicate_deliveries`, every batch is handed to the handler twice, as an
    at-least-once queue may."""

    kind = "queue"
    drain_rounds = 100_000

    @staticmethod
    def record_id(record: dict[str, Any]) -> str:
        return str(record["messageId"])

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 10,
        region: str = "us-east-1",
        duplicate_deliveries: bool = False,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.region = region
        self.duplicate_deliveries = duplicate_deliveries
        self.stats = PollerStats()
        self._lock = threading.Lock()

    def poll_once(self) -> int:
        with self._lock:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                VisibilityTimeout=60,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                self.stats.empty_polls += 1
                return 0
            batch = [sqs_record(m, self.queue_arn, self.region) for m in messages]
            failed = self._invoke(batch)
            if self.duplicate_deliveries:
                failed |= self._invoke(batch)
            for message in messages:
                if message["MessageId"] in failed:
                    self.stats.retries += 1
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    self.stats.records += 1
            return len(messages)
