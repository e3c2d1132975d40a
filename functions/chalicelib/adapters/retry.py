"""Bounded retries with exponential backoff and full jitter for the partial answers of
batch calls (SendMessageBatch `Failed`, BatchGetItem `UnprocessedKeys`, BatchWriteItem
`UnprocessedItems`): what is left is asked again after a growing, jittered pause, and
after the last attempt the call raises instead of dropping it or spinning.

The pause is injectable (`sleep`, `random`) so tests run without sleeping."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class BatchIncomplete(RuntimeError):
    """Part of a batch call still failed after every attempt (nothing is dropped silently)."""

    def __init__(self, message: str, left: int, codes: list[str] | None = None) -> None:
        super().__init__(message)
        self.left = left
        self.codes = codes or []


@dataclass(frozen=True)
class Backoff:
    """`attempts` calls in all; before call n+1 a pause drawn from [0, min(cap, base * 2**n)]."""

    attempts: int = 6
    base: float = 0.05
    cap: float = 2.0
    sleep: Callable[[float], Any] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=_random.random, compare=False)

    def pause(self, retry: int) -> float:
        """Sleep before retry number `retry` (0 for the first retry); returns the pause."""
        seconds = self.random() * min(self.cap, self.base * (2**retry))
        self.sleep(seconds)
        return seconds


DEFAULT = Backoff()


def send_message_batch(
    client: Any, queue_url: str, entries: list[dict[str, Any]], backoff: Backoff = DEFAULT
) -> None:
    """SendMessageBatch that resends the entries the answer lists as `Failed` (a sender
    fault will not heal: it raises at once) and raises BatchIncomplete if any still fail."""
    pending = list(entries)
    codes: list[str] = []
    for attempt in range(backoff.attempts):
        if attempt:
            backoff.pause(attempt - 1)
        response = client.send_message_batch(QueueUrl=queue_url, Entries=pending)
        failed = {f["Id"]: f for f in response.get("Failed", [])}
        if not failed:
            return
        codes = sorted({str(f.get("Code", "?")) for f in failed.values()})
        if any(f.get("SenderFault") for f in failed.values()):
            raise BatchIncomplete(
                f"SendMessageBatch refused {len(failed)} entries (sender fault: {', '.join(codes)})",
                len(failed),
                codes,
            )
        pending = [e for e in pending if e["Id"] in failed]
    raise BatchIncomplete(
        f"SendMessageBatch: {len(pending)} entries still failed after {backoff.attempts} attempts "
        f"({', '.join(codes)})",
        len(pending),
        codes,
    )


def drain_unprocessed(
    call: Callable[[dict[str, Any]], dict[str, Any]],
    request: dict[str, Any],
    unprocessed: str,
    what: str,
    backoff: Backoff = DEFAULT,
) -> None:
    """Call `call(request)` until its answer leaves nothing under `unprocessed`, backing off
    between the calls; raises BatchIncomplete when attempts run out."""
    pending = request
    for attempt in range(backoff.attempts):
        if attempt:
            backoff.pause(attempt - 1)
        pending = call(pending).get(unprocessed) or {}
        if not pending:
            return
    left = sum(len(v.get("Keys", v) if isinstance(v, dict) else v) for v in pending.values())
    raise BatchIncomplete(f"{what}: {left} still unprocessed after {backoff.attempts} attempts", left)
