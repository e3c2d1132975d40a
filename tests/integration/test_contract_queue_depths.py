"""QueueDepths contract (domain/ops_ports.py): SqsQueueDepths on moto and an in-memory fake
count the messages waiting on a dead-letter queue, each queue apart, in-flight ones left out."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.queue_depths import SqsQueueDepths
from tests.contract import MotoStage, moto_stage, port_fixture
from tests.fakes_console import FakeQueueDepths

__all__ = ["moto_stage"]


class SqsDepthsOnMoto(SqsQueueDepths):
    """The adapter, with the two moves a test needs made through SQS itself."""

    def __init__(self, stage: MotoStage) -> None:
        super().__init__(stage.client("sqs"))
        info = stage.info
        self.urls = {
            "campaign_batches": str(info.campaign_dlq_url),
            "stream_failures": info.stream_failure_queue_url,
        }

    def put(self, url: str) -> None:
        self.sqs.send_message(QueueUrl=url, MessageBody="{}")

    def take(self, url: str) -> None:
        found: dict[str, Any] = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)
        assert len(found["Messages"]) == 1


depths = port_fixture(FakeQueueDepths, SqsDepthsOnMoto)


def test_an_empty_queue_has_no_depth(depths):
    # Given the stage's dead-letter queues, when nothing failed, Then each is at 0
    assert [depths.depth(url) for url in depths.urls.values()] == [0, 0]


def test_each_queue_counts_its_own_waiting_messages_not_the_ones_in_flight(depths):
    # Given three campaign batches dead-lettered and one stream failure
    campaign, stream = depths.urls["campaign_batches"], depths.urls["stream_failures"]
    for _ in range(3):
        depths.put(campaign)
    depths.put(stream)
    # When one batch is received (in flight, as `patron dlq redrive` takes it)
    depths.take(campaign)
    # Then each queue shows its own waiting messages
    assert (depths.depth(campaign), depths.depth(stream)) == (2, 1)
