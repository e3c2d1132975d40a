"""SQS queue depths for the ops health (domain/ops_ports.QueueDepths)."""

from __future__ import annotations

from typing import Any


class SqsQueueDepths:
    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs

    def depth(self, queue_url: str) -> int:
        found = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(found["Attributes"]["ApproximateNumberOfMessages"])
