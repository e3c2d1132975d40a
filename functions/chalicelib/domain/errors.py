"""Domain errors. The HTTP layer maps these to status codes in one place."""

from __future__ import annotations

from typing import Any


class PatronError(Exception):
    """Base of every error the API reports to a caller."""

    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(PatronError):
    code = "unauthorized"


class NotFound(PatronError):
    code = "not_found"


class InvalidPayload(PatronError):
    """A well-signed body that could not be parsed; it was quarantined."""

    code = "invalid_payload"

    def __init__(self, message: str, details: Any = None, quarantine_id: str | None = None):
        super().__init__(message, details)
        self.quarantine_id = quarantine_id


class BadRequest(PatronError):
    code = "bad_request"


class PayloadTooLarge(PatronError):
    code = "payload_too_large"


class TooManyRequests(PatronError):
    """Over the workspace's request limit: try again after `retry_after` seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after})
        self.retry_after = retry_after


class StoreFailed(PatronError):
    """A store did not do what was asked (its Admin API failed for good): 502."""

    code = "store_failed"


class Conflict(PatronError):
    """Optimistic-lock conflict; the caller retries."""

    code = "conflict"


class InvalidJson(BadRequest):
    """A body that is not JSON at all (a body that is JSON but not what the route takes is a
    BadRequest naming its fields)."""

    code = "invalid_json"
