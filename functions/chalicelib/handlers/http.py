"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from chalice import ChaliceViewError, Response
from pydantic import BaseModel, ConfigDict

from chalicelib.domain import errors

if TYPE_CHECKING:
    from chalice.app import Request

logger = Logger(service="patron")
metrics = Metrics(namespace="Patron", service="patron")

STATUS: dict[type[errors.PatronError], int] = {
    errors.BadRequest: 400,
    errors.InvalidPayload: 400,
    errors.Unauthorized: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.TooManyRequests: 429,
    errors.StoreFailed: 502,
}


def json_response(body: Any, status: int = 200) -> Response:
    text = body.model_dump_json() if hasattr(body, "model_dump_json") else json.dumps(body, default=str)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json"})


class ErrorBody(BaseModel):
    """The one error shape of every route, Chalice's own refusals included (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")

    error: str  # a stable snake_case code: unauthorized, not_found, invalid_json, conflict...
    message: str  # for a person; no personal data, no stack trace
    details: Any = None  # the field errors of a 400 [{"field", "error"}], a 409's `reason`...
    quarantine_id: str | None = None  # a well-signed webhook body kept in the quarantine


def error_body(status: int, error: str, message: str, details: Any = None) -> Response:
    body = ErrorBody(error=error, message=message, details=details)
    return json_response(body.model_dump(mode="json", exclude_none=True), status)


def error_response(exc: errors.PatronError) -> Response:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)
    quarantine = exc.quarantine_id if isinstance(exc, errors.InvalidPayload) else None
    body = ErrorBody(
        error=exc.code, message=exc.message, details=exc.details, quarantine_id=quarantine or None
    )
    response = json_response(body.model_dump(mode="json", exclude_none=True), status)
    if isinstance(exc, errors.TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def api(view: Callable[..., Any]) -> Callable[..., Response]:
    """Wrap a view: models become JSON, domain errors become their status code, and any
    other exception a 500 `internal_error` logged without its message (no personal data)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            result = view(*args, **kwargs)
        except errors.PatronError as exc:
            return error_response(exc)
        except ChaliceViewError:
            raise  # Chalice's own refusal (e.g. a body that is not JSON): one_error_shape reshapes it
        except Exception as exc:  # noqa: BLE001 - the one place an unexpected failure is answered
            return internal_error(exc)
        return result if isinstance(result, Response) else json_response(result)

    wrapper.patron_api = True  # type: ignore[attr-defined]
    return wrapper


def internal_error(exc: BaseException) -> Response:
    """A 500 without the stack trace; logged by its type and frames (file, line, function),
    never its message or values, which may hold personal data."""
    frames = [
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
    ]
    logger.error("unhandled exception", extra={"exception_type": type(exc).__name__, "frames": frames[-8:]})
    return error_body(500, "internal_error", "an internal error occurred")


# Chalice's own refusals ({"Code", "Message"}) -> the app's error code; the message is kept.
CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "bad_request",
    "EntityTooLargeError": "payload_too_large",
    "TooManyRequestsError": "too_many_requests",
    "UnprocessableEntityError": "unprocessable_entity",
}


def _chalice_code(code: str, message: str) -> str:
    if code == "BadRequestError" and message == "Error Parsing JSON":
        return "invalid_json"
    if code in CHALICE_CODES:
        return CHALICE_CODES[code]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", code.removesuffix("Error")).lower() or "error"


# The routes anyone may call (signed webhooks, signed links; the spec and the console when
# they exist) and the catch-all routes (not_found.py); every other route needs the key.
PUBLIC_ROUTES = re.compile(r"^/(webhooks/|join/|unsubscribe/|csat/|openapi\.json$|console)")
CATCH_ALL = ("/", "/{proxy+}")


def is_public(resource_path: str) -> bool:
    return resource_path in CATCH_ALL or PUBLIC_ROUTES.match(resource_path) is not None


Middleware = Callable[["Request", Callable[["Request"], Response]], Response]


