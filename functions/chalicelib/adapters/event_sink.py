"""Domain events sent to SQS in batches."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.retry import DEFAULT, Backoff, send_message_batch


class SqsEventSink:
    """Segment enter/exit events to the stage's queue, ten per request. Entries the answer
    lists as `Failed` are sent again with backoff; if they still fail it raises, so the
    stream record fails and is retried (no event is dropped without a trace)."""

    def __init__(self, client: Any, queue_url: str, backoff: Backoff = DEFAULT) -> None:
        self._client = client
        self.queue_url = queue_url
        self.backoff = backoff

    def publish(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 10):
            chunk = events[start : start + 10]
            send_message_batch(
                self._client,
                self.queue_url,
                [{"Id": str(i), "MessageBody": json.dumps(event)} for i, event in enumerate(chunk)],
                self.backoff,
            )
