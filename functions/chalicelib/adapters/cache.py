"""A small TTL cache for values that a warm Lambda may reuse (sources, secrets, settings)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic, negative_seconds: float = 0
    ) -> None:
        self.seconds = seconds
        self.negative_seconds = negative_seconds  # how long "not found" (None) is remembered
        self.clock = clock
        self._values: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T]) -> T:
        now = self.clock()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        ttl = self.seconds if value is not None else self.negative_seconds
        if ttl > 0:
            with self._lock:
                self._values[key] = (now + ttl, value)
        return value

    def invalidate(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._values.clear()
            else:
                self._values.pop(key, None)
