"""One HTTP exchange with a store's Admin API, and the retry rules both clients share.

The standard library's urllib does the I/O; `Transport` is the seam. Waiting goes through an
injected `sleep` so tests record the waits instead of sleeping. Credentials travel in headers
only and never appear in an error message.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.domain.store_admin import AdminApiError, AdminUnavailable

Sleep = Callable[[float], None]
USER_AGENT = "Patron/1 (+https://github.com/patron-crm)"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise AdminApiError(f"the store answered {self.status} with a body that is not JSON") from exc


class Transport(Protocol):
    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> HttpResponse: ...


def urllib_transport(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
) -> HttpResponse:
    """The production transport: an HTTP error status is a response, not an exception."""
    if not url.startswith(("https://", "http://")):
        raise AdminApiError("the Admin API endpoint must be an http(s) URL")
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (scheme checked)
            return HttpResponse(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, _lower(exc.headers.items()), exc.read())


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


@dataclass
class RetryPolicy:
    """Up to `attempts` tries of one request: 429 and 5xx answers, timeouts and refused
    connections are tried again after `Retry-After` (seconds or an HTTP date) when the store
    sends one, else after base * 2**n seconds, at most `cap`."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 30.0
    timeout: float = 20.0
    sleep: Sleep = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def backoff(self, retry: int, response: HttpResponse | None) -> float:
        hinted = retry_after(response.headers.get("retry-after"), self.now()) if response else None
        if hinted is not None:
            return min(hinted, self.cap)
        return float(min(self.base * 2**retry, self.cap))


def retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def send_once(
    transport: Transport,
    policy: RetryPolicy,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> HttpResponse | str:
    """One try: the answer, or why there was none (a timeout, a refused connection)."""
    try:
        return transport(method, url, {"User-Agent": USER_AGENT, **headers}, body, policy.timeout)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        return f"unreachable ({type(exc).__name__})"


def exchange(
    transport: Transport,
    policy: RetryPolicy,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> HttpResponse:
    """One request, retried by the policy; the first answer that is not retryable is returned
    (the caller reads its status). Gives up with AdminUnavailable after `attempts` tries."""
    last = "no answer"
    for attempt in range(policy.attempts):
        response = send_once(transport, policy, method, url, headers, body)
        if isinstance(response, HttpResponse) and not retryable(response.status):
            return response
        last = response if isinstance(response, str) else f"HTTP {response.status}"
        if attempt + 1 < policy.attempts:
            policy.sleep(policy.backoff(attempt, response if isinstance(response, HttpResponse) else None))
    raise gave_up(policy, last, method, url)


def gave_up(policy: RetryPolicy, last: str, method: str, url: str) -> AdminUnavailable:
    return AdminUnavailable(
        f"the store's Admin API gave up after {policy.attempts} tries ({last}): {method} {_path(url)}"
    )


def _path(url: str) -> str:
    """The URL without its query string (which may carry a page cursor, never a secret)."""
    return url.split("?", 1)[0]