def error_shape(authenticate: Callable[[], object]) -> Middleware:
    """The app's "http" middleware: whatever answers, an error leaves in the ErrorBody shape.
    Chalice's own refusals (405, 415, a body that is not JSON, a 500 it caught) are reshaped;
    an exception that reaches here is a 500 `internal_error`. Chalice refuses a method or a
    Content-Type before any view runs: on a route that needs the key, `authenticate` (the
    views' own check) runs first, so an unauthenticated caller gets its 401 instead."""

    def one_error_shape(request: Request, get_response: Callable[[Request], Response]) -> Response:
        try:
            response = get_response(request)
        except Exception as exc:  # noqa: BLE001 - nothing escapes in Chalice's shape
            return internal_error(exc)
        status, body = response.status_code, response.body
        if status < 400:
            return response
        chalice = isinstance(body, dict) and "Code" in body
        if status >= 500 and (chalice or not _in_error_shape(body)):  # a stack trace in debug mode too
            shaped = error_body(status, "internal_error", "an internal error occurred")
        elif chalice:
            if status in (405, 415) and request is not None and not is_public(request.path):
                try:
                    authenticate()
                except errors.PatronError as exc:
                    return error_response(exc)
                except Exception as exc:  # noqa: BLE001 - the key's store failing, say
                    return internal_error(exc)
            message = str(body.get("Message", ""))
            shaped = error_body(status, _chalice_code(str(body.get("Code", "")), message), message)
        else:
            return response
        for name, value in response.headers.items():
            if name.lower() != "content-type":  # Allow (405) and CORS headers are kept
                shaped.headers[name] = value
        return shaped

    return one_error_shape


def _in_error_shape(body: Any) -> bool:
    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        return False
    return isinstance(parsed, dict) and "error" in parsed and "message" in parsed


def bearer_key_hash(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise errors.Unauthorized("missing bearer API key")
    key = authorization[len("Bearer ") :].strip()
    if not key:
        raise errors.Unauthorized("missing bearer API key")
    return hashlib.sha256(key.encode()).hexdigest()


def key_actor(authorization: str | None) -> str:
    """Who an API request is, for the audits: `key:` and its key's hash's first 12 hex digits
    (the key itself is never kept)."""
    return "key:" + bearer_key_hash(authorization)[:12]


def count(name: str, value: float = 1, **dimensions: str) -> None:
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    if dimensions:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace="Patron") as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
    else:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def json_object(blueprint: Any) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    from chalice import BadRequestError

    try:
        body = blueprint.current_request.json_body
    except BadRequestError as exc:
        raise errors.InvalidJson("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise errors.BadRequest("expected a JSON object")
    return body


M = TypeVar("M", bound=BaseModel)


def query_limit(params: dict[str, str], default: int, most: int | None = None) -> int:
    """`?limit=`: a whole number (400 otherwise), kept between 1 and `most` when given."""
    try:
        limit = int(params.get("limit", str(default)))
    except ValueError as exc:
        raise errors.BadRequest(
            "limit must be a number", [{"field": "limit", "error": "not a number"}]
        ) from exc
    return limit if most is None else max(1, min(limit, most))


def query_cursor(params: dict[str, str], prefix: str, longest: int) -> str | None:
    """`?cursor=`: one this API gave (its sort-key prefix, at most `longest` characters), or None."""
    cursor = params.get("cursor") or None
    if cursor is not None and (len(cursor) > longest or not cursor.startswith(prefix)):
        raise errors.BadRequest("cursor is not one this API gave", [{"field": "cursor", "error": "invalid"}])
    return cursor


def model_body(model: type[M], raw: str | bytes | None, what: str, empty: bytes = b"") -> M:
    """The request body as the pydantic `model` (an empty body read as `empty`); a body it
    refuses is a 400 naming each field (`invalid <what>`)."""
    from pydantic import ValidationError

    from chalicelib.parsers import field_errors

    try:
        return model.model_validate_json(raw or empty)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise errors.InvalidJson("the body is not JSON") from exc
        raise errors.BadRequest(f"invalid {what}", field_errors(exc)) from exc


def model_query(model: type[M], params: dict[str, str], what: str) -> M:
    """Query parameters as the pydantic `model`; ones it refuses are a 400 naming each field
    (`invalid <what>`), as `model_body` answers for a body."""
    from pydantic import ValidationError

    from chalicelib.parsers import field_errors

    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise errors.BadRequest(f"invalid {what}", field_errors(exc)) from exc


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.BadRequest(f"{name} is required", [{"field": name, "error": "missing"}])
    return value
