"""The local stand-in for Lambda's stream event source mapping, against a fake Streams API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from patron.poller import WIRING, StreamPoller, failure_message, mapping_settings

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026"


class FakeStreams:
    """One shard holding records 1..n; GetRecords pages through them."""

    def __init__(self, n: int) -> None:
        self.records = [
            {
                "eventID": f"e{i}",
                "eventName": "INSERT",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": {"S": f"k{i}"}},
                    "SequenceNumber": str(100 + i),
                    "NewImage": {"pk": {"S": f"k{i}"}},
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for i in range(1, n + 1)
        ]

    def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


class Handler:
    """Fails the records whose key is in `poison`; remembers every batch it saw."""

    def __init__(self, poison: set[str]) -> None:
        self.poison = poison
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        self.batches.append(keys)
        assert all(
            r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"] == ARN for r in event["Records"]
        )
        assert context.get_remaining_time_in_millis() > 0
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in event["Records"]
                if r["dynamodb"]["Keys"]["pk"]["S"] in self.poison
            ]
        }


def test_clean_batches_are_delivered_once_in_order():
    handler = Handler(set())
    poller = StreamPoller(FakeStreams(5), ARN, handler, batch_size=2)
    assert poller.drain() == 5
    assert handler.batches == [["k1", "k2"], ["k3", "k4"], ["k5"]]
    assert poller.stats.empty_polls == 1


def test_a_failure_retries_from_the_first_failed_record_then_goes_to_the_destination():
    # Given a batch whose third record always fails
    sent: list[tuple[list[dict[str, Any]], str]] = []
    handler = Handler({"k3"})
    poller = StreamPoller(
        FakeStreams(5),
        ARN,
        handler,
        batch_size=5,
        max_retries=2,
        on_failure=lambda records, shard: sent.append((records, shard)),
    )
    # When the stream is drained
    poller.drain()
    # Then the records before it were checkpointed, retries restart at it, it is handed to
    # the on-failure destination after the retries, and the records after it still arrive
    assert handler.batches[0] == ["k1", "k2", "k3", "k4", "k5"]
    assert handler.batches[1:3] == [["k3", "k4", "k5"], ["k3", "k4", "k5"]]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in sent[0][0]] == ["k3"]
    assert handler.batches[-1] == ["k4", "k5"]
    assert poller.stats.failed_to_destination == 1


def test_failure_message_has_lambdas_on_failure_shape():
    records = FakeStreams(3).records
    message = failure_message(records, "shard-1", ARN)
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("101", "103", 3)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_function_error_fails_the_whole_batch_like_lambda():
    # Given a handler that raises when every record of its batch fails (as Powertools does)
    sent: list[list[dict[str, Any]]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if all(r["dynamodb"]["Keys"]["pk"]["S"] == "k2" for r in event["Records"]):
            raise RuntimeError("All records failed processing")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in event["Records"]
                if r["dynamodb"]["Keys"]["pk"]["S"] == "k2"
            ]
        }

    poller = StreamPoller(
        FakeStreams(3),
        ARN,
        handler,
        batch_size=1,
        max_retries=1,
        on_failure=lambda records, shard: sent.append(records),
    )
    # When drained, Then the failing record goes to the destination and the rest is delivered
    assert poller.drain() == 3
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in batch] for batch in sent] == [["k2"]]


def wiring_file(tmp_path: Path, batch_size: int, retries: int, bisect: bool) -> Path:
    """A copy of infra/wiring.json whose ingest stream mapping has other settings."""
    wiring = json.loads(WIRING.read_text())
    props = wiring["Resources"]["IngestStream"]["Properties"]["Events"]["IngestTableStream"]["Properties"]
    props.update(BatchSize=batch_size, MaximumRetryAttempts=retries, BisectBatchOnFunctionError=bisect)
    path = tmp_path / "wiring.json"
    path.write_text(json.dumps(wiring))
    return path


def crashing_on(poison: str, seen: list[list[str]]) -> Any:
    """A function that fails as a whole (raises) whenever its batch holds the poison record."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        seen.append(keys)
        if poison in keys:
            raise RuntimeError("function error")
        return {"batchItemFailures": []}

    return handler


def test_the_local_mapping_takes_its_settings_from_the_wiring_file(tmp_path):
    # Given the regional stack's wiring, and a copy with other values
    props = json.loads(WIRING.read_text())["Resources"]["ProfileStream"]["Properties"]["Events"]
    regional = props["CrmTableStream"]["Properties"]
    other = wiring_file(tmp_path, batch_size=3, retries=2, bisect=False)
    # When the local mappings are configured from them
    real = mapping_settings("profile_stream")
    poller = StreamPoller.from_wiring(FakeStreams(7), ARN, Handler({"k5"}), "ingest_stream", wiring=other)
    # Then they take the stack's retries, bisection and batch size
    assert (real.max_retries, real.bisect, real.batch_size) == (
        regional["MaximumRetryAttempts"],
        regional["BisectBatchOnFunctionError"],
        regional["BatchSize"],
    )
    assert (poller.max_retries, poller.bisect, poller.batch_size) == (2, False, 3)
    # and deliver by them: batches of 3, the failing record tried 1 + 2 times, then given up
    poller.drain()
    assert poller.handler.batches[0] == ["k1", "k2", "k3"]
    assert sum("k5" in batch for batch in poller.handler.batches) == 1 + 2
    assert poller.stats.failed_to_destination == 1


def test_bisect_on_function_error_isolates_a_poison_record(tmp_path):
    # Given a mapping wired with bisection and 2 retries, and a function that crashes on
    # any batch holding record k6
    sent: list[list[str]] = []
    seen: list[list[str]] = []
    poller = StreamPoller.from_wiring(
        FakeStreams(8),
        ARN,
        crashing_on("k6", seen),
        "ingest_stream",
        wiring=wiring_file(tmp_path, batch_size=8, retries=2, bisect=True),
        on_failure=lambda records, shard: sent.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in records]),
    )
    # When the stream is drained
    assert poller.drain() == 8
    # Then the batch was split in halves down to the poison record alone, which went to the
    # destination after its retries, and every other record was delivered, in order
    assert seen[:4] == [
        [f"k{i}" for i in range(1, 9)],
        ["k1", "k2", "k3", "k4"],
        ["k5", "k6", "k7", "k8"],
        ["k5", "k6"],
    ]
    assert sent == [["k6"]]
    assert seen.count(["k6"]) == 1 + 2
    delivered = [k for batch in seen if "k6" not in batch for k in batch]
    assert delivered == ["k1", "k2", "k3", "k4", "k5", "k7", "k8"]
    assert poller.stats.bisections == 3


def test_without_bisection_a_crashing_batch_goes_to_the_destination_whole(tmp_path):
    # Given the same crash on k6, wired without bisection
    sent: list[list[str]] = []
    poller = StreamPoller.from_wiring(
        FakeStreams(8),
        ARN,
        crashing_on("k6", []),
        "ingest_stream",
        wiring=wiring_file(tmp_path, batch_size=8, retries=1, bisect=False),
        on_failure=lambda records, shard: sent.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in records]),
    )
    # When drained, Then the innocent records are lost with it (what bisection prevents)
    poller.drain()
    assert sent == [[f"k{i}" for i in range(1, 9)]]
