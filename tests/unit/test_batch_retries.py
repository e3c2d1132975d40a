"""Partial answers of batch calls are retried with backoff, bounded, then raised: injected
through botocore's Stubber (no request leaves the process, nothing sleeps)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.codec import batch_get
from chalicelib.adapters.event_sink import SqsEventSink
from chalicelib.adapters.retry import Backoff, BatchIncomplete

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/segment-events"


class Pauses:
    """Records the pauses instead of sleeping; the jitter draws its maximum."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def backoff(self, attempts: int = 4) -> Backoff:
        return Backoff(attempts=attempts, base=0.1, cap=0.3, sleep=self.slept.append, random=lambda: 1.0)


def sqs() -> object:
    return boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def ddb() -> object:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def entries(ids: list[str], events: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"Id": i, "MessageBody": json.dumps(events[int(i)])} for i in ids]


def failed(*ids: str, sender: bool = False) -> list[dict[str, object]]:
    return [{"Id": i, "SenderFault": sender, "Code": "InternalError"} for i in ids]


def test_failed_send_message_batch_entries_are_sent_again_after_a_pause():
    # Given three segment events, and SQS failing two of them, then one, then none
    events = [{"e": "enter", "n": str(n)} for n in range(3)]
    client, pauses = sqs(), Pauses()
    with Stubber(client) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": failed("1", "2")},
            {"QueueUrl": QUEUE, "Entries": entries(["0", "1", "2"], events)},
        )
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": failed("2")},
            {"QueueUrl": QUEUE, "Entries": entries(["1", "2"], events)},
        )
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": []},
            {"QueueUrl": QUEUE, "Entries": entries(["2"], events)},
        )
        # When they are published
        SqsEventSink(client, QUEUE, pauses.backoff()).publish(events)
        # Then only the failed entries were sent again, after growing pauses
        stub.assert_no_pending_responses()
    assert pauses.slept == [pytest.approx(0.1), pytest.approx(0.2)]


def test_send_message_batch_entries_that_keep_failing_raise_after_the_last_attempt():
    # Given SQS failing one entry on every attempt
    events = [{"e": "exit", "n": "0"}, {"e": "exit", "n": "1"}]
    client, pauses = sqs(), Pauses()
    with Stubber(client) as stub:
        stub.add_response("send_message_batch", {"Successful": [], "Failed": failed("1")})
        for _ in range(2):
            stub.add_response(
                "send_message_batch",
                {"Successful": [], "Failed": failed("1")},
                {"QueueUrl": QUEUE, "Entries": entries(["1"], events)},
            )
        # When they are published, Then it raises (the stream record fails and is retried)
        with pytest.raises(BatchIncomplete) as raised:
            SqsEventSink(client, QUEUE, pauses.backoff(attempts=3)).publish(events)
        stub.assert_no_pending_responses()
    assert raised.value.left == 1 and raised.value.codes == ["InternalError"]
    # and the pauses were capped
    assert pauses.slept == [pytest.approx(0.1), pytest.approx(0.2)]


def test_a_sender_fault_is_not_retried():
    # Given SQS refusing an entry as the sender's fault
    client, pauses = sqs(), Pauses()
    with Stubber(client) as stub:
        stub.add_response("send_message_batch", {"Successful": [], "Failed": failed("0", sender=True)})
        # When published, Then it raises at once without a pause
        with pytest.raises(BatchIncomplete):
            SqsEventSink(client, QUEUE, pauses.backoff()).publish([{"e": "enter"}])
        stub.assert_no_pending_responses()
    assert pauses.slept == []


def key(n: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"k{n}"}, "sk": {"S": "P"}}


def test_unprocessed_keys_are_asked_again_with_exponential_pauses():
    # Given DynamoDB leaving two keys, then one key unprocessed
    client, pauses = ddb(), Pauses()
    with Stubber(client) as stub:
        stub.add_response(
            "batch_get_item",
            {"Responses": {"t": [key(1)]}, "UnprocessedKeys": {"t": {"Keys": [key(2), key(3)]}}},
            {"RequestItems": {"t": {"Keys": [key(1), key(2), key(3)], "ConsistentRead": True}}},
        )
        stub.add_response(
            "batch_get_item",
            {"Responses": {"t": [key(2)]}, "UnprocessedKeys": {"t": {"Keys": [key(3)]}}},
            {"RequestItems": {"t": {"Keys": [key(2), key(3)]}}},
        )
        stub.add_response(
            "batch_get_item",
            {"Responses": {"t": [key(3)]}, "UnprocessedKeys": {}},
            {"RequestItems": {"t": {"Keys": [key(3)]}}},
        )
        # When the three are read
        items = batch_get(client, "t", [key(1), key(2), key(3)], consistent=True, backoff=pauses.backoff())
        stub.assert_no_pending_responses()
    # Then every item came back, after two growing pauses (no tight loop)
    assert sorted(i["pk"] for i in items) == ["k1", "k2", "k3"]
    assert pauses.slept == [pytest.approx(0.1), pytest.approx(0.2)]


def test_keys_that_stay_unprocessed_raise_after_the_last_attempt():
    # Given DynamoDB never processing one key
    client, pauses = ddb(), Pauses()
    with Stubber(client) as stub:
        for _ in range(4):
            stub.add_response(
                "batch_get_item", {"Responses": {"t": []}, "UnprocessedKeys": {"t": {"Keys": [key(1)]}}}
            )
        # When it is read, Then it raises after the bounded attempts, having paused before each retry
        with pytest.raises(BatchIncomplete, match="1 still unprocessed after 4 attempts"):
            batch_get(client, "t", [key(1)], backoff=pauses.backoff())
        stub.assert_no_pending_responses()
    assert pauses.slept == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3)]
